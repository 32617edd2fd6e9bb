package lifecycle

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStorePackageCache checks that cached parses are reused and that a
// package file removed or rewritten on disk is reported as without the
// cache.
func TestStorePackageCache(t *testing.T) {
	s := must(OpenStore(t.TempDir()))(t)
	pkg := ccaasPackage(t, "cc", "cc:1")
	id, _ := must2(s.Install(pkg))(t)
	path := must(s.fileFor(id))(t)
	first := must(s.Package(id))(t)
	if again := must(s.Package(id))(t); again != first {
		t.Fatal("second Package call parsed the package again")
	}
	flipped := append([]byte(nil), pkg...)
	flipped[len(flipped)/2] ^= 1
	steps := []struct {
		name     string
		disk     func() error
		want     string // "" means the package is served
		notFound bool
		reparsed bool // a fresh parse, not the cached one
	}{
		{name: "grown file is corrupt", disk: func() error { return os.WriteFile(path, append(append([]byte(nil), pkg...), 0), 0o600) }, want: "corrupt"},
		{name: "restored file is served again", disk: func() error { return os.WriteFile(path, pkg, 0o600) }, reparsed: true},
		{name: "unchanged file comes from the cache", disk: func() error { return nil }},
		{name: "same-size rewrite is corrupt", disk: func() error {
			if err := os.WriteFile(path, flipped, 0o600); err != nil {
				return err
			}
			future := time.Now().Add(time.Hour)
			return os.Chtimes(path, future, future)
		}, want: "corrupt"},
		{name: "removed file is not installed", disk: func() error { return os.Remove(path) }, want: "not found", notFound: true},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.disk(); err != nil {
				t.Fatal(err)
			}
			p, err := s.Package(id)
			if st.want != "" {
				if err == nil || !strings.Contains(err.Error(), st.want) || errors.Is(err, ErrPackageNotFound) != st.notFound {
					t.Fatalf("error %v, want %q (not found: %v)", err, st.want, st.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Connection == nil || p.Connection.Address != "cc:1" {
				t.Fatalf("package %+v", p)
			}
			if (p != prev) != st.reparsed {
				t.Fatalf("fresh parse: %v, want %v", p != prev, st.reparsed)
			}
			prev = p
		})
	}
	if _, err := s.Package("cc:" + strings.Repeat("ab", 32)); !errors.Is(err, ErrPackageNotFound) {
		t.Fatalf("unknown package: %v", err)
	}
}
