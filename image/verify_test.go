package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// retar writes files back as a tarball, for building corrupted variants.
func retar(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyDetectsInconsistentTarballs(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	var mf manifest
	if err := json.Unmarshal(img.Blobs[img.Manifest.Digest], &mf); err != nil {
		t.Fatal(err)
	}
	layerPath, cfgPath := blobPath(mf.Layers[0].Digest), blobPath(mf.Config.Digest)
	mfPath := blobPath(img.Manifest.Digest)

	setJSON := func(files map[string][]byte, name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}

	tests := []struct {
		name   string
		mutate func(map[string][]byte)
		want   string
	}{
		{"missing oci-layout", func(f map[string][]byte) { delete(f, "oci-layout") }, "oci-layout: missing"},
		{"wrong layout version", func(f map[string][]byte) { f["oci-layout"] = []byte(`{"imageLayoutVersion":"2.0.0"}`) }, "version"},
		{"corrupted layer", func(f map[string][]byte) { f[layerPath] = append([]byte{}, f[layerPath]...); f[layerPath][600] ^= 1 }, "does not match its digest"},
		{"missing config", func(f map[string][]byte) { delete(f, cfgPath) }, "missing"},
		{"missing index", func(f map[string][]byte) { delete(f, "index.json") }, "index.json: missing"},
		{"missing manifest.json", func(f map[string][]byte) { delete(f, "manifest.json") }, "manifest.json: missing"},
		{"index size wrong", func(f map[string][]byte) {
			var idx index
			_ = json.Unmarshal(f["index.json"], &idx)
			idx.Manifests[0].Size++
			setJSON(f, "index.json", idx)
		}, "descriptor says"},
		{"index without name", func(f map[string][]byte) {
			var idx index
			_ = json.Unmarshal(f["index.json"], &idx)
			delete(idx.Manifests[0].Annotations, AnnotationContainerdName)
			setJSON(f, "index.json", idx)
		}, "annotation"},
		{"two manifests", func(f map[string][]byte) {
			var idx index
			_ = json.Unmarshal(f["index.json"], &idx)
			idx.Manifests = append(idx.Manifests, idx.Manifests[0])
			setJSON(f, "index.json", idx)
		}, "one manifest"},
		{"docker config path wrong", func(f map[string][]byte) {
			var dm []dockerManifestEntry
			_ = json.Unmarshal(f["manifest.json"], &dm)
			dm[0].Config = layerPath
			setJSON(f, "manifest.json", dm)
		}, "manifest.json: config"},
		{"docker layers wrong", func(f map[string][]byte) {
			var dm []dockerManifestEntry
			_ = json.Unmarshal(f["manifest.json"], &dm)
			dm[0].Layers = nil
			setJSON(f, "manifest.json", dm)
		}, "manifest.json: layers"},
		{"docker tag wrong", func(f map[string][]byte) {
			var dm []dockerManifestEntry
			_ = json.Unmarshal(f["manifest.json"], &dm)
			dm[0].RepoTags = []string{"other:tag"}
			setJSON(f, "manifest.json", dm)
		}, "repo tags"},
		{"diff id wrong", func(f map[string][]byte) {
			var cfg imageConfig
			_ = json.Unmarshal(f[cfgPath], &cfg)
			cfg.RootFS.DiffIDs[0] = "sha256:" + strings.Repeat("0", 64)
			rehashConfig(t, f, cfg, cfgPath, mfPath)
		}, "diff_ids[0]"},
		{"layer media type gzip", func(f map[string][]byte) {
			var m manifest
			_ = json.Unmarshal(f[mfPath], &m)
			m.Layers[0].MediaType = MediaTypeLayer + "+gzip"
			rehashManifest(t, f, m, mfPath)
		}, "media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := img.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			files, err := readTar(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(bytes.NewReader(retar(t, files))); err != nil {
				t.Fatalf("untouched copy fails: %v", err)
			}
			tt.mutate(files)
			_, err = Verify(bytes.NewReader(retar(t, files)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := Verify(strings.NewReader("not a tarball at all, but long enough to be read as a header block" + strings.Repeat("x", 600))); err == nil {
		t.Error("Verify accepted garbage")
	}
}

// rehashConfig stores a modified config under its new digest and updates
// every document that points at it.
func rehashConfig(t *testing.T, f map[string][]byte, cfg imageConfig, oldPath, mfPath string) {
	t.Helper()
	tmp := &Image{Blobs: map[string][]byte{}}
	b, _ := json.Marshal(cfg)
	d := tmp.addBlob(MediaTypeConfig, b)
	delete(f, oldPath)
	f[blobPath(d.Digest)] = b
	var m manifest
	_ = json.Unmarshal(f[mfPath], &m)
	m.Config = d
	var dm []dockerManifestEntry
	_ = json.Unmarshal(f["manifest.json"], &dm)
	dm[0].Config = blobPath(d.Digest)
	b, _ = json.Marshal(dm)
	f["manifest.json"] = b
	rehashManifest(t, f, m, mfPath)
}

func rehashManifest(t *testing.T, f map[string][]byte, m manifest, oldPath string) {
	t.Helper()
	tmp := &Image{Blobs: map[string][]byte{}}
	b, _ := json.Marshal(m)
	d := tmp.addBlob(MediaTypeManifest, b)
	delete(f, oldPath)
	f[blobPath(d.Digest)] = b
	var idx index
	_ = json.Unmarshal(f["index.json"], &idx)
	idx.Manifests[0].Digest, idx.Manifests[0].Size = d.Digest, d.Size
	b, _ = json.Marshal(idx)
	f["index.json"] = b
}
