package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// epoch is every entry's mtime: a fixed time keeps digests independent of
// when and where the image was built.
var epoch = time.Unix(0, 0).UTC()

// layerEntry is a validated file with its content loaded.
type layerEntry struct {
	File
	data []byte
}

// collectEntries validates the files, loads sources, adds the parent
// directories nobody listed (root-owned, 0755) and sorts by path so the
// tar does not depend on the caller's order.
func collectEntries(files []File) ([]layerEntry, error) {
	byPath := make(map[string]layerEntry, len(files))
	for i, f := range files {
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("files[%d]: %w", i, err)
		}
		if _, dup := byPath[f.Path]; dup {
			return nil, fmt.Errorf("files[%d]: path %q is listed twice", i, f.Path)
		}
		e := layerEntry{File: f, data: f.Content}
		if f.Source != "" {
			b, err := os.ReadFile(f.Source)
			if err != nil {
				return nil, fmt.Errorf("files[%d]: path %q: source: %w", i, f.Path, err)
			}
			e.data = b
		}
		byPath[f.Path] = e
	}
	for p := range byPath {
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			parent, ok := byPath[dir]
			if !ok {
				byPath[dir] = layerEntry{File: File{Path: dir, Mode: fs.ModeDir | 0o755}}
				continue
			}
			if !parent.Mode.IsDir() {
				return nil, fmt.Errorf("path %q: parent %q is a file, not a directory", p, dir)
			}
		}
	}
	entries := make([]layerEntry, 0, len(byPath))
	for _, e := range byPath {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, nil
}

// buildLayer writes the entries as an uncompressed tar. Uncompressed
// because every importer handles it (containerd 1.6 detects compression
// itself) and the diff ID then equals the blob digest.
func buildLayer(entries []layerEntry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    strings.TrimPrefix(e.Path, "/"),
			Mode:    tarMode(e.Mode),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if e.Mode.IsDir() {
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", e.Path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", e.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}

// tarMode maps Go's mode bits to the Unix ones tar stores.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
