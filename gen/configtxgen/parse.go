package configtxgen

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"
)

// The file* types hold one profile of configtx.yaml after syntax checks,
// unit conversion and path resolution, but before any file it names is read.

type filePolicy struct {
	Type string // "ImplicitMeta" or "Signature"
	Rule string
}

type fileAnchor struct {
	Host string
	Port uint32
}

type fileOrg struct {
	Name             string
	ID               string
	MSPDir           string // resolved against the config file's directory
	Policies         map[string]filePolicy
	AnchorPeers      []fileAnchor
	OrdererEndpoints []string
}

type fileApplication struct {
	Organizations []fileOrg
	Capabilities  []string
	Policies      map[string]filePolicy
	ACLs          map[string]string
}

type fileConsenter struct {
	Host          string
	Port          uint32
	ClientTLSCert string // file path
	ServerTLSCert string // file path
}

type fileRaftOptions struct {
	TickInterval         string
	ElectionTick         uint32
	HeartbeatTick        uint32
	MaxInflightBlocks    uint32
	SnapshotIntervalSize uint32
}

type fileOrderer struct {
	OrdererType       string
	Addresses         []string
	BatchTimeout      time.Duration
	MaxMessageCount   uint32
	AbsoluteMaxBytes  uint32
	PreferredMaxBytes uint32
	Consenters        []fileConsenter
	Options           fileRaftOptions
	Organizations     []fileOrg
	Capabilities      []string
	Policies          map[string]filePolicy
	MaxChannels       uint64
}

type fileProfile struct {
	Policies     map[string]filePolicy
	Capabilities []string
	Application  *fileApplication
	Orderer      *fileOrderer
}

// Defaults configtxgen fills in for settings a profile leaves out.
const (
	defaultBatchTimeout      = 2 * time.Second
	defaultMaxMessageCount   = 500
	defaultAbsoluteMaxBytes  = 10 << 20
	defaultPreferredMaxBytes = 2 << 20
	defaultTickInterval      = "500ms"
	defaultElectionTick      = 10
	defaultHeartbeatTick     = 1
	defaultMaxInflight       = 5
	defaultSnapshotInterval  = 16 << 20
)

var topLevelKeys = []string{"Organizations", "Capabilities", "Application", "Orderer", "Channel", "Profiles", "Resources"}

