package channelconfig

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// rootGroupKey is the name of the top group of every channel config tree.
const rootGroupKey = "Channel"

type elemKind byte

const (
	kindGroup  elemKind = 'G'
	kindValue  elemKind = 'V'
	kindPolicy elemKind = 'P'
)

// configElem is one node of a flattened config tree. Flattening lets update
// validation compare and overlay individual elements by path, which is how
// read sets and write sets are defined.
type configElem struct {
	kind      elemKind
	groupPath []string // the group holding the element (for the root group: empty)
	key       string
	group     *common.ConfigGroup
	value     *common.ConfigValue
	policy    *common.ConfigPolicy
}

func (e *configElem) version() uint64 {
	switch e.kind {
	case kindGroup:
		return e.group.GetVersion()
	case kindValue:
		return e.value.GetVersion()
	default:
		return e.policy.GetVersion()
	}
}

func (e *configElem) modPolicy() string {
	switch e.kind {
	case kindGroup:
		return e.group.GetModPolicy()
	case kindValue:
		return e.value.GetModPolicy()
	default:
		return e.policy.GetModPolicy()
	}
}

// name is the human readable path used in errors, e.g.
// /Channel/Application/Org1MSP/Values/AnchorPeers.
func (e *configElem) name() string {
	base := "/" + strings.Join(append(append([]string{}, e.groupPath...), e.key), "/")
	switch e.kind {
	case kindValue:
		base = "/" + strings.Join(e.groupPath, "/") + "/Values/" + e.key
	case kindPolicy:
		base = "/" + strings.Join(e.groupPath, "/") + "/Policies/" + e.key
	}
	return base
}

// mapKey keeps kinds apart: a group and a value may legitimately render to
// the same display path.
func (e *configElem) mapKey() string { return string(e.kind) + e.name() }

// policyGroup is the group a relative mod_policy is resolved in: a group
// resolves in itself, a value or policy in the group that holds it.
func (e *configElem) policyGroup() []string {
	if e.kind == kindGroup {
		return append(append([]string{}, e.groupPath...), e.key)
	}
	return e.groupPath
}

// resolveModPolicy turns the element's mod_policy into an absolute path.
func (e *configElem) resolveModPolicy() string {
	ref := e.modPolicy()
	if strings.HasPrefix(ref, "/") {
		return ref
	}
	return "/" + strings.Join(e.policyGroup(), "/") + "/" + ref
}

// flattenConfig maps every group, value and policy under root (which stands
// for /Channel) by mapKey, validating keys on the way.
func flattenConfig(root *common.ConfigGroup) (map[string]*configElem, error) {
	out := make(map[string]*configElem)
	if root == nil {
		return out, nil
	}
	if err := flattenGroup(out, nil, rootGroupKey, root); err != nil {
		return nil, err
	}
	return out, nil
}

func flattenGroup(out map[string]*configElem, parent []string, key string, g *common.ConfigGroup) error {
	e := &configElem{kind: kindGroup, groupPath: parent, key: key, group: g}
	if err := validateConfigKey(key); err != nil {
		return fmt.Errorf("%s: %w", e.name(), err)
	}
	out[e.mapKey()] = e
	path := append(append([]string{}, parent...), key)
	for k, child := range g.GetGroups() {
		if child == nil {
			return fmt.Errorf("%s/%s: group is nil", e.name(), k)
		}
		if err := flattenGroup(out, path, k, child); err != nil {
			return err
		}
	}
	for k, v := range g.GetValues() {
		ve := &configElem{kind: kindValue, groupPath: path, key: k, value: v}
		if v == nil {
			return fmt.Errorf("%s: value is nil", ve.name())
		}
		if err := validateConfigKey(k); err != nil {
			return fmt.Errorf("%s: %w", ve.name(), err)
		}
		out[ve.mapKey()] = ve
	}
	for k, p := range g.GetPolicies() {
		pe := &configElem{kind: kindPolicy, groupPath: path, key: k, policy: p}
		if p == nil {
			return fmt.Errorf("%s: policy is nil", pe.name())
		}
		if err := validateConfigKey(k); err != nil {
			return fmt.Errorf("%s: %w", pe.name(), err)
		}
		out[pe.mapKey()] = pe
	}
	return nil
}

