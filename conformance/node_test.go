package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runNode runs a script from conformance/node with the given JSON input
// (written to a temp file) and decodes its JSON output into out. The npm
// packages must be installed; `make test` does it. A missing install is a
// failure, not a skip: these tests are the proof of wire compatibility.
func runNode(t *testing.T, script string, input, out any) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("node", "node_modules", "@hyperledger", "fabric-protos")); err != nil {
		t.Fatalf("npm packages for conformance tests are missing (%v): run `npm ci --prefix conformance/node` or `make test`", err)
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(f, in, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("node", script), f)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstderr:\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s: bad JSON output: %v\n%s", script, err, stdout.String())
	}
}
