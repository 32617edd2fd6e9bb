package image

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// ociLayout is the oci-layout file. Its presence makes containerd read
// the tarball as an OCI layout (index.json); without it containerd falls
// back to manifest.json, which is also what docker load reads.
const ociLayout = `{"imageLayoutVersion":"1.0.0"}`

// countingWriter tracks how many bytes went out, for WriteTo's result.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteTo writes the image as one tarball holding an OCI image layout
// (oci-layout, index.json, blobs/sha256/...) and a docker-archive
// manifest.json whose paths point at the same blobs, so both kinds of
// importer accept it without duplicating any blob.
func (img *Image) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(name string, data []byte) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	digests := make([]string, 0, len(img.Blobs))
	for d := range img.Blobs {
		digests = append(digests, d)
	}
	sort.Strings(digests)

	if err := dir("blobs/"); err != nil {
		return cw.n, fmt.Errorf("image tarball: %w", err)
	}
	if err := dir("blobs/sha256/"); err != nil {
		return cw.n, fmt.Errorf("image tarball: %w", err)
	}
	for _, d := range digests {
		if err := file(blobPath(d), img.Blobs[d]); err != nil {
			return cw.n, fmt.Errorf("image tarball: blob %s: %w", d, err)
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"index.json", img.Index},
		{"manifest.json", img.DockerManifest},
		{"oci-layout", []byte(ociLayout)},
	} {
		if err := file(f.name, f.data); err != nil {
			return cw.n, fmt.Errorf("image tarball: %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return cw.n, fmt.Errorf("image tarball: %w", err)
	}
	return cw.n, nil
}

// WriteFile writes the tarball to path through a temporary file in the
// same directory, so an interrupted build never leaves a truncated
// tarball that an importer would half-read. It returns the size written.
func (img *Image) WriteFile(path string) (int64, error) {
	if path == "" {
		return 0, fmt.Errorf("output path is empty")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("output %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	n, err := img.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("output %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("output %q: %w", path, err)
	}
	return n, nil
}
