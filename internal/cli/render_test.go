package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func runRender(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"render", "k8s"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestRenderK8s(t *testing.T) {
	dir := t.TempDir()
	crypto := filepath.Join(dir, "crypto")
	cr := filepath.Join(dir, "network.yaml")
	if err := os.WriteFile(cr, []byte(`apiVersion: weft.dev/v1alpha1
kind: Network
metadata:
  name: prod
spec:
  orderer: {org: OrdererOrg, domain: example.com, nodes: 1}
  orgs:
    - {name: Org1, domain: org1.example.com, peers: 2, users: 0}
  exposure: {type: NodePort, externalAddress: 10.0.0.5}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	first, stderr, code := runRender(t, "-f", cr, "--crypto", crypto)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	second, _, _ := runRender(t, "-f", cr, "--crypto", crypto)
	if first != second {
		t.Error("rendering twice with the same --crypto differs")
	}
	docs := strings.Split(first, "---\n")
	var kinds []string
	for _, d := range docs[1:] {
		var head struct{ Kind string }
		if err := yaml.Unmarshal([]byte(d), &head); err != nil {
			t.Fatalf("document does not parse: %v", err)
		}
		kinds = append(kinds, head.Kind)
	}
	if kinds[0] != "Namespace" || !strings.Contains(first, "name: prod-org1") || !strings.Contains(first, "nodePort: 30701") {
		t.Errorf("unexpected output; kinds %v", kinds)
	}
	j, _, code := runRender(t, "-f", cr, "--crypto", crypto, "-o", "json")
	if code != 0 || !strings.HasPrefix(j, "{") || !strings.Contains(j, `"kind": "List"`) {
		t.Errorf("json output (exit %d): %.80s", code, j)
	}
}

func TestRenderK8sRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"output", []string{"-o", "xml"}, "--output"},
		{"kind", []string{"-f", write("pod.yaml", "apiVersion: v1\nkind: Pod\n")}, "want weft.dev/v1alpha1 Network"},
		{"setting", []string{"-f", write("bad.yaml", "apiVersion: weft.dev/v1alpha1\nkind: Network\nmetadata: {name: x}\nspec:\n  orderer: {org: O, domain: o.com, nodes: 1}\n  orgs: [{name: A, domain: a.com, peers: 1}]\n  exposure: {type: Ingress}\n")}, "spec.exposure.hostSuffix"},
		{"unknown field", []string{"-f", write("typo.yaml", "apiVersion: weft.dev/v1alpha1\nkind: Network\nmetadata: {name: x}\nspec:\n  ordrer: {}\n")}, "ordrer"},
		{"spec", []string{"-f", write("spec.yaml", "name: x\norderer: {org: O, domain: o.com, nodes: 0}\norgs: [{name: A, domain: a.com, peers: 1}]\n")}, "orderer.nodes"},
		{"missing file", []string{"-f", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runRender(t, c.args...)
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want an error containing %q", code, stderr, c.want)
			}
		})
	}
}
