package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"weft/image"
)

// Defaults for images built by `weft image build`.
const (
	defaultImageTag    = "weft.local/weft:dev"
	defaultImageOutput = "weft-image.tar"
	// chaincodeListen is the CCaaS address the chaincode image listens on
	// unless the deployment overrides CHAINCODE_SERVER_ADDRESS; 9999 is
	// the port Fabric's chaincode-as-a-service samples use.
	chaincodeListen = "0.0.0.0:9999"
	imagePath       = "PATH=/usr/local/bin:/usr/bin:/bin"
)

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build container images of weft and of Go chaincode without a Docker daemon",
	}
	cmd.AddCommand(newImageBuildCmd())
	return cmd
}

type imageBuildFlags struct {
	tag, output, format, source, chaincode, arch string
}

// imageBuildResult is the -o json output.
type imageBuildResult struct {
	Tag    string `json:"tag"`
	File   string `json:"file"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

func newImageBuildCmd() *cobra.Command {
	var f imageBuildFlags
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the weft image (or a Go chaincode image) as an OCI/docker-archive tarball",
		Long: `Build compiles a static Linux binary (CGO_ENABLED=0, -trimpath, -s -w) and
packs it, with a minimal base (/etc/passwd and /etc/group naming the
non-root user 65532, and /tmp), into a one-layer image that runs as
65532:65532. No Docker daemon or registry is involved.

The tarball is both an OCI image layout and a docker-archive, so
"ctr -n k8s.io images import" and "docker load" both accept it. The same
sources give the same bytes and therefore the same image digest.

Without --chaincode it builds ./cmd/weft of the Go module that contains the
current directory (or --source) into /usr/local/bin/weft. With
--chaincode DIR it builds the Go main package in DIR into
/usr/local/bin/chaincode, served as a chaincode service: it listens on
CHAINCODE_SERVER_ADDRESS (default ` + chaincodeListen + `) and needs CHAINCODE_ID
set by the deployment.`,
		Example: `  weft image build
  weft image build --tag weft.local/weft:v1 --tarball /tmp/weft.tar -o json
  weft image build --chaincode chaincode/basic --tag weft.local/basic:1.0
  ctr -n k8s.io images import weft-image.tar`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.complete(); err != nil {
				return err
			}
			return runImageBuild(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tag, "tag", "", "image reference (default "+defaultImageTag+", or weft.local/<dir>:dev with --chaincode)")
	fl.StringVar(&f.output, "tarball", "", "tarball to write (default "+defaultImageOutput+", or <dir>-image.tar with --chaincode)")
	fl.StringVarP(&f.format, "output", "o", "text", "output format: text or json")
	fl.StringVar(&f.source, "source", "", "directory inside the weft Go module to build from (default: the current directory)")
	fl.StringVar(&f.chaincode, "chaincode", "", "directory of a Go chaincode main package to build instead of weft")
	fl.StringVar(&f.arch, "arch", runtime.GOARCH, "target CPU architecture (GOARCH)")
	return cmd
}

// complete checks the flags and fills in the defaults that depend on
// --chaincode, before anything slow runs.
func (f *imageBuildFlags) complete() error {
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("-o/--output: %q must be text or json (the tarball is --tarball)", f.format)
	}
	if f.chaincode != "" && f.source != "" {
		return fmt.Errorf("--source and --chaincode: set one; a chaincode is built from its own directory")
	}
	if f.chaincode != "" {
		abs, err := filepath.Abs(f.chaincode)
		if err != nil {
			return fmt.Errorf("--chaincode %q: %w", f.chaincode, err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return fmt.Errorf("--chaincode %q: not a directory", f.chaincode)
		}
		f.chaincode = abs
		name := strings.ToLower(filepath.Base(abs))
		if f.tag == "" {
			f.tag = "weft.local/" + name + ":dev"
		}
		if f.output == "" {
			f.output = name + "-image.tar"
		}
	}
	if f.tag == "" {
		f.tag = defaultImageTag
	}
	if f.output == "" {
		f.output = defaultImageOutput
	}
	if _, err := image.ParseRef(f.tag); err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	return nil
}

func runImageBuild(cmd *cobra.Command, f imageBuildFlags) error {
	ctx, progress := cmd.Context(), cmd.ErrOrStderr()
	build := image.GoBuild{Arch: f.arch, Stderr: progress}
	binPath := "/usr/local/bin/weft"
	cfg := image.Config{
		Env:    []string{imagePath},
		User:   fmt.Sprintf("%d:%d", image.NonRootUID, image.NonRootUID),
		Labels: map[string]string{"org.opencontainers.image.title": "weft", "org.opencontainers.image.version": Version},
	}
	if f.chaincode != "" {
		binPath = "/usr/local/bin/chaincode"
		build.Dir, build.Package = f.chaincode, "."
		cfg.Env = append(cfg.Env, "CHAINCODE_SERVER_ADDRESS="+chaincodeListen)
		cfg.ExposedPorts = []string{"9999/tcp"}
		cfg.Labels = map[string]string{"org.opencontainers.image.title": filepath.Base(f.chaincode)}
	} else {
		dir := f.source
		if dir == "" {
			dir = "."
		}
		root, err := image.ModuleRoot(ctx, dir)
		if err != nil {
			return fmt.Errorf("--source: %w", err)
		}
		build.Dir, build.Package = root, "./cmd/weft"
		build.LDFlags = "-X weft/internal/cli.Version=" + Version
	}
	cfg.Entrypoint = []string{binPath}

	fmt.Fprintf(progress, "building %s (linux/%s) in %s\n", build.Package, f.arch, build.Dir)
	bin, err := image.BuildGo(ctx, build)
	if err != nil {
		return err
	}
	if len(bin) == 0 {
		return fmt.Errorf("go build %s produced no binary: is it a main package?", build.Package)
	}
	base, err := image.Base("nonroot", image.NonRootUID)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "packing %s (%d byte binary at %s)\n", f.tag, len(bin), binPath)
	img, err := image.Build(image.Spec{
		Tag:    f.tag,
		Arch:   f.arch,
		Files:  append(base, image.File{Path: binPath, Mode: 0o755, Content: bin}),
		Config: cfg,
	})
	if err != nil {
		return err
	}
	size, err := img.WriteFile(f.output)
	if err != nil {
		return fmt.Errorf("--tarball: %w", err)
	}
	fmt.Fprintf(progress, "wrote %s (%d bytes)\n", f.output, size)

	res := imageBuildResult{Tag: img.Ref.Name, File: f.output, Digest: img.Digest(), Size: size}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	_, err = fmt.Fprintf(out, "%s %s\n%s (%d bytes)\nimport with: ctr -n k8s.io images import %s\n",
		res.Tag, res.Digest, res.File, res.Size, res.File)
	return err
}
