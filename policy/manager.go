package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"weft/msp"
	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

// RootGroup is the key of the root group of every channel config.
const RootGroup = "Channel"

// Manager is the policy tree of one channel config.
type Manager struct {
	root *group
}

type group struct {
	path     string
	groups   map[string]*group
	policies map[string]Policy
}

// NewManager compiles every policy of the config tree rooted at root (the
// "Channel" group) against the MSPs of mg.
func NewManager(root *common.ConfigGroup, mg *msp.Manager) (*Manager, error) {
	if root == nil {
		return nil, errors.New("policy manager: root config group is nil")
	}
	if mg == nil {
		return nil, errors.New("policy manager: msp manager is nil")
	}
	g, err := buildGroup("/"+RootGroup, root, mg, 0)
	if err != nil {
		return nil, fmt.Errorf("policy manager: %w", err)
	}
	return &Manager{root: g}, nil
}

const maxGroupDepth = 32

func buildGroup(path string, cg *common.ConfigGroup, mg *msp.Manager, depth int) (*group, error) {
	if depth > maxGroupDepth {
		return nil, fmt.Errorf("group %s: nested deeper than %d", path, maxGroupDepth)
	}
	g := &group{path: path, groups: map[string]*group{}, policies: map[string]Policy{}}
	for _, name := range sortedKeys(cg.GetGroups()) {
		sub := cg.GetGroups()[name]
		if sub == nil {
			return nil, fmt.Errorf("group %s/%s is nil", path, name)
		}
		child, err := buildGroup(path+"/"+name, sub, mg, depth+1)
		if err != nil {
			return nil, err
		}
		g.groups[name] = child
	}
	for _, name := range sortedKeys(cg.GetPolicies()) {
		p, err := g.compile(name, cg.GetPolicies()[name], mg)
		if err != nil {
			return nil, fmt.Errorf("policy %s/%s: %w", path, name, err)
		}
		g.policies[name] = &named{path: path + "/" + name, p: p}
	}
	return g, nil
}

func (g *group) compile(name string, cp *common.ConfigPolicy, mg *msp.Manager) (Policy, error) {
	pol := cp.GetPolicy()
	if pol == nil {
		return nil, errors.New("policy is nil")
	}
	switch common.Policy_PolicyType(pol.GetType()) {
	case common.Policy_SIGNATURE:
		env := &common.SignaturePolicyEnvelope{}
		if err := proto.Unmarshal(pol.GetValue(), env); err != nil {
			return nil, fmt.Errorf("unmarshal SignaturePolicyEnvelope: %w", err)
		}
		return NewSignaturePolicy(env, mg)
	case common.Policy_IMPLICIT_META:
		def := &common.ImplicitMetaPolicy{}
		if err := proto.Unmarshal(pol.GetValue(), def); err != nil {
			return nil, fmt.Errorf("unmarshal ImplicitMetaPolicy: %w", err)
		}
		var children []implicitChild
		for _, cn := range sortedKeys(g.groups) {
			p, _ := g.groups[cn].lookup(def.GetSubPolicy())
			children = append(children, implicitChild{name: cn, policy: p})
		}
		return newImplicitMeta(def, children)
	}
	return nil, fmt.Errorf("unsupported policy type %d (want SIGNATURE=1 or IMPLICIT_META=3)", pol.GetType())
}

// lookup resolves a name relative to g; "Org1MSP/Admins" descends into
// child groups, as Fabric's flattened policy map allows.
func (g *group) lookup(rel string) (Policy, bool) {
	if g == nil || rel == "" {
		return nil, false
	}
	parts := strings.Split(rel, "/")
	cur := g
	for _, p := range parts[:len(parts)-1] {
		if cur = cur.groups[p]; cur == nil {
			return nil, false
		}
	}
	p, ok := cur.policies[parts[len(parts)-1]]
	return p, ok
}

func (g *group) descend(path []string) (*group, bool) {
	cur := g
	for _, p := range path {
		if cur = cur.groups[p]; cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// Policy returns the policy at an absolute path such as
// "/Channel/Application/Writers"; a path without the leading slash is
// taken relative to the Channel group.
func (m *Manager) Policy(path string) (Policy, bool) {
	if m == nil || m.root == nil {
		return nil, false
	}
	if strings.HasPrefix(path, "/") {
		rest, ok := strings.CutPrefix(path, "/"+RootGroup+"/")
		if !ok {
			return nil, false
		}
		return m.root.lookup(rest)
	}
	return m.root.lookup(path)
}

// PolicyFor resolves name as a config item's mod_policy is resolved: an
// absolute "/Channel/..." path as is, anything else relative to the group at
// groupPath. groupPath lists group names from the root and may start with
// "Channel" (["Channel", "Application", "Org1MSP"] and
// ["Application", "Org1MSP"] are the same group).
func (m *Manager) PolicyFor(groupPath []string, name string) (Policy, bool) {
	if m == nil || m.root == nil || name == "" {
		return nil, false
	}
	if strings.HasPrefix(name, "/") {
		return m.Policy(name)
	}
	if len(groupPath) > 0 && groupPath[0] == RootGroup {
		groupPath = groupPath[1:]
	}
	g, ok := m.root.descend(groupPath)
	if !ok {
		return nil, false
	}
	return g.lookup(name)
}

// named prefixes evaluation errors with the policy's path.
type named struct {
	path string
	p    Policy
}

func (n *named) EvaluateSignedData(sds []SignedData) error {
	if err := n.p.EvaluateSignedData(sds); err != nil {
		return fmt.Errorf("policy %s: %w", n.path, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
