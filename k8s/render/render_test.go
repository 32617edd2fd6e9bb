package render

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	nodeorderer "weft/node/orderer"
	nodepeer "weft/node/peer"
)

const (
	ordNS  = "test-network-ordererorg"
	org1NS = "test-network-org1"
	org2NS = "test-network-org2"
)

func TestDefaultNetworkObjects(t *testing.T) {
	objs := mustObjects(t, defaultNetwork(), defaultMaterial(t))
	k := byKind(objs)
	want := map[string]int{
		"Namespace":   3,
		"StatefulSet": 7, // 3 orderers, 2 peers, 2 CAs
		"Deployment":  2, // basic, once per org
		"ConfigMap":   7,
		// per org: admin + users; orderer org: admin; nodes: 7; genesis;
		// two connection profiles; two CA registrars
		"Secret": 2 + 2 + 1 + 7 + 1 + 2 + 2,
		// per node 1 + headless: orderer 3+1, per org peer 1+1, ca 1+1,
		// chaincode 1
		"Service":       4 + 2*(2+2+1),
		"NetworkPolicy": 5 + 2*7,
	}
	for kind, n := range want {
		if len(k[kind]) != n {
			t.Errorf("%d %s objects, want %d: %v", len(k[kind]), kind, n, keys(k[kind]))
		}
	}
	if len(k) != len(want) {
		t.Errorf("kinds %v, want exactly %v", keys(k), keys(want))
	}
	for _, ns := range []string{ordNS, org1NS, org2NS} {
		nsObj, ok := k["Namespace"]["/"+ns]
		if !ok {
			t.Fatalf("namespace %s missing; have %v", ns, keys(k["Namespace"]))
		}
		if nsObj.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s does not enforce restricted", ns)
		}
	}
	for _, o := range objs {
		name := o.GetName()
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("%s name %q: %v", o.GetObjectKind().GroupVersionKind().Kind, name, errs)
		}
		l := o.GetLabels()
		if l[LabelNetwork] != "test-network" || l[LabelManagedBy] != "weft" || l[LabelPartOf] != "test-network" {
			t.Errorf("%s/%s labels %v", o.GetNamespace(), name, l)
		}
		if o.GetNamespace() == org1NS && l[LabelOrg] != "Org1" {
			t.Errorf("%s/%s: weft.dev/org %q", o.GetNamespace(), name, l[LabelOrg])
		}
	}
	for _, name := range []string{ordNS + "/orderer0", ordNS + "/orderer2", org1NS + "/peer0", org2NS + "/peer0", org1NS + "/ca"} {
		if k["StatefulSet"][name] == nil {
			t.Errorf("StatefulSet %s missing", name)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Keys live in Secrets only; every node Secret holds its TLS and MSP keys.
func TestKeysOnlyInSecrets(t *testing.T) {
	objs := mustObjects(t, defaultNetwork(), defaultMaterial(t))
	k := byKind(objs)
	for name, o := range k["ConfigMap"] {
		for f, v := range o.(*corev1.ConfigMap).Data {
			if strings.Contains(v, "PRIVATE KEY") || strings.Contains(v, "CERTIFICATE") {
				t.Errorf("ConfigMap %s %s holds key or certificate material", name, f)
			}
		}
	}
	for _, name := range []string{ordNS + "/orderer1-crypto", org1NS + "/peer0-crypto"} {
		s, ok := k["Secret"][name].(*corev1.Secret)
		if !ok {
			t.Fatalf("Secret %s missing", name)
		}
		for _, key := range []string{secretKey("tls/server.key"), secretKey("msp/keystore/priv_sk")} {
			if !bytes.Contains(s.Data[key], []byte("PRIVATE KEY")) {
				t.Errorf("Secret %s: %s holds no private key", name, key)
			}
		}
	}
	ca := k["Secret"][org2NS+"/ca-crypto"].(*corev1.Secret)
	if !bytes.Contains(ca.Data[secretKey("ca/priv_sk")], []byte("PRIVATE KEY")) || len(ca.Data[secretKey("ca/ca.org2.example.com-cert.pem")]) == 0 {
		t.Errorf("CA secret keys %v", keys(ca.Data))
	}
	admin := k["Secret"][ordNS+"/admin-crypto"].(*corev1.Secret)
	if len(admin.Data[secretKey("tls/client.key")]) == 0 || len(admin.Data[secretKey("msp/keystore/priv_sk")]) == 0 {
		t.Errorf("orderer admin secret keys %v", keys(admin.Data))
	}
	// A peer's Secret carries no other node's key.
	peer := k["Secret"][org1NS+"/peer0-crypto"].(*corev1.Secret)
	for key := range peer.Data {
		if strings.Contains(key, "org2") || strings.Contains(key, "Admin") {
			t.Errorf("peer0.org1 secret holds %s", key)
		}
	}
}

func TestStatefulSets(t *testing.T) {
	objs := mustObjects(t, defaultNetwork(), defaultMaterial(t))
	for name, o := range byKind(objs)["StatefulSet"] {
		ss := o.(*appsv1.StatefulSet)
		if *ss.Spec.Replicas != 1 || ss.Spec.ServiceName == "" {
			t.Errorf("%s: replicas %d service %q", name, *ss.Spec.Replicas, ss.Spec.ServiceName)
		}
		if len(ss.Spec.VolumeClaimTemplates) != 1 {
			t.Fatalf("%s: %d claim templates", name, len(ss.Spec.VolumeClaimTemplates))
		}
		size := ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]
		want := "10Gi"
		if strings.HasSuffix(name, "/ca") {
			want = "1Gi"
		}
		if size.String() != want {
			t.Errorf("%s: claim size %s, want %s", name, size.String(), want)
		}
		if p := ss.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
			t.Errorf("%s: claims are not retained on delete", name)
		}
		pod := ss.Spec.Template.Spec
		if ps := pod.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod security context %+v", name, ps)
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s: container security context %+v", name, sc)
		}
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.StrVal != "operations" {
				t.Errorf("%s: probe %+v", name, p)
			}
		}
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "operations" && p.ContainerPort == OperationsPort }) {
			t.Errorf("%s: no operations port", name)
		}
		a := ss.Spec.Template.Annotations
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9443" {
			t.Errorf("%s: scrape annotations %v", name, a)
		}
		kind := ss.Labels[LabelComponent]
		wantArgs := map[string]string{"peer": "core.yaml", "orderer": "orderer.yaml", "ca": "ca.yaml"}[kind]
		if !slices.Equal(c.Args[:4], []string{"node", kind, "--config", configDir + "/" + wantArgs}) {
			t.Errorf("%s: args %v", name, c.Args)
		}
		if kind != "ca" && (pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil) {
			t.Errorf("%s: no anti-affinity", name)
		}
	}
}

