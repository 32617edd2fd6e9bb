package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"weft/client"
	"weft/peer/chaincode"
	"weft/runner/population"
	"weft/spec"
)

type orgPeer struct {
	k     int
	mspID string
	gw    *client.Gateway
}

func (u *up) deployChaincodes(ctx context.Context) ([]ChaincodeUp, error) {
	var out []ChaincodeUp
	for i := range u.n.Chaincodes {
		cc := u.n.Chaincodes[i]
		d, err := u.deployOne(ctx, i, cc)
		if err != nil {
			return nil, fmt.Errorf("chaincode %q on %q: %w", cc.Name, cc.Channel, err)
		}
		out = append(out, *d)
	}
	return out, nil
}

func (u *up) deployOne(ctx context.Context, i int, cc spec.Chaincode) (*ChaincodeUp, error) {
	ch := u.n.Channel(cc.Channel)
	address := ""
	var run *proc
	if cc.CCaaS != nil {
		address = cc.CCaaS.Address
	} else {
		address = fmt.Sprintf("127.0.0.1:%d", u.ep.Chaincode(i))
		run = u.built[cc.Name]
		if run == nil {
			return nil, fmt.Errorf("chaincode %q was not built", cc.Name)
		}
	}
	pkg, err := chaincode.BuildCCaaSPackage(cc.Label, chaincode.Connection{Address: address, DialTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	pkgID := chaincode.PackageID(cc.Label, pkg)

	// Install on every peer of the channel's orgs (idempotent).
	var orgs []orgPeer
	for k := range u.n.Orgs {
		o := &u.n.Orgs[k]
		if !slices.Contains(ch.Orgs, o.Name) {
			continue
		}
		admin, err := u.orgUser(k, "Admin")
		if err != nil {
			return nil, err
		}
		for p := range o.PeerHosts() {
			conn, err := u.peerConn(ctx, k, p)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			if _, err := client.InstallChaincode(ctx, conn, admin, pkg); err != nil {
				return nil, fmt.Errorf("install on %s: %w", o.PeerHosts()[p], err)
			}
			if p == 0 {
				id, _ := u.n.MSPID(o.Name)
				orgs = append(orgs, orgPeer{k: k, mspID: id, gw: &client.Gateway{Conn: conn, Signer: admin}})
			}
		}
	}
	u.step("chaincode %s: package %s installed on the peers of %v", cc.Name, pkgID, ch.Orgs)

	if run != nil {
		run.env = append(run.env, "CHAINCODE_ID="+pkgID, "CHAINCODE_SERVER_ADDRESS="+address, "CORE_CHAINCODE_ID_NAME="+pkgID)
		// A server started for another package (an older version) must
		// give way: the peers only talk to the package they approved.
		idFile := filepath.Join(u.opts.Dir, "run", run.name+".ccid")
		if prev, err := os.ReadFile(idFile); err == nil && string(prev) != pkgID {
			if err := stop(u.opts.Dir, run.name, 10*time.Second); err != nil {
				return nil, err
			}
		}
		if _, err := u.start(*run); err != nil {
			return nil, err
		}
		if err := os.WriteFile(idFile, []byte(pkgID), 0o644); err != nil {
			return nil, err
		}
		if err := waitTCP(ctx, address); err != nil {
			return nil, fmt.Errorf("chaincode server %s: %w (see %s)", address, err, logFile(u.opts.Dir, run.name))
		}
		u.step("chaincode %s: server running at %s", cc.Name, address)
	}

	def, err := population.Definition(cc)
	if err != nil {
		return nil, err
	}
	committed, approvedBy, err := population.CommittedDefinition(ctx, orgs[0].gw, cc.Channel, cc.Name)
	if err != nil {
		return nil, err
	}
	if committed >= cc.Sequence {
		u.step("chaincode %s: sequence %d already committed", cc.Name, committed)
		// An org that joined the channel later must approve the committed
		// definition before its peers run the chaincode.
		for _, o := range orgs {
			if approvedBy[o.mspID] {
				continue
			}
			d := def
			d.Sequence = committed
			if err := o.gw.Approve(ctx, cc.Channel, o.mspID, d, pkgID); err != nil {
				return nil, fmt.Errorf("approve committed sequence %d for %s: %w", committed, o.mspID, err)
			}
			u.step("chaincode %s: %s approved the committed definition", cc.Name, o.mspID)
		}
		return &ChaincodeUp{Name: cc.Name, Channel: cc.Channel, Sequence: committed, PackageID: pkgID, Address: address}, nil
	}
	approvals, err := population.CommitReadiness(ctx, orgs[0].gw, cc.Channel, def)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		if approvals[o.mspID] {
			continue
		}
		if err := o.gw.Approve(ctx, cc.Channel, o.mspID, def, pkgID); err != nil {
			return nil, fmt.Errorf("approve for %s: %w", o.mspID, err)
		}
		u.step("chaincode %s: approved by %s", cc.Name, o.mspID)
	}
	// Every endorser of the commit must have seen every approval, or their
	// read sets differ.
	if err := sameHeights(ctx, orgs, cc.Channel); err != nil {
		return nil, err
	}
	if err := orgs[0].gw.Commit(ctx, cc.Channel, def); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	u.step("chaincode %s: definition version %s sequence %d committed on %s", cc.Name, cc.Version, cc.Sequence, cc.Channel)
	if cc.InitRequired {
		args := cc.InitArgs
		if len(args) == 0 {
			args = []string{"InitLedger"}
		}
		raw := make([][]byte, len(args))
		for i, a := range args {
			raw[i] = []byte(a)
		}
		// Every org's peers must have the new definition before they
		// endorse the Init transaction.
		if err := sameHeights(ctx, orgs, cc.Channel); err != nil {
			return nil, err
		}
		user := &client.Gateway{Conn: orgs[0].gw.Conn, Signer: orgs[0].gw.Signer}
		if _, _, err := user.SubmitInit(ctx, cc.Channel, cc.Name, raw...); err != nil {
			return nil, fmt.Errorf("init (%v): %w", args, err)
		}
		u.step("chaincode %s: initialized with %v", cc.Name, args)
	}
	return &ChaincodeUp{Name: cc.Name, Channel: cc.Channel, Sequence: cc.Sequence, PackageID: pkgID, Address: address}, nil
}

func sameHeights(ctx context.Context, orgs []orgPeer, channel string) error {
	gws := make([]*client.Gateway, len(orgs))
	for i, o := range orgs {
		gws[i] = o.gw
	}
	return population.SameHeights(ctx, gws, channel)
}

// buildChaincodes checks the tools and builds every chaincode with a path
// before any process starts, so a broken build leaves nothing running.
func (u *up) buildChaincodes(ctx context.Context) error {
	u.built = map[string]*proc{}
	for _, cc := range u.n.Chaincodes {
		if cc.CCaaS != nil {
			continue
		}
		p, err := u.buildChaincode(ctx, cc)
		if err != nil {
			return fmt.Errorf("chaincode %q: %w", cc.Name, err)
		}
		u.built[cc.Name] = p
	}
	return nil
}

// buildChaincode builds a chaincode from source (Go: go build; Node: npm
// install) and returns how to run it as a service.
func (u *up) buildChaincode(ctx context.Context, cc spec.Chaincode) (*proc, error) {
	src := cc.Path
	if !filepath.IsAbs(src) {
		src = filepath.Join(u.opts.SpecDir, src)
	}
	name := "chaincode-" + cc.Name
	switch {
	case exists(filepath.Join(src, "package.json")):
		if _, err := exec.LookPath("npm"); err != nil {
			return nil, fmt.Errorf("path %s is a Node chaincode, but npm is not on PATH (install Node.js and npm)", src)
		}
		if !exists(filepath.Join(src, "node_modules")) {
			u.step("chaincode %s: npm install in %s", cc.Name, src)
			if err := runIn(ctx, src, "npm", "install", "--no-audit", "--no-fund"); err != nil {
				return nil, err
			}
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			return nil, fmt.Errorf("Node chaincode needs npm on PATH: %w", err)
		}
		return &proc{name: name, path: npm, args: []string{"start"}, dir: src}, nil
	case exists(filepath.Join(src, "go.mod")) || hasGoFiles(src):
		if _, err := exec.LookPath("go"); err != nil {
			return nil, fmt.Errorf("path %s is a Go chaincode, but go is not on PATH (install Go)", src)
		}
		bin := filepath.Join(u.opts.Dir, "chaincodes", cc.Name, cc.Name)
		u.step("chaincode %s: go build %s", cc.Name, src)
		if err := runIn(ctx, src, "go", "build", "-o", bin, "."); err != nil {
			return nil, err
		}
		return &proc{name: name, path: bin, dir: filepath.Dir(bin)}, nil
	}
	return nil, fmt.Errorf("path %s: neither a Go (go.mod or .go files) nor a Node (package.json) chaincode", src)
}

func runIn(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v in %s: %w\n%s", name, args, dir, err, out)
	}
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func hasGoFiles(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

func waitTCP(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