// parseProfile checks the profile at path and resolves relative file paths
// against baseDir (the directory holding configtx.yaml).
func parseProfile(path string, v any, baseDir string) (*fileProfile, error) {
	o, err := newObj(path, v, "Policies", "Capabilities", "Application", "Orderer", "Consortium", "Consortiums")
	if err != nil {
		return nil, err
	}
	if o.has("Consortiums") || o.has("Consortium") {
		return nil, fmt.Errorf("%s: consortium profiles describe the removed system channel; an application channel profile needs Application and Orderer sections instead", path)
	}
	p := &fileProfile{}
	if p.Policies, err = parsePolicies(o, "Policies"); err != nil {
		return nil, err
	}
	if p.Capabilities, err = parseCapabilities(o, "Capabilities"); err != nil {
		return nil, err
	}
	if o.has("Application") {
		if p.Application, err = parseApplication(o, baseDir); err != nil {
			return nil, err
		}
	}
	if o.has("Orderer") {
		if p.Orderer, err = parseOrderer(o, baseDir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parsePolicies(parent obj, key string) (map[string]filePolicy, error) {
	if parent.m[key] == nil {
		return map[string]filePolicy{}, nil
	}
	raw, err := stringKeyed(parent.at(key), parent.m[key])
	if err != nil {
		return nil, err
	}
	out := make(map[string]filePolicy, len(raw))
	for name, v := range raw {
		po, err := newObj(join(parent.at(key), name), v, "Type", "Rule")
		if err != nil {
			return nil, err
		}
		var p filePolicy
		if p.Type, err = po.str("Type"); err != nil {
			return nil, err
		}
		if p.Rule, err = po.str("Rule"); err != nil {
			return nil, err
		}
		if p.Type != "ImplicitMeta" && p.Type != "Signature" {
			return nil, fmt.Errorf("%s: unknown policy type %q (want ImplicitMeta or Signature)", po.at("Type"), p.Type)
		}
		if p.Rule == "" {
			return nil, fmt.Errorf("%s: rule is empty", po.at("Rule"))
		}
		out[name] = p
	}
	return out, nil
}

// parseCapabilities returns the names set to true, sorted; a capability set
// to false is simply not required.
func parseCapabilities(parent obj, key string) ([]string, error) {
	if parent.m[key] == nil {
		return nil, nil
	}
	raw, err := stringKeyed(parent.at(key), parent.m[key])
	if err != nil {
		return nil, err
	}
	c := obj{path: parent.at(key), m: raw}
	var out []string
	for name := range raw {
		on, err := c.boolean(name)
		if err != nil {
			return nil, err
		}
		if on {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func parseApplication(parent obj, baseDir string) (*fileApplication, error) {
	o, err := parent.sub("Application", "Organizations", "Capabilities", "Policies", "ACLs", "Resources")
	if err != nil {
		return nil, err
	}
	a := &fileApplication{ACLs: map[string]string{}}
	if a.Organizations, err = parseOrgs(o, baseDir); err != nil {
		return nil, err
	}
	if a.Capabilities, err = parseCapabilities(o, "Capabilities"); err != nil {
		return nil, err
	}
	if a.Policies, err = parsePolicies(o, "Policies"); err != nil {
		return nil, err
	}
	if o.has("ACLs") {
		raw, err := stringKeyed(o.at("ACLs"), o.m["ACLs"])
		if err != nil {
			return nil, err
		}
		acls := obj{path: o.at("ACLs"), m: raw}
		for res := range raw {
			if a.ACLs[res], err = acls.str(res); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

func parseOrgs(parent obj, baseDir string) ([]fileOrg, error) {
	items, err := parent.list("Organizations")
	if err != nil {
		return nil, err
	}
	orgs := make([]fileOrg, 0, len(items))
	for i, v := range items {
		org, err := parseOrg(fmt.Sprintf("%s[%d]", parent.at("Organizations"), i), v, baseDir)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, org)
	}
	return orgs, nil
}

func parseOrg(path string, v any, baseDir string) (fileOrg, error) {
	o, err := newObj(path, v, "Name", "ID", "MSPDir", "MSPType", "Policies", "AnchorPeers",
		"OrdererEndpoints", "AdminPrincipal", "SkipAsForeign")
	if err != nil {
		return fileOrg{}, err
	}
	var org fileOrg
	if err := requiredStrings(o, []string{"Name", "ID", "MSPDir"}, []*string{&org.Name, &org.ID, &org.MSPDir}); err != nil {
		return fileOrg{}, err
	}
	org.MSPDir = resolvePath(baseDir, org.MSPDir)
	if t, err := o.str("MSPType"); err != nil {
		return fileOrg{}, err
	} else if t != "" && t != "bccsp" {
		return fileOrg{}, fmt.Errorf("%s: MSP type %q not supported (only bccsp)", o.at("MSPType"), t)
	}
	if skip, err := o.boolean("SkipAsForeign"); err != nil {
		return fileOrg{}, err
	} else if skip {
		return fileOrg{}, fmt.Errorf("%s: a genesis block needs every organization's MSP; SkipAsForeign cannot be true", o.at("SkipAsForeign"))
	}
	if org.Policies, err = parsePolicies(o, "Policies"); err != nil {
		return fileOrg{}, err
	}
	if org.OrdererEndpoints, err = o.strList("OrdererEndpoints"); err != nil {
		return fileOrg{}, err
	}
	anchors, err := o.list("AnchorPeers")
	if err != nil {
		return fileOrg{}, err
	}
	for i, av := range anchors {
		ap, _, err := parseHostPort(fmt.Sprintf("%s[%d]", o.at("AnchorPeers"), i), av)
		if err != nil {
			return fileOrg{}, err
		}
		org.AnchorPeers = append(org.AnchorPeers, fileAnchor(ap))
	}
	return org, nil
}

type hostPort struct {
	Host string
	Port uint32
}

// parseHostPort reads a mapping with Host and Port (and the extra keys
// allowed), returning the mapping too so callers can read the extras.
func parseHostPort(path string, v any, extra ...string) (hostPort, obj, error) {
	o, err := newObj(path, v, append([]string{"Host", "Port"}, extra...)...)
	if err != nil {
		return hostPort{}, o, err
	}
	var hp hostPort
	if err := requiredStrings(o, []string{"Host"}, []*string{&hp.Host}); err != nil {
		return hostPort{}, o, err
	}
	port, err := o.uint("Port", math.MaxUint16)
	if err != nil {
		return hostPort{}, o, err
	}
	if port == 0 {
		return hostPort{}, o, fmt.Errorf("%s: missing or zero", o.at("Port"))
	}
	hp.Port = uint32(port)
	return hp, o, nil
}

// requiredStrings reads keys[i] into dst[i], in order, failing on the first
// one that is absent or empty.
func requiredStrings(o obj, keys []string, dst []*string) error {
	for i, key := range keys {
		s, err := o.str(key)
		if err != nil {
			return err
		}
		if s == "" {
			return fmt.Errorf("%s: missing", o.at(key))
		}
		*dst[i] = s
	}
	return nil
}

// resolvePath makes a relative path relative to baseDir, as configtxgen
// does for MSPDir and TLS certificate paths.
func resolvePath(baseDir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(baseDir, p)
}
