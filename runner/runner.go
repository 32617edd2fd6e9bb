// Package runner brings a network spec to life on this machine: it
// generates the material, starts every orderer, peer and chaincode as its
// own OS process, joins channels and deploys chaincodes through the v2
// lifecycle. Every step checks what already exists first, so running it
// again applies only what is missing.
package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"weft/gen/network"
	"weft/spec"
	"weft/wire/common"
)

// Options configure Up.
type Options struct {
	// Dir is the data directory (default ./weft-data).
	Dir string
	// Spec is the network; SpecDir is where chaincode paths are resolved.
	Spec    *spec.Network
	SpecDir string
	// Binary is the weft executable the nodes run (default: this one).
	Binary   string
	Progress io.Writer
	// Timeout bounds the whole bring-up (default 5 minutes).
	Timeout time.Duration
	// BasePort is the first orderer's port; every other port follows
	// from it (0: the data directory's saved choice, else 7050).
	BasePort int
}

// Network describes a running network (for summaries and `weft status`).
type Network struct {
	Name     string        `json:"name"`
	Dir      string        `json:"dir"`
	Nodes    []NodeStatus  `json:"nodes"`
	Channels []string      `json:"channels"`
	CCs      []ChaincodeUp `json:"chaincodes"`
	Profiles []string      `json:"connectionProfiles"`
}

// NodeStatus is one process of the network.
type NodeStatus struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Org     string `json:"org,omitempty"`
	Address string `json:"address,omitempty"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"`
	Healthy bool   `json:"healthy"`
	Log     string `json:"log"`
}

// ChaincodeUp is a deployed chaincode.
type ChaincodeUp struct {
	Name      string `json:"name"`
	Channel   string `json:"channel"`
	Sequence  int64  `json:"sequence"`
	PackageID string `json:"packageID"`
	Address   string `json:"address"`
}

const specFile = "network.yaml"

type up struct {
	opts  Options
	n     *spec.Network
	res   *network.Result
	ep    network.Endpoints
	l     network.Layout
	out   io.Writer
	built map[string]*proc // chaincode servers built from source, by name
	// changed are the nodes whose config file this run rewrote with new
	// content; running ones are restarted to pick it up.
	changed map[string]bool
	// started lists the processes this run launched, so a failure can
	// stop them again instead of leaving strays.
	started []string
}

// start launches p (if not running) and remembers it for cleanup.
func (u *up) start(p proc) (int, error) {
	_, was := running(u.opts.Dir, p.name)
	pid, err := start(u.opts.Dir, p)
	if err == nil && !was {
		u.started = append(u.started, p.name)
	}
	return pid, err
}

// cleanup stops what this run started; used when bring-up fails.
func (u *up) cleanup() {
	for i := len(u.started) - 1; i >= 0; i-- {
		stop(u.opts.Dir, u.started[i], 10*time.Second)
	}
}

func (u *up) step(format string, args ...any) {
	fmt.Fprintf(u.out, "==> "+format+"\n", args...)
}

// Up generates what is missing, starts what is not running, joins and
// deploys; it returns once the network is ready.
func Up(ctx context.Context, opts Options) (*Network, error) {
	if opts.Dir == "" {
		opts.Dir = "weft-data"
	}
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		opts.Binary = exe
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	ep, err := endpointsFor(dir, opts.BasePort)
	if err != nil {
		return nil, err
	}
	u := &up{opts: opts, n: opts.Spec, ep: ep, l: network.Layout{Dir: dir}, out: opts.Progress}

	if err := u.buildChaincodes(ctx); err != nil {
		return nil, err
	}
	before := configDigests(u.l)
	u.step("generating crypto material, genesis blocks and node configs in %s", dir)
	if u.res, err = network.Generate(u.n, dir, network.Options{Progress: indentWriter(u.out), Endpoints: ep, EnrollFromCA: true}); err != nil {
		return nil, err
	}
	if err := writeCAConfigs(u.n, u.l, u.ep); err != nil {
		return nil, err
	}
	u.changed = changedConfigs(before, configDigests(u.l))
	ok := false
	defer func() {
		if !ok {
			u.cleanup()
		}
	}()
	if err := u.saveSpec(); err != nil {
		return nil, err
	}
	if err := u.startNodes(ctx, true); err != nil {
		return nil, err
	}
	if err := u.enrollFromCAs(ctx); err != nil {
		return nil, err
	}
	if err := u.startNodes(ctx, false); err != nil {
		return nil, err
	}
	if err := u.joinOrderers(ctx); err != nil {
		return nil, err
	}
	if err := u.updateChannelOrgs(ctx); err != nil {
		return nil, err
	}
	if err := u.joinPeers(ctx); err != nil {
		return nil, err
	}
	// A peer that just joined from a genesis block must have pulled the
	// later config blocks (e.g. the one adding its own org) before it
	// endorses lifecycle transactions.
	hc, err := u.adminHTTP()
	if err != nil {
		return nil, err
	}
	for _, ch := range u.n.Channels {
		if err := u.awaitPeersCaughtUp(ctx, hc, ch.Name); err != nil {
			return nil, err
		}
	}
	ccs, err := u.deployChaincodes(ctx)
	if err != nil {
		return nil, err
	}
	profiles, err := u.writeProfiles()
	if err != nil {
		return nil, err
	}
	st := Status(dir, u.n)
	st.CCs, st.Profiles = ccs, profiles
	ok = true
	return st, nil
}