// The rendered node configs load with the nodes' own loaders, point only at
// files the pod mounts, and name no loopback address.
func TestNodeConfigs(t *testing.T) {
	objs := mustObjects(t, defaultNetwork(), defaultMaterial(t))
	k := byKind(objs)
	dir := t.TempDir()
	check := func(ns, node, file string, load func(string) error, paths func() []string) {
		t.Helper()
		cm := k["ConfigMap"][ns+"/"+node+"-config"].(*corev1.ConfigMap)
		data := cm.Data[file]
		if strings.Contains(data, "localhost") || strings.Contains(data, "127.0.0.1") {
			t.Errorf("%s/%s: config names a loopback address:\n%s", ns, node, data)
		}
		p := filepath.Join(dir, node+"-"+file)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := load(p); err != nil {
			t.Errorf("%s/%s: %v", ns, node, err)
		}
		ss := k["StatefulSet"][ns+"/"+node].(*appsv1.StatefulSet)
		mounted := map[string]bool{}
		for _, v := range ss.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				for _, it := range v.Secret.Items {
					mounted[cryptoDir+"/"+it.Path] = true
				}
			}
		}
		for _, f := range paths() {
			if !mounted[f] && !mounted[f+"/signcerts/"+node+"."+map[string]string{ordNS: "example.com", org1NS: "org1.example.com"}[ns]+"-cert.pem"] {
				t.Errorf("%s/%s: config names %s, which the pod does not mount", ns, node, f)
			}
		}
	}
	var oc *nodeorderer.Config
	check(ordNS, "orderer1", "orderer.yaml", func(p string) (err error) {
		oc, err = nodeorderer.LoadConfig(p, nil)
		return err
	}, func() []string {
		tls := oc.General.TLS
		return append(append([]string{tls.Certificate, tls.PrivateKey, oc.General.LocalMSPDir}, tls.RootCAs...), append(tls.ClientRootCAs, oc.Admin.TLS.ClientRootCAs...)...)
	})
	if oc != nil && (oc.General.ListenAddress != "0.0.0.0" || oc.General.ListenPort != OrdererPort || oc.FileLedger.Location != dataDir+"/ledger") {
		t.Errorf("orderer listen %s:%d ledger %s", oc.General.ListenAddress, oc.General.ListenPort, oc.FileLedger.Location)
	}
	var pc *nodepeer.Config
	check(org1NS, "peer0", "core.yaml", func(p string) (err error) {
		pc, err = nodepeer.LoadConfig(p, nil)
		return err
	}, func() []string {
		return []string{pc.Peer.TLS.Cert.File, pc.Peer.TLS.Key.File, pc.Peer.TLS.RootCert.File, pc.Peer.MSPConfigPath}
	})
	if pc != nil && pc.Peer.Address != "peer0."+org1NS+".svc.cluster.local:7051" {
		t.Errorf("peer address %q", pc.Peer.Address)
	}
}

func TestDeterministic(t *testing.T) {
	m := defaultMaterial(t)
	a, err := YAML(mustObjects(t, defaultNetwork(), m))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := YAML(mustObjects(t, defaultNetwork(), m))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two renders of the same input differ")
		}
	}
	j1, _ := JSON(mustObjects(t, defaultNetwork(), m))
	j2, _ := JSON(mustObjects(t, defaultNetwork(), m))
	if !bytes.Equal(j1, j2) || len(j1) == 0 {
		t.Fatal("JSON output differs between renders")
	}
}
