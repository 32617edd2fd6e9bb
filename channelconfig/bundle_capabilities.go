package channelconfig

import (
	"fmt"
	"sort"

	"weft/wire/common"
)

// Capability names a Fabric v2.5/v3 network may set. Nodes must refuse a
// config that requires a capability they do not implement, otherwise they
// would diverge from nodes that do.
var (
	channelCapabilityNames     = keySet("V3_0", "V2_0", "V1_4_3", "V1_4_2", "V1_3", "V1_1")
	ordererCapabilityNames     = keySet("V2_0", "V1_4_2", "V1_1")
	applicationCapabilityNames = keySet("V2_5", "V2_0", "V1_4_2", "V1_3", "V1_2", "V1_1")
)

// CapabilitySet is the set of capabilities enabled at one level of the config.
type CapabilitySet struct {
	names map[string]bool
}

// Has reports whether capability name is enabled.
func (c CapabilitySet) Has(name string) bool { return c.names[name] }

// Names lists the enabled capabilities, sorted.
func (c CapabilitySet) Names() []string {
	out := make([]string, 0, len(c.names))
	for n := range c.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c CapabilitySet) hasAny(names ...string) bool {
	for _, n := range names {
		if c.names[n] {
			return true
		}
	}
	return false
}

// orgSpecificOrdererEndpoints: from V1_4_2 on, orderer orgs carry their
// own Endpoints value.
func (c CapabilitySet) orgSpecificOrdererEndpoints() bool {
	return c.hasAny("V1_4_2", "V1_4_3", "V2_0", "V3_0")
}

func (c CapabilitySet) aclsSupported() bool {
	return c.hasAny("V1_2", "V1_3", "V1_4_2", "V2_0", "V2_5")
}

func decodeCapabilities(g *common.ConfigGroup, known map[string]bool) (CapabilitySet, error) {
	caps := &common.Capabilities{}
	if _, err := decodeValue(g, CapabilitiesKey, caps); err != nil {
		return CapabilitySet{}, err
	}
	set := CapabilitySet{names: map[string]bool{}}
	for name := range caps.Capabilities {
		if !known[name] {
			return CapabilitySet{}, fmt.Errorf("Values/%s: capability %q is not supported", CapabilitiesKey, name)
		}
		set.names[name] = true
	}
	return set, nil
}