func (u *up) saveSpec() error {
	data, err := yaml.Marshal(u.n)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(u.opts.Dir, specFile), data, 0o644); err != nil {
		return err
	}
	// Chaincode paths are relative to the spec's folder; remember it so
	// that `weft start` from anywhere finds them again.
	abs, err := filepath.Abs(u.opts.SpecDir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(u.opts.Dir, specDirFile), []byte(abs), 0o644)
}

const (
	specDirFile   = "spec-dir"
	endpointsFile = "endpoints.json"
)

// endpointsFor returns the port layout of the network in dir: the one it
// was created with, or a new one from base (default 7050), saved.
func endpointsFor(dir string, base int) (network.Endpoints, error) {
	path := filepath.Join(dir, endpointsFile)
	if raw, err := os.ReadFile(path); err == nil {
		var ep network.Endpoints
		if err := json.Unmarshal(raw, &ep); err != nil {
			return ep, fmt.Errorf("%s: %w", path, err)
		}
		if base != 0 && base != ep.OrdererBase {
			return ep, fmt.Errorf("--base-port %d: the network in %s was created with base port %d (run `weft down` first to change it)", base, dir, ep.OrdererBase)
		}
		return ep, nil
	}
	if base == 0 {
		base = 7050
	}
	if base < 1024 || base > 65535-3000 {
		return network.Endpoints{}, fmt.Errorf("--base-port %d: must be between 1024 and %d", base, 65535-3000)
	}
	ep := network.EndpointsFrom(base)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ep, err
	}
	raw, _ := json.Marshal(ep)
	return ep, os.WriteFile(path, raw, 0o644)
}

// savedEndpoints is the port layout of an existing network.
func savedEndpoints(dir string) network.Endpoints {
	ep, err := endpointsFor(dir, 0)
	if err != nil {
		return network.DefaultEndpoints()
	}
	return ep
}

// SpecDir is the folder chaincode paths of the network in dir are
// relative to.
func SpecDir(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, specDirFile))
	if err != nil {
		wd, _ := os.Getwd()
		return wd
	}
	return string(b)
}

// LoadSpec reads the spec a data directory was brought up with.
func LoadSpec(dir string) (*spec.Network, error) {
	n, err := spec.Load(filepath.Join(dir, specFile))
	if err != nil {
		return nil, fmt.Errorf("%s does not hold a weft network (run `weft up` first): %w", dir, err)
	}
	return n, nil
}

func (u *up) genesis(channel string) (*common.Block, error) {
	raw, err := os.ReadFile(u.l.ChannelBlock(channel))
	if err != nil {
		return nil, err
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("channel %q genesis block: %w", channel, err)
	}
	return &b, nil
}

type indent struct {
	w   io.Writer
	bol bool
}

func indentWriter(w io.Writer) io.Writer { return &indent{w: w, bol: true} }

func (i *indent) Write(p []byte) (int, error) {
	for _, b := range p {
		if i.bol {
			i.w.Write([]byte("    "))
		}
		i.w.Write([]byte{b})
		i.bol = b == '\n'
	}
	return len(p), nil
}
