// Package image builds single-layer OCI container images without a Docker
// daemon and writes them as tarballs that both OCI-layout importers
// (containerd's `ctr images import`) and docker-archive importers
// (`docker load`) accept. Builds are deterministic: the same files and
// config give the same bytes, so an image digest identifies its inputs.
package image

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// File is one entry of the image's filesystem.
type File struct {
	// Path is the absolute, clean path inside the image.
	Path string
	// Mode holds the permission bits (setuid/setgid/sticky allowed) and
	// fs.ModeDir for a directory. Other file types are not supported.
	Mode fs.FileMode
	UID  int
	GID  int
	// Content is the file's bytes. Source, when set, names a host file
	// to read instead; setting both is an error.
	Content []byte
	Source  string
}

// Config is the runtime part of the image configuration.
type Config struct {
	Entrypoint []string
	Cmd        []string
	// Env holds KEY=VALUE entries.
	Env []string
	// User must be a numeric, non-root "uid" or "uid:gid": Kubernetes
	// can only enforce runAsNonRoot when the user is numeric.
	User       string
	WorkingDir string
	// ExposedPorts holds "port" or "port/proto" (tcp, udp, sctp).
	ExposedPorts []string
	Labels       map[string]string
}

// Spec is everything an image is built from.
type Spec struct {
	// Tag is the image reference, e.g. weft.local/weft:dev. A reference
	// without a tag gets ":latest".
	Tag string
	// Arch is the GOARCH-style CPU architecture the image runs on.
	Arch   string
	Files  []File
	Config Config
}

const allowedModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | fs.ModeDir

func (f File) validate() error {
	if f.Path == "" {
		return fmt.Errorf("path is empty")
	}
	if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
		return fmt.Errorf("path %q: must be absolute, clean and not /", f.Path)
	}
	if f.Mode&^allowedModeBits != 0 {
		return fmt.Errorf("path %q: mode %v (%#o): only regular files and directories are supported; use fs.ModeSetuid etc., not Unix 0o4000 bits", f.Path, f.Mode, uint32(f.Mode))
	}
	if f.UID < 0 || f.GID < 0 {
		return fmt.Errorf("path %q: uid %d/gid %d: must not be negative", f.Path, f.UID, f.GID)
	}
	if f.Mode.IsDir() && (f.Content != nil || f.Source != "") {
		return fmt.Errorf("path %q: a directory has no content or source", f.Path)
	}
	if f.Content != nil && f.Source != "" {
		return fmt.Errorf("path %q: set content or source, not both", f.Path)
	}
	return nil
}

func (c Config) validate() error {
	if err := validateUser(c.User); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	if c.WorkingDir != "" && !path.IsAbs(c.WorkingDir) {
		return fmt.Errorf("working dir %q: must be absolute", c.WorkingDir)
	}
	seen := map[string]bool{}
	for i, e := range c.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return fmt.Errorf("env[%d] %q: want KEY=VALUE", i, e)
		}
		if seen[k] {
			return fmt.Errorf("env[%d]: %s is set twice", i, k)
		}
		seen[k] = true
	}
	for i, p := range c.ExposedPorts {
		if _, err := normalizePort(p); err != nil {
			return fmt.Errorf("exposed port[%d]: %w", i, err)
		}
	}
	for k := range c.Labels {
		if k == "" {
			return fmt.Errorf("labels: empty key")
		}
	}
	if len(c.Entrypoint) == 0 && len(c.Cmd) == 0 {
		return fmt.Errorf("entrypoint and cmd are both empty: the image would not know what to run")
	}
	return nil
}

func validateUser(u string) error {
	if u == "" {
		return fmt.Errorf("empty: set a numeric non-root uid such as 65532")
	}
	uid, gid, hasGID := strings.Cut(u, ":")
	n, err := strconv.ParseUint(uid, 10, 31)
	if err != nil {
		return fmt.Errorf("%q: uid must be numeric", u)
	}
	if n == 0 {
		return fmt.Errorf("%q: must not be root (uid 0)", u)
	}
	if hasGID {
		if _, err := strconv.ParseUint(gid, 10, 31); err != nil {
			return fmt.Errorf("%q: gid must be numeric", u)
		}
	}
	return nil
}

// normalizePort turns "7051" or "7051/TCP" into the "7051/tcp" form image
// configs use as ExposedPorts keys.
func normalizePort(p string) (string, error) {
	port, proto, ok := strings.Cut(p, "/")
	if !ok {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q: port must be 1-65535", p)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("%q: protocol must be tcp, udp or sctp", p)
	}
	return strconv.FormatUint(n, 10) + "/" + proto, nil
}
