package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GoBuild describes a static build of one Go main package for Linux.
type GoBuild struct {
	// Dir is where `go build` runs: the module root or the package dir.
	Dir string
	// Package is the main package relative to Dir, e.g. ./cmd/weft or ".".
	Package string
	// Arch is the target GOARCH.
	Arch string
	// LDFlags are appended after "-s -w" (e.g. -X settings).
	LDFlags string
	// Stderr, when set, receives the compiler's output as it runs.
	Stderr io.Writer
}

// BuildGo compiles the package with cgo off, so the binary needs no libc
// in the image, and returns the binary's bytes.
func BuildGo(ctx context.Context, b GoBuild) ([]byte, error) {
	if b.Dir == "" {
		return nil, fmt.Errorf("go build: dir is empty")
	}
	if b.Package == "" {
		return nil, fmt.Errorf("go build: package is empty")
	}
	if b.Arch == "" || !archRe.MatchString(b.Arch) {
		return nil, fmt.Errorf("go build: arch %q: want a GOARCH name such as amd64", b.Arch)
	}
	tmp, err := os.MkdirTemp("", "weft-image-build-*")
	if err != nil {
		return nil, fmt.Errorf("go build: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	ldflags := strings.TrimSpace("-s -w " + b.LDFlags)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, b.Package)
	cmd.Dir = b.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+b.Arch)
	var errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errBuf, &errBuf
	if b.Stderr != nil {
		cmd.Stdout, cmd.Stderr = b.Stderr, b.Stderr
	}
	if err := cmd.Run(); err != nil {
		if b.Stderr != nil {
			// The compiler's messages already went to Stderr.
			return nil, fmt.Errorf("go build %s in %s: %w", b.Package, b.Dir, err)
		}
		return nil, fmt.Errorf("go build %s in %s: %w\n%s", b.Package, b.Dir, err, strings.TrimSpace(errBuf.String()))
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("go build %s: reading the binary: %w", b.Package, err)
	}
	return bin, nil
}

// ModuleRoot returns the root of the Go module containing dir, as
// reported by `go env GOMOD`.
func ModuleRoot(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD in %s: %w", dir, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%s is not inside a Go module", dir)
	}
	return filepath.Dir(gomod), nil
}
