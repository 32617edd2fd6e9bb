package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeModule(t *testing.T, mainGo string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module m\n\ngo 1.21\n", "main.go": mainGo} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildGo(t *testing.T) {
	ctx := context.Background()
	good := writeModule(t, "package main\n\nfunc main() {}\n")
	bin, err := BuildGo(ctx, GoBuild{Dir: good, Package: ".", Arch: "amd64"})
	if err != nil || !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatalf("BuildGo: %v (%d bytes)", err, len(bin))
	}

	broken := writeModule(t, "package main\n\nfunc main() { undefinedThing() }\n")
	_, err = BuildGo(ctx, GoBuild{Dir: broken, Package: ".", Arch: "amd64"})
	if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
		t.Errorf("broken source: err = %v, want the compiler's message", err)
	}
	var streamed bytes.Buffer
	_, err = BuildGo(ctx, GoBuild{Dir: broken, Package: ".", Arch: "amd64", Stderr: &streamed})
	if err == nil || !strings.Contains(streamed.String(), "undefinedThing") || strings.Contains(err.Error(), "undefinedThing") {
		t.Errorf("streamed: err = %v, stderr %q; want the message streamed once", err, streamed.String())
	}

	for _, b := range []GoBuild{
		{Package: ".", Arch: "amd64"},
		{Dir: good, Arch: "amd64"},
		{Dir: good, Package: "."},
		{Dir: good, Package: ".", Arch: "amd 64"},
	} {
		if _, err := BuildGo(ctx, b); err == nil {
			t.Errorf("BuildGo(%+v) succeeded", b)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	ctx := context.Background()
	mod := writeModule(t, "package main\n")
	sub := filepath.Join(mod, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot(ctx, sub)
	if err != nil || root != mod {
		t.Fatalf("ModuleRoot(%s) = %q, %v; want %s", sub, root, err, mod)
	}
	if _, err := ModuleRoot(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside a Go module") {
		t.Errorf("outside a module: err = %v", err)
	}
	if _, err := ModuleRoot(ctx, filepath.Join(mod, "missing")); err == nil {
		t.Error("missing dir succeeded")
	}
}
