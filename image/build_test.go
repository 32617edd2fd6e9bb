package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func testSpec(t *testing.T) Spec {
	t.Helper()
	base, err := Base("nonroot", NonRootUID)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(src, []byte("#!tool\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := append(base,
		File{Path: "/usr/local/bin/app", Mode: 0o755, Content: []byte("binary")},
		File{Path: "/opt/tool", Mode: fs.ModeSetuid | 0o750, UID: 1, GID: 2, Source: src},
		File{Path: "/var/data", Mode: fs.ModeDir | 0o700, UID: NonRootUID, GID: NonRootUID},
	)
	return Spec{
		Tag:   "weft.local/app:dev",
		Arch:  "amd64",
		Files: files,
		Config: Config{
			Entrypoint:   []string{"/usr/local/bin/app"},
			Cmd:          []string{"serve"},
			Env:          []string{"PATH=/usr/local/bin", "A=b=c"},
			User:         "65532:65532",
			WorkingDir:   "/var/data",
			ExposedPorts: []string{"9999", "53/UDP"},
			Labels:       map[string]string{"org.opencontainers.image.title": "app"},
		},
	}
}

func writeImage(t *testing.T, s Spec) []byte {
	t.Helper()
	img, err := Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var buf bytes.Buffer
	n, err := img.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func TestBuildTarballIsConsistent(t *testing.T) {
	tarball := writeImage(t, testSpec(t))
	c, err := Verify(bytes.NewReader(tarball))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Name != "weft.local/app:dev" || c.Tag != "dev" {
		t.Errorf("name %q tag %q", c.Name, c.Tag)
	}
	if c.Platform != (Platform{Architecture: "amd64", OS: "linux"}) {
		t.Errorf("platform %+v", c.Platform)
	}
	wantCfg := testSpec(t).Config
	wantCfg.ExposedPorts = []string{"53/udp", "9999/tcp"}
	if !reflect.DeepEqual(c.Config, wantCfg) {
		t.Errorf("config\n got %+v\nwant %+v", c.Config, wantCfg)
	}

	// The tarball holds the OCI layout and manifest.json, and nothing else.
	top, err := readTar(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range top {
		if !strings.HasPrefix(n, "blobs/sha256/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "index.json manifest.json oci-layout" {
		t.Errorf("top-level files: %s", got)
	}
	if len(top) != 6 { // 3 documents + layer, config, manifest blobs
		t.Errorf("%d files in tarball, want 6", len(top))
	}
	sum := sha256.Sum256(top["blobs/sha256/"+strings.TrimPrefix(c.Digest, "sha256:")])
	if "sha256:"+hex.EncodeToString(sum[:]) != c.Digest {
		t.Errorf("manifest digest %s does not hash its blob", c.Digest)
	}

	wantFiles := map[string]LayerFile{
		"/etc":               {Mode: fs.ModeDir | 0o755},
		"/etc/passwd":        {Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n")},
		"/etc/group":         {Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		"/tmp":               {Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		"/usr":               {Mode: fs.ModeDir | 0o755},
		"/usr/local":         {Mode: fs.ModeDir | 0o755},
		"/usr/local/bin":     {Mode: fs.ModeDir | 0o755},
		"/usr/local/bin/app": {Mode: 0o755, Data: []byte("binary")},
		"/opt":               {Mode: fs.ModeDir | 0o755},
		"/opt/tool":          {Mode: fs.ModeSetuid | 0o750, UID: 1, GID: 2, Data: []byte("#!tool\n")},
		"/var":               {Mode: fs.ModeDir | 0o755},
		"/var/data":          {Mode: fs.ModeDir | 0o700, UID: NonRootUID, GID: NonRootUID},
	}
	if !reflect.DeepEqual(c.Files, wantFiles) {
		t.Errorf("layer files\n got %+v\nwant %+v", c.Files, wantFiles)
	}
}

func TestLayerIsSortedWithFixedTimes(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	var mf manifest
	if err := json.Unmarshal(img.Blobs[img.Manifest.Digest], &mf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(img.Blobs[mf.Layers[0].Digest]))
	var prev string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		if hdr.Name <= prev {
			t.Errorf("entry %q after %q: not sorted", hdr.Name, prev)
		}
		prev = hdr.Name
		if !hdr.ModTime.Equal(epoch) || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: mtime %v uname %q gname %q", hdr.Name, hdr.ModTime, hdr.Uname, hdr.Gname)
		}
	}
	if prev == "" {
		t.Fatal("empty layer")
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	s := testSpec(t)
	first := writeImage(t, s)
	// Reversing the file order must not change a byte.
	rev := s
	rev.Files = append([]File(nil), s.Files...)
	for i, j := 0, len(rev.Files)-1; i < j; i, j = i+1, j-1 {
		rev.Files[i], rev.Files[j] = rev.Files[j], rev.Files[i]
	}
	if !bytes.Equal(first, writeImage(t, rev)) {
		t.Fatal("same input in another order gave different bytes")
	}
	// Any change in the input must change the image.
	changed := s
	changed.Files = append([]File(nil), s.Files...)
	changed.Files[len(changed.Files)-3].Mode = 0o700
	a, _ := Build(s)
	b, _ := Build(changed)
	if a.Digest() == b.Digest() {
		t.Fatal("a mode change kept the digest")
	}
}

func TestWriteFile(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "img.tar")
	n, err := img.WriteFile(out)
	if err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil || int64(len(data)) != n {
		t.Fatalf("read back %d bytes (err %v), WriteFile said %d", len(data), err, n)
	}
	if _, err := Verify(bytes.NewReader(data)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if _, err := img.WriteFile(filepath.Join(dir, "missing", "img.tar")); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if _, err := img.WriteFile(""); err == nil {
		t.Error("WriteFile with an empty path succeeded")
	}
}
