package cli

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"weft/image"
)

func TestImageBuildRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad format", []string{"-o", "yaml"}, "must be text or json"},
		{"tarball name as format", []string{"--output", "weft.tar"}, "must be text or json"},
		{"source and chaincode", []string{"--source", dir, "--chaincode", dir}, "set one"},
		{"chaincode missing", []string{"--chaincode", filepath.Join(dir, "nope")}, "not a directory"},
		{"bad tag", []string{"--tag", "Weft:dev", "--source", dir}, "--tag"},
		{"not a module", []string{"--source", dir}, "not inside a Go module"},
		{"extra argument", []string{"now"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(append([]string{"image", "build"}, tt.args...), &out, &errOut)
			if code == 0 || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut.String(), tt.want)
			}
		})
	}
}

// runImageBuildJSON runs `weft image build -o json` and returns its result and
// the verified tarball contents.
func runImageBuildJSON(t *testing.T, args ...string) (imageBuildResult, *image.Contents) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Main(append([]string{"image", "build", "-o", "json"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "building ") || !strings.Contains(errOut.String(), "wrote ") {
		t.Errorf("progress lines missing from stderr: %q", errOut.String())
	}
	var res imageBuildResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	data, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != res.Size {
		t.Errorf("size %d, file has %d bytes", res.Size, len(data))
	}
	c, err := image.Verify(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Verify %s: %v", res.File, err)
	}
	if c.Digest != res.Digest || c.Name != res.Tag {
		t.Errorf("JSON says %s %s, tarball says %s %s", res.Tag, res.Digest, c.Name, c.Digest)
	}
	return res, c
}

// extractStatic writes the binary at path out of the image, checks it is
// statically linked (no ELF interpreter) and returns where it is.
func extractStatic(t *testing.T, c *image.Contents, path string) string {
	t.Helper()
	f, ok := c.Files[path]
	if !ok || f.Mode != 0o755 || f.UID != 0 {
		t.Fatalf("%s: %+v (present %v), want root-owned 0755", path, f.Mode, ok)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(bin, f.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", path, err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", path)
		}
	}
	return bin
}

func TestImageBuildWeft(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the weft binary")
	}
	out := filepath.Join(t.TempDir(), "weft.tar")
	res, c := runImageBuildJSON(t, "--tarball", out, "--tag", "weft.local/weft:test")
	if res.Tag != "weft.local/weft:test" || res.File != out {
		t.Errorf("result %+v", res)
	}
	if !reflect.DeepEqual(c.Config.Entrypoint, []string{"/usr/local/bin/weft"}) || c.Config.User != "65532:65532" {
		t.Errorf("config %+v", c.Config)
	}
	if c.Platform.Architecture != runtime.GOARCH || c.Platform.OS != "linux" {
		t.Errorf("platform %+v", c.Platform)
	}
	if _, ok := c.Files["/etc/passwd"]; !ok {
		t.Error("/etc/passwd missing")
	}
	if tmp := c.Files["/tmp"]; tmp.Mode != fs.ModeDir|fs.ModeSticky|0o777 {
		t.Errorf("/tmp mode %v", tmp.Mode)
	}
	bin := extractStatic(t, c, "/usr/local/bin/weft")
	got, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(got), "weft ") {
		t.Fatalf("weft version: %v: %q", err, got)
	}
}

func TestImageBuildChaincode(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a chaincode")
	}
	// A tiny module stands in for a chaincode: this tests the packaging,
	// not the chaincode, and keeps the build fast.
	src := filepath.Join(t.TempDir(), "MyCC")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"go.mod":  "module mycc\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"cc ok\") }\n",
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The default output lands in the working directory.
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	res, c := runImageBuildJSON(t, "--chaincode", src)
	if res.Tag != "weft.local/mycc:dev" || res.File != "mycc-image.tar" {
		t.Errorf("defaults: %+v", res)
	}
	wantEnv := []string{imagePath, "CHAINCODE_SERVER_ADDRESS=" + chaincodeListen}
	if !reflect.DeepEqual(c.Config.Env, wantEnv) || !reflect.DeepEqual(c.Config.ExposedPorts, []string{"9999/tcp"}) ||
		!reflect.DeepEqual(c.Config.Entrypoint, []string{"/usr/local/bin/chaincode"}) {
		t.Errorf("config %+v", c.Config)
	}
	got, err := exec.Command(extractStatic(t, c, "/usr/local/bin/chaincode")).CombinedOutput()
	if err != nil || string(got) != "cc ok\n" {
		t.Fatalf("chaincode binary: %v: %q", err, got)
	}

	// A second build of the same sources gives the same image.
	again, _ := runImageBuildJSON(t, "--chaincode", src, "--tarball", "again.tar")
	if again.Digest != res.Digest {
		t.Errorf("rebuild changed the digest: %s vs %s", again.Digest, res.Digest)
	}
	a, _ := os.ReadFile(res.File)
	b, _ := os.ReadFile(again.File)
	if !bytes.Equal(a, b) {
		t.Error("rebuild changed the tarball bytes")
	}
}
