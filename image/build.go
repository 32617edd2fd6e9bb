package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
)

// Media types and annotations written into the image. The OCI ones are
// what containerd expects in an OCI layout; the containerd name
// annotation is what `ctr images import` registers the image under.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"

	AnnotationRefName        = "org.opencontainers.image.ref.name"
	AnnotationContainerdName = "io.containerd.image.name"
)

// Descriptor points at a blob by digest, as in the OCI image spec.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform names the OS and CPU an image runs on.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Image is a built image: its blobs and the top-level documents that
// point at them.
type Image struct {
	Ref Ref
	// Manifest describes the image manifest; its digest is the image's.
	Manifest Descriptor
	// Blobs maps "sha256:<hex>" to the blob bytes (layer, config, manifest).
	Blobs map[string][]byte
	// Index is index.json; DockerManifest is manifest.json.
	Index          []byte
	DockerManifest []byte
}

// Digest is the manifest digest, which container runtimes report as the
// image's digest.
func (img *Image) Digest() string { return img.Manifest.Digest }

type imageConfig struct {
	Created      string          `json:"created"`
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Config       containerConfig `json:"config"`
	RootFS       rootFS          `json:"rootfs"`
	History      []history       `json:"history"`
}

type containerConfig struct {
	User         string              `json:"User"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// dockerManifestEntry is one element of docker-archive's manifest.json;
// its paths are relative to the tarball root.
type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

var archRe = regexp.MustCompile(`^[a-z0-9]+$`)

// Build assembles the image described by spec. It reads Source files but
// writes nothing.
func Build(spec Spec) (*Image, error) {
	ref, err := ParseRef(spec.Tag)
	if err != nil {
		return nil, err
	}
	arch := spec.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	if !archRe.MatchString(arch) {
		return nil, fmt.Errorf("arch %q: want a GOARCH name such as amd64 or arm64", arch)
	}
	if err := spec.Config.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	entries, err := collectEntries(spec.Files)
	if err != nil {
		return nil, err
	}
	layer, err := buildLayer(entries)
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Blobs: map[string][]byte{}}
	layerDesc := img.addBlob(MediaTypeLayer, layer)

	cfgJSON, err := json.Marshal(newImageConfig(spec.Config, arch, layerDesc.Digest))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfgDesc := img.addBlob(MediaTypeConfig, cfgJSON)

	mfJSON, err := json.Marshal(manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        cfgDesc,
		Layers:        []Descriptor{layerDesc},
	})
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	img.Manifest = img.addBlob(MediaTypeManifest, mfJSON)
	img.Manifest.Platform = &Platform{Architecture: arch, OS: "linux"}
	img.Manifest.Annotations = map[string]string{
		AnnotationRefName:        ref.Tag,
		AnnotationContainerdName: ref.Name,
	}

	if img.Index, err = json.Marshal(index{
		SchemaVersion: 2,
		MediaType:     MediaTypeIndex,
		Manifests:     []Descriptor{img.Manifest},
	}); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if img.DockerManifest, err = json.Marshal([]dockerManifestEntry{{
		Config:   blobPath(cfgDesc.Digest),
		RepoTags: []string{ref.Name},
		Layers:   []string{blobPath(layerDesc.Digest)},
	}}); err != nil {
		return nil, fmt.Errorf("docker manifest: %w", err)
	}
	return img, nil
}

func newImageConfig(c Config, arch, diffID string) imageConfig {
	cc := containerConfig{
		User:       c.User,
		Env:        c.Env,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
	}
	if len(c.ExposedPorts) > 0 {
		cc.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			n, _ := normalizePort(p) // validated by Config.validate
			cc.ExposedPorts[n] = struct{}{}
		}
	}
	created := epoch.Format("2006-01-02T15:04:05Z")
	return imageConfig{
		Created:      created,
		Architecture: arch,
		OS:           "linux",
		Config:       cc,
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History:      []history{{Created: created, CreatedBy: "weft image build"}},
	}
}

func (img *Image) addBlob(mediaType string, data []byte) Descriptor {
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	img.Blobs[d] = data
	return Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// blobPath is where the OCI layout keeps a blob: blobs/<alg>/<hex>.
func blobPath(digest string) string {
	return "blobs/sha256/" + digest[len("sha256:"):]
}
