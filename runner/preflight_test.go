package runner

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/spec"
)

func TestBuildChaincodesRejectsUnknownSource(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	n.Chaincodes[0].Path = "./nothing-here"
	u := &up{opts: Options{Dir: dir, SpecDir: dir}, n: n, out: os.Stderr}
	err := u.buildChaincodes(context.Background())
	if err == nil || !strings.Contains(err.Error(), `chaincode "basic"`) || !strings.Contains(err.Error(), "neither a Go") {
		t.Fatalf("want a clear error naming the chaincode, got %v", err)
	}
}

func TestBuildChaincodesReportsCompileErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "cc")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module cc\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	n := spec.Default()
	n.Chaincodes[0].Path = "./cc"
	u := &up{opts: Options{Dir: filepath.Join(dir, "data"), SpecDir: dir}, n: n, out: os.Stderr}
	err := u.buildChaincodes(context.Background())
	if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
		t.Fatalf("want the compiler's message, got %v", err)
	}
}

func TestPortFreeNamesTheNodeAndPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = portFree(proc{name: "orderer0.example.com", listens: []string{l.Addr().String()}})
	if err == nil || !strings.Contains(err.Error(), "orderer0.example.com") || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("got %v", err)
	}
	l.Close()
	if err := portFree(proc{name: "x", listens: []string{l.Addr().String()}}); err != nil {
		t.Fatalf("free port reported busy: %v", err)
	}
}

func TestEndpointsAreFixedPerDataDir(t *testing.T) {
	dir := t.TempDir()
	ep, err := endpointsFor(dir, 23050)
	if err != nil || ep.OrdererBase != 23050 {
		t.Fatalf("%+v %v", ep, err)
	}
	if _, err := endpointsFor(dir, 24050); err == nil || !strings.Contains(err.Error(), "23050") {
		t.Fatalf("changing the base of an existing network must fail naming the old one, got %v", err)
	}
	if ep2, err := endpointsFor(dir, 0); err != nil || ep2 != ep {
		t.Fatalf("saved layout not reused: %+v %v", ep2, err)
	}
	if _, err := endpointsFor(t.TempDir(), 80); err == nil {
		t.Fatal("privileged base port accepted")
	}
}
