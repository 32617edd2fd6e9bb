package operator

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, dir string, files map[string]string, keyMode bool) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if keyMode && strings.HasSuffix(name, "_sk") {
			mode = 0o600
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackTreeRoundTrip(t *testing.T) {
	files := map[string]string{
		"organizations/a/msp/keystore/priv_sk":   "secret",
		"organizations/a/msp/signcerts/cert.pem": "cert",
		"organizations/b/users/Admin@b/tls/ca":   "ca",
		"k8s-channel-artifacts/mychannel.block":  "\x00\x01block",
	}
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, files, true)
	writeTree(t, b, files, true)
	pa, err := packTree(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := packTree(b)
	if err != nil {
		t.Fatal(err)
	}
	// Same files, written at other times in another directory: same bytes.
	if !bytes.Equal(pa, pb) {
		t.Fatal("packing equal trees gave different archives")
	}
	out := t.TempDir()
	if err := unpackTree(pa, out); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(out, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil || string(got) != body {
			t.Fatalf("%s = %q, %v", name, got, err)
		}
		st, _ := os.Stat(p)
		wantKey := strings.HasSuffix(name, "_sk")
		if isKey := st.Mode().Perm() == 0o600; isKey != wantKey {
			t.Errorf("%s mode %v", name, st.Mode().Perm())
		}
	}
	// A changed file changes the archive.
	writeTree(t, b, map[string]string{"organizations/a/msp/signcerts/cert.pem": "other"}, true)
	if pc, _ := packTree(b); bytes.Equal(pa, pc) {
		t.Fatal("a changed tree packed to the same archive")
	}
}

func TestUnpackTreeRefuses(t *testing.T) {
	entry := func(hdr tar.Header, body string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
		tw.Close()
		return buf.Bytes()
	}
	cases := []struct {
		name    string
		archive []byte
		want    string
	}{
		{"escape", entry(tar.Header{Name: "../x", Typeflag: tar.TypeReg, Mode: 0o644}, "x"), "plain relative path"},
		{"absolute", entry(tar.Header{Name: "/etc/x", Typeflag: tar.TypeReg, Mode: 0o644}, "x"), "plain relative path"},
		{"unclean", entry(tar.Header{Name: "a/../../x", Typeflag: tar.TypeReg, Mode: 0o644}, "x"), "plain relative path"},
		{"symlink", entry(tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, ""), "not a regular file"},
		{"garbage", []byte("this is not a tar archive at all, but long enough to be read as a header block? no" + strings.Repeat("x", 600)), "material archive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := unpackTree(c.archive, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestGzipAndChunk(t *testing.T) {
	data := bytes.Repeat([]byte("weft material "), 1000)
	gz, err := gzipBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	back, err := gunzipBytes(gz)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("gzip round trip: %v", err)
	}
	if _, err := gunzipBytes([]byte("plain")); err == nil {
		t.Error("gunzip of plain bytes succeeded")
	}
	cases := []struct {
		n, size int
		parts   []int
	}{
		{0, 4, []int{0}},
		{4, 4, []int{4}},
		{5, 4, []int{4, 1}},
		{12, 4, []int{4, 4, 4}},
	}
	for _, c := range cases {
		got := chunk(make([]byte, c.n), c.size)
		var lens []int
		for _, p := range got {
			lens = append(lens, len(p))
		}
		if len(lens) != len(c.parts) {
			t.Fatalf("chunk(%d,%d) = %v, want %v", c.n, c.size, lens, c.parts)
		}
		for i := range lens {
			if lens[i] != c.parts[i] {
				t.Fatalf("chunk(%d,%d) = %v, want %v", c.n, c.size, lens, c.parts)
			}
		}
	}
}
