package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// LayerFile is one entry read back from an image layer.
type LayerFile struct {
	Mode fs.FileMode
	UID  int
	GID  int
	Data []byte
}

// Contents is what Verify read from an image tarball.
type Contents struct {
	// Name is the io.containerd.image.name annotation, Tag the OCI ref name.
	Name     string
	Tag      string
	Digest   string
	Platform Platform
	Config   Config
	// Files maps each absolute path in the layer to its entry.
	Files map[string]LayerFile
}

// Verify reads an image tarball written by WriteTo and checks that both
// views of it agree: every blob matches its name and the sizes that point
// at it, the OCI index and docker manifest.json name the same config and
// layers, and the config's diff IDs match the uncompressed layers. It is
// meant for tests and for checking an artifact before shipping it.
func Verify(r io.Reader) (*Contents, error) {
	entries, err := readTar(r)
	if err != nil {
		return nil, fmt.Errorf("image tarball: %w", err)
	}
	var layout struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := unmarshalEntry(entries, "oci-layout", &layout); err != nil {
		return nil, err
	}
	if layout.Version != "1.0.0" {
		return nil, fmt.Errorf("oci-layout: version %q, want 1.0.0", layout.Version)
	}
	for name, data := range entries {
		if hexDigest, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != hexDigest {
				return nil, fmt.Errorf("%s: content does not match its digest", name)
			}
		}
	}
	var idx index
	if err := unmarshalEntry(entries, "index.json", &idx); err != nil {
		return nil, err
	}
	if idx.SchemaVersion != 2 || len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("index.json: want schemaVersion 2 and one manifest, got %d and %d", idx.SchemaVersion, len(idx.Manifests))
	}
	md := idx.Manifests[0]
	c := &Contents{Name: md.Annotations[AnnotationContainerdName], Tag: md.Annotations[AnnotationRefName], Digest: md.Digest}
	if c.Name == "" || c.Tag == "" {
		return nil, fmt.Errorf("index.json: manifest lacks the %s or %s annotation", AnnotationContainerdName, AnnotationRefName)
	}
	if md.Platform != nil {
		c.Platform = *md.Platform
	}
	var mf manifest
	if err := unmarshalBlob(entries, md, MediaTypeManifest, &mf); err != nil {
		return nil, fmt.Errorf("index.json: manifest: %w", err)
	}
	var cfg imageConfig
	if err := unmarshalBlob(entries, mf.Config, MediaTypeConfig, &cfg); err != nil {
		return nil, fmt.Errorf("manifest: config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(mf.Layers) {
		return nil, fmt.Errorf("config: %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(mf.Layers))
	}
	c.Files = map[string]LayerFile{}
	layerPaths := make([]string, len(mf.Layers))
	for i, l := range mf.Layers {
		data, err := blob(entries, l, MediaTypeLayer)
		if err != nil {
			return nil, fmt.Errorf("manifest: layers[%d]: %w", i, err)
		}
		// An uncompressed layer's diff ID is its own digest.
		if cfg.RootFS.DiffIDs[i] != l.Digest {
			return nil, fmt.Errorf("config: diff_ids[%d] %s does not match layer %s", i, cfg.RootFS.DiffIDs[i], l.Digest)
		}
		if err := readLayer(data, c.Files); err != nil {
			return nil, fmt.Errorf("manifest: layers[%d]: %w", i, err)
		}
		layerPaths[i] = blobPath(l.Digest)
	}
	if err := checkDockerManifest(entries, c.Name, blobPath(mf.Config.Digest), layerPaths); err != nil {
		return nil, err
	}
	c.Config = Config{
		Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd, Env: cfg.Config.Env,
		User: cfg.Config.User, WorkingDir: cfg.Config.WorkingDir, Labels: cfg.Config.Labels,
	}
	for p := range cfg.Config.ExposedPorts {
		c.Config.ExposedPorts = append(c.Config.ExposedPorts, p)
	}
	sort.Strings(c.Config.ExposedPorts)
	if cfg.OS != c.Platform.OS || cfg.Architecture != c.Platform.Architecture {
		return nil, fmt.Errorf("config: platform %s/%s differs from the index's %s/%s", cfg.OS, cfg.Architecture, c.Platform.OS, c.Platform.Architecture)
	}
	return c, nil
}

func checkDockerManifest(entries map[string][]byte, name, configPath string, layerPaths []string) error {
	var dm []dockerManifestEntry
	if err := unmarshalEntry(entries, "manifest.json", &dm); err != nil {
		return err
	}
	if len(dm) != 1 {
		return fmt.Errorf("manifest.json: %d entries, want 1", len(dm))
	}
	if dm[0].Config != configPath {
		return fmt.Errorf("manifest.json: config %q, want %q (the OCI manifest's)", dm[0].Config, configPath)
	}
	if strings.Join(dm[0].Layers, ",") != strings.Join(layerPaths, ",") {
		return fmt.Errorf("manifest.json: layers %v, want %v", dm[0].Layers, layerPaths)
	}
	if len(dm[0].RepoTags) != 1 || dm[0].RepoTags[0] != name {
		return fmt.Errorf("manifest.json: repo tags %v, want [%s]", dm[0].RepoTags, name)
	}
	return nil
}

// readTar returns the regular files of a tarball by cleaned name.
func readTar(r io.Reader) (map[string][]byte, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("%s: unexpected entry type %q", hdr.Name, hdr.Typeflag)
		}
		name := path.Clean(hdr.Name)
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("%s: appears twice", name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = data
	}
}

func readLayer(data []byte, files map[string]LayerFile) error {
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := LayerFile{Mode: fs.FileMode(hdr.Mode).Perm(), UID: hdr.Uid, GID: hdr.Gid}
		for bit, m := range map[int64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
			if hdr.Mode&bit != 0 {
				f.Mode |= m
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			f.Mode |= fs.ModeDir
		case tar.TypeReg:
			if f.Data, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %q", hdr.Name, hdr.Typeflag)
		}
		files[path.Clean("/"+hdr.Name)] = f
	}
}

func unmarshalEntry(entries map[string][]byte, name string, v any) error {
	data, ok := entries[name]
	if !ok {
		return fmt.Errorf("%s: missing", name)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func blob(entries map[string][]byte, d Descriptor, mediaType string) ([]byte, error) {
	if d.MediaType != mediaType {
		return nil, fmt.Errorf("media type %q, want %q", d.MediaType, mediaType)
	}
	if !strings.HasPrefix(d.Digest, "sha256:") {
		return nil, fmt.Errorf("digest %q: want sha256", d.Digest)
	}
	data, ok := entries[blobPath(d.Digest)]
	if !ok {
		return nil, fmt.Errorf("blob %s: missing", d.Digest)
	}
	if int64(len(data)) != d.Size {
		return nil, fmt.Errorf("blob %s: size %d, descriptor says %d", d.Digest, len(data), d.Size)
	}
	return data, nil
}

func unmarshalBlob(entries map[string][]byte, d Descriptor, mediaType string, v any) error {
	data, err := blob(entries, d, mediaType)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	return nil
}
