package image

import (
	"io/fs"
	"strings"
	"testing"
)

func TestBuildRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"empty tag", func(s *Spec) { s.Tag = "" }, "tag is empty"},
		{"uppercase repo", func(s *Spec) { s.Tag = "weft.local/App:dev" }, "repository component"},
		{"bad arch", func(s *Spec) { s.Arch = "x86 64" }, "arch"},
		{"no user", func(s *Spec) { s.Config.User = "" }, "user: empty"},
		{"root user", func(s *Spec) { s.Config.User = "0" }, "root"},
		{"named user", func(s *Spec) { s.Config.User = "nonroot" }, "numeric"},
		{"named group", func(s *Spec) { s.Config.User = "65532:staff" }, "gid must be numeric"},
		{"relative workdir", func(s *Spec) { s.Config.WorkingDir = "data" }, "working dir"},
		{"env without =", func(s *Spec) { s.Config.Env = []string{"PATH"} }, "env[0]"},
		{"env twice", func(s *Spec) { s.Config.Env = []string{"A=1", "A=2"} }, "set twice"},
		{"port zero", func(s *Spec) { s.Config.ExposedPorts = []string{"0"} }, "port must be"},
		{"port proto", func(s *Spec) { s.Config.ExposedPorts = []string{"80/http"} }, "protocol"},
		{"empty label", func(s *Spec) { s.Config.Labels = map[string]string{"": "x"} }, "labels"},
		{"nothing to run", func(s *Spec) { s.Config.Entrypoint, s.Config.Cmd = nil, nil }, "entrypoint and cmd"},
		{"relative path", func(s *Spec) { s.Files[0].Path = "etc" }, "absolute"},
		{"unclean path", func(s *Spec) { s.Files[0].Path = "/etc/../etc" }, "absolute, clean"},
		{"root path", func(s *Spec) { s.Files[0].Path = "/" }, "not /"},
		{"empty path", func(s *Spec) { s.Files[0].Path = "" }, "path is empty"},
		{"symlink", func(s *Spec) { s.Files[1].Mode = fs.ModeSymlink | 0o777 }, "only regular files"},
		{"negative uid", func(s *Spec) { s.Files[1].UID = -1 }, "negative"},
		{"dir with content", func(s *Spec) { s.Files[0].Content = []byte("x") }, "directory has no content"},
		{"content and source", func(s *Spec) { s.Files[1].Source = "/etc/hostname" }, "not both"},
		{"missing source", func(s *Spec) { s.Files[1].Content, s.Files[1].Source = nil, "/nonexistent/x" }, "source"},
		{"duplicate", func(s *Spec) { s.Files = append(s.Files, File{Path: "/etc/passwd", Mode: 0o644}) }, "listed twice"},
		{"file as parent", func(s *Spec) {
			s.Files = append(s.Files, File{Path: "/etc/passwd/x", Mode: 0o644})
		}, "is a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t)
			tt.mutate(&s)
			_, err := Build(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestBaseRejectsBadUser(t *testing.T) {
	for _, tt := range []struct {
		user string
		uid  int
	}{{"root", 1}, {"", 1}, {"Bad", 1}, {"nonroot", 0}, {"nonroot", -5}, {"nonroot", 1 << 31}} {
		if _, err := Base(tt.user, tt.uid); err == nil {
			t.Errorf("Base(%q, %d) succeeded", tt.user, tt.uid)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, name, tag, err string
	}{
		{in: "weft.local/weft:dev", name: "weft.local/weft:dev", tag: "dev"},
		{in: "weft:dev", name: "docker.io/library/weft:dev", tag: "dev"},
		{in: "org/weft", name: "docker.io/org/weft:latest", tag: "latest"},
		{in: "localhost/weft:1.0", name: "localhost/weft:1.0", tag: "1.0"},
		{in: "registry:5000/a/b-c__d:v1.2-rc_3", name: "registry:5000/a/b-c__d:v1.2-rc_3", tag: "v1.2-rc_3"},
		{in: "", err: "empty"},
		{in: "weft@sha256:abcd", err: "digest"},
		{in: "weft:", err: "tag part"},
		{in: "weft:-x", err: "tag part"},
		{in: "Weft:dev", err: "repository component"},
		{in: "a//b:dev", err: "repository component"},
		{in: "bad_host.local/x:dev", err: "registry"},
		{in: "x/" + strings.Repeat("a", 300), err: "255"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRef(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || r.Name != tt.name || r.Tag != tt.tag {
				t.Fatalf("got %+v, %v; want %s %s", r, err, tt.name, tt.tag)
			}
		})
	}
}

func TestUnixSetuidBitsAreRejected(t *testing.T) {
	s := testSpec(t)
	s.Files[1].Mode = 0o4755 // a Unix mode, not an fs.FileMode
	if _, err := Build(s); err == nil || !strings.Contains(err.Error(), "fs.ModeSetuid") {
		t.Fatalf("err = %v", err)
	}
}
