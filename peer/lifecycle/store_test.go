package lifecycle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/peer/chaincode"
)

func TestStoreInstall(t *testing.T) {
	dir := t.TempDir()
	s := must(OpenStore(dir))(t)
	pkgA := ccaasPackage(t, "basic_1.0", "cc:9999")
	pkgB := ccaasPackage(t, "basic_1.0", "other:9999") // same label, other content

	tests := []struct {
		name    string
		pkg     []byte
		wantID  string
		wantErr string
	}{
		{"valid", pkgA, chaincode.PackageID("basic_1.0", pkgA), ""},
		{"same package again", pkgA, chaincode.PackageID("basic_1.0", pkgA), ""},
		{"same label other content", pkgB, chaincode.PackageID("basic_1.0", pkgB), ""},
		{"not gzip", []byte("hello"), "", "could not parse as a chaincode install package"},
		{"empty", nil, "", "could not parse"},
		{"gzip of garbage", gzipBytes(t, []byte("not a tar")), "", "could not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, label, err := s.Install(tc.pkg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID || label != "basic_1.0" {
				t.Fatalf("got %q %q, want %q", id, label, tc.wantID)
			}
			got, err := s.Get(id)
			if err != nil || !bytes.Equal(got, tc.pkg) {
				t.Fatalf("Get: %v, equal=%v", err, bytes.Equal(got, tc.pkg))
			}
		})
	}

	list := must(s.List())(t)
	if len(list) != 2 {
		t.Fatalf("List = %v, want 2 packages", list)
	}
	entries := must(os.ReadDir(dir))(t)
	for _, e := range entries {
		fi := must(e.Info())(t)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	// Reopening finds the same packages.
	if l2 := must(must(OpenStore(dir))(t).List())(t); len(l2) != 2 || l2[0] != list[0] {
		t.Fatalf("after reopen: %v", l2)
	}
}

func TestStoreGet(t *testing.T) {
	dir := t.TempDir()
	s := must(OpenStore(dir))(t)
	pkg := ccaasPackage(t, "cc", "cc:1")
	id, _ := must2(s.Install(pkg))(t)
	if p := must(s.Package(id))(t); p.Connection == nil || p.Connection.Address != "cc:1" {
		t.Fatalf("Package: %+v", p)
	}
	if !s.Has(id) || s.Has("cc:"+strings.Repeat("0", 64)) || s.Has("junk") {
		t.Fatal("Has answers wrongly")
	}
	tests := []struct {
		name, id, wantErr string
		notFound          bool
	}{
		{"unknown", "cc:" + strings.Repeat("ab", 32), "not found", true},
		{"no hash", "cc", "want <label>:<64 hex digits>", false},
		{"path traversal", "../x:" + strings.Repeat("ab", 32), "want <label>", false},
		{"upper hex", "cc:" + strings.Repeat("AB", 32), "want <label>", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Get(tc.id)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, ErrPackageNotFound) != tc.notFound {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// A file changed on disk is refused, not served.
	path := must(s.fileFor(id))(t)
	if err := os.WriteFile(path, append(pkg, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt file: err = %v", err)
	}
	// Stray files are ignored by List.
	os.WriteFile(filepath.Join(dir, "README.tar.gz"), []byte("x"), 0o600)
	if l := must(s.List())(t); len(l) != 1 {
		t.Fatalf("List = %v", l)
	}
	if _, err := OpenStore(""); err == nil {
		t.Fatal("OpenStore(\"\") succeeded")
	}
}

func must2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}
