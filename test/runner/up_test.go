// Package runner_test runs the main job as a user does: `weft up -d` on the
// default spec, then invokes, re-runs, stops, starts and tears down.
package runner_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"weft/test/harness"
)

func weft(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("weft %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestUpInvokeRestartDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..") // ./chaincode/basic of the default spec
	data := filepath.Join(t.TempDir(), "data")
	t.Cleanup(func() { exec.Command(harness.Binary(t), "down", "--data", data).Run() })

	// A base port of its own, so a network the developer runs does not clash.
	out := weft(t, root, "up", "-d", "--data", data, "--base-port", "17050")
	for _, want := range []string{"approved by Org1MSP", "approved by Org2MSP", "sequence 1 committed", "healthy", "Try it:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("weft up output lacks %q:\n%s", want, out)
		}
	}
	weft(t, root, "chaincode", "invoke", "--data", data, "-n", "basic", "-c", `{"Args":["InitLedger"]}`)

	// An unmodified fabric-gateway application, using only files weft wrote.
	app := exec.Command("node", filepath.Join(root, "conformance", "node", "sample-app.js"), data, "app1")
	appOut, err := app.CombinedOutput()
	if err != nil {
		t.Fatalf("sample app: %v\n%s", err, appOut)
	}
	if !strings.Contains(string(appOut), `"oldOwner":"Tom"`) || !strings.Contains(string(appOut), `"Owner":"Saptha"`) {
		t.Fatalf("sample app output: %s", appOut)
	}
	if got := weft(t, root, "chaincode", "invoke", "--data", data, "-n", "basic", "--org", "Org2", "-c", `{"Args":["TransferAsset","asset1","Zoe"]}`); !strings.Contains(got, "Tomoko") {
		t.Fatalf("TransferAsset should return the old owner: %s", got)
	}

	// The Go example application, built on weft's client package.
	ex := exec.Command("go", "run", "./examples/app", "--data", data, "--peer", "localhost:17051", "--id", "ex1")
	ex.Dir = root
	if out, err := ex.CombinedOutput(); err != nil || !strings.Contains(string(out), `"ID":"ex1"`) {
		t.Fatalf("examples/app: %v\n%s", err, out)
	}

	// Nothing changed: a second up deploys nothing again.
	out = weft(t, root, "up", "-d", "--data", data)
	if strings.Contains(out, "approved by") || !strings.Contains(out, "already committed") {
		t.Fatalf("second up redid work:\n%s", out)
	}

	weft(t, root, "stop", "--data", data)
	if st := weft(t, root, "status", "--data", data); strings.Contains(st, "healthy") {
		t.Fatalf("nodes still healthy after stop:\n%s", st)
	}
	weft(t, root, "start", "--data", data)
	if got := weft(t, root, "chaincode", "query", "--data", data, "-n", "basic", "-c", `{"Args":["ReadAsset","asset1"]}`); !strings.Contains(got, `"Owner":"Zoe"`) {
		t.Fatalf("ledger not kept across stop/start: %s", got)
	}
	weft(t, root, "down", "--data", data)
	if st, err := exec.Command(harness.Binary(t), "status", "--data", data).CombinedOutput(); err == nil {
		t.Fatalf("status after down should fail: %s", st)
	}
}