// sortedKeys gives deterministic iteration so that the first reported error
// does not depend on map order.
func sortedKeys(m map[string]*configElem) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// legacyModPolicyFix mirrors an upgrade Fabric applies when rebuilding a
// config that has /Channel/Orderer/Capabilities: empty mod_policies become
// "Admins". Configs produced by Fabric orderers depend on it, so results
// must be rebuilt the same way to compare equal.
const legacyModPolicyFix = "Admins"

// rebuildConfig assembles a tree from a flattened map, starting at /Channel
// and following each group's own listing of its children. Elements that no
// group lists are not part of the result.
func rebuildConfig(m map[string]*configElem) (*common.ConfigGroup, error) {
	fix := false
	if _, ok := m[string(kindValue)+"/"+rootGroupKey+"/Orderer/Values/Capabilities"]; ok {
		fix = true
	}
	return rebuildGroup(m, nil, rootGroupKey, fix)
}

func rebuildGroup(m map[string]*configElem, parent []string, key string, fix bool) (*common.ConfigGroup, error) {
	probe := &configElem{kind: kindGroup, groupPath: parent, key: key}
	e, ok := m[probe.mapKey()]
	if !ok {
		return nil, fmt.Errorf("%s: group missing from config", probe.name())
	}
	src := e.group
	out := &common.ConfigGroup{
		Version:   src.GetVersion(),
		ModPolicy: src.GetModPolicy(),
		Groups:    make(map[string]*common.ConfigGroup, len(src.GetGroups())),
		Values:    make(map[string]*common.ConfigValue, len(src.GetValues())),
		Policies:  make(map[string]*common.ConfigPolicy, len(src.GetPolicies())),
	}
	if fix && out.ModPolicy == "" {
		out.ModPolicy = legacyModPolicyFix
	}
	path := append(append([]string{}, parent...), key)
	for k := range src.GetGroups() {
		child, err := rebuildGroup(m, path, k, fix)
		if err != nil {
			return nil, err
		}
		out.Groups[k] = child
	}
	for k := range src.GetValues() {
		probe := &configElem{kind: kindValue, groupPath: path, key: k}
		ve, ok := m[probe.mapKey()]
		if !ok {
			return nil, fmt.Errorf("%s: value missing from config", probe.name())
		}
		v := proto.Clone(ve.value).(*common.ConfigValue)
		if fix && v.ModPolicy == "" {
			v.ModPolicy = legacyModPolicyFix
		}
		out.Values[k] = v
	}
	for k := range src.GetPolicies() {
		probe := &configElem{kind: kindPolicy, groupPath: path, key: k}
		pe, ok := m[probe.mapKey()]
		if !ok {
			return nil, fmt.Errorf("%s: policy missing from config", probe.name())
		}
		p := proto.Clone(pe.policy).(*common.ConfigPolicy)
		if fix && p.ModPolicy == "" {
			p.ModPolicy = legacyModPolicyFix
		}
		out.Policies[k] = p
	}
	return out, nil
}

// reachable reports whether every ancestor group of e in m lists it, i.e.
// whether rebuildConfig will include it.
func reachable(m map[string]*configElem, e *configElem) bool {
	chain := e.groupPath
	if e.kind == kindGroup {
		chain = append(append([]string{}, e.groupPath...), e.key)
	}
	if len(chain) == 0 || chain[0] != rootGroupKey {
		return false
	}
	for i := 1; i < len(chain); i++ {
		parent := &configElem{kind: kindGroup, groupPath: chain[:i-1], key: chain[i-1]}
		pe, ok := m[parent.mapKey()]
		if !ok {
			return false
		}
		if _, ok := pe.group.GetGroups()[chain[i]]; !ok {
			return false
		}
	}
	if e.kind == kindGroup {
		return true
	}
	holder := &configElem{kind: kindGroup, groupPath: chain[:len(chain)-1], key: chain[len(chain)-1]}
	he, ok := m[holder.mapKey()]
	if !ok {
		return false
	}
	if e.kind == kindValue {
		_, ok = he.group.GetValues()[e.key]
	} else {
		_, ok = he.group.GetPolicies()[e.key]
	}
	return ok
}
