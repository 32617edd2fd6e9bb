package channelconfig

import (
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/proto"

	"weft/msp"
	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/peer"
)

// Value keys allowed in each kind of group; anything else is rejected so a
// typo cannot silently disable a setting.
var (
	channelValueKeys  = keySet("HashingAlgorithm", "BlockDataHashingStructure", "OrdererAddresses", "Consortium", CapabilitiesKey)
	ordererValueKeys  = keySet("ConsensusType", "BatchSize", "BatchTimeout", "KafkaBrokers", "ChannelRestrictions", "Orderers", CapabilitiesKey)
	ordererOrgKeys    = keySet(MSPKey, EndpointsKey)
	applicationKeys   = keySet("ACLs", CapabilitiesKey)
	applicationOrgKey = keySet(MSPKey, AnchorPeersKey)
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func checkValueKeys(g *common.ConfigGroup, allowed map[string]bool) error {
	for _, k := range sortedValueKeys(g) {
		if !allowed[k] {
			return fmt.Errorf("Values/%s: unknown value key", k)
		}
	}
	return nil
}

func sortedValueKeys(g *common.ConfigGroup) []string {
	keys := make([]string, 0, len(g.GetValues()))
	for k := range g.GetValues() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedGroupKeys(g *common.ConfigGroup) []string {
	keys := make([]string, 0, len(g.GetGroups()))
	for k := range g.GetGroups() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeValue unmarshals the value under key into msg; it reports false
// when the value is absent.
func decodeValue(g *common.ConfigGroup, key string, msg proto.Message) (bool, error) {
	v, ok := g.GetValues()[key]
	if !ok {
		return false, nil
	}
	if err := proto.Unmarshal(v.GetValue(), msg); err != nil {
		return true, fmt.Errorf("Values/%s: %w", key, err)
	}
	return true, nil
}

func (b *Bundle) loadChannelValues(g *common.ConfigGroup) error {
	if err := checkValueKeys(g, channelValueKeys); err != nil {
		return fmt.Errorf("/Channel/%w", err)
	}
	ha := &common.HashingAlgorithm{}
	if _, err := decodeValue(g, "HashingAlgorithm", ha); err != nil {
		return fmt.Errorf("/Channel/%w", err)
	}
	switch ha.Name {
	case "SHA256", "SHA3_256":
		b.hashingAlgorithm = ha.Name
	default:
		return fmt.Errorf("/Channel/Values/HashingAlgorithm: unsupported algorithm %q (want SHA256 or SHA3_256)", ha.Name)
	}
	bdhs := &common.BlockDataHashingStructure{}
	if _, err := decodeValue(g, "BlockDataHashingStructure", bdhs); err != nil {
		return fmt.Errorf("/Channel/%w", err)
	}
	if bdhs.Width != math.MaxUint32 {
		return fmt.Errorf("/Channel/Values/BlockDataHashingStructure: width %d not supported (must be %d)", bdhs.Width, uint32(math.MaxUint32))
	}
	addrs := &common.OrdererAddresses{}
	if _, err := decodeValue(g, "OrdererAddresses", addrs); err != nil {
		return fmt.Errorf("/Channel/%w", err)
	}
	b.globalOrderers = addrs.Addresses
	caps, err := decodeCapabilities(g, channelCapabilityNames)
	if err != nil {
		return fmt.Errorf("/Channel/%w", err)
	}
	b.channelCaps = caps
	return nil
}

// checkOrdererAddressRules applies the capability-dependent rules on where
// orderer endpoints may be configured.
func (b *Bundle) checkOrdererAddressRules() error {
	perOrg := b.channelCaps.orgSpecificOrdererEndpoints()
	if b.orderer != nil {
		for _, o := range b.orderer.orgs {
			if len(o.Endpoints) > 0 && !perOrg {
				return fmt.Errorf("/Channel/Orderer/%s/Values/Endpoints: not allowed before channel capability V1_4_2", o.Name)
			}
		}
	}
	if !perOrg && len(b.globalOrderers) == 0 {
		return fmt.Errorf("/Channel/Values/OrdererAddresses: must list addresses before channel capability V1_4_2")
	}
	if b.channelCaps.Has("V3_0") {
		if len(b.globalOrderers) > 0 {
			return fmt.Errorf("/Channel/Values/OrdererAddresses: global orderer addresses are not allowed with channel capability V3_0; use per-org Endpoints")
		}
		if b.orderer != nil && b.orderer.consensus.GetType() == consensusBFT {
			for _, o := range b.orderer.orgs {
				if len(o.Endpoints) == 0 {
					return fmt.Errorf("/Channel/Orderer/%s/Values/Endpoints: BFT requires endpoints for every orderer org", o.Name)
				}
			}
		}
	}
	return nil
}

// loadOrgMSP builds the MSP of one org group and registers it in set.
func loadOrgMSP(where string, g *common.ConfigGroup, set *mspSet) (string, error) {
	cfg := &mspproto.MSPConfig{}
	ok, err := decodeValue(g, MSPKey, cfg)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("Values/%s: missing", MSPKey)
	}
	m, err := msp.New(cfg)
	if err != nil {
		return "", fmt.Errorf("Values/%s: %w", MSPKey, err)
	}
	if m.ID() == "" {
		return "", fmt.Errorf("Values/%s: empty MSP ID", MSPKey)
	}
	if err := set.add(where, cfg, m); err != nil {
		return "", fmt.Errorf("Values/%s: %w", MSPKey, err)
	}
	return m.ID(), nil
}

type applicationValues struct {
	caps CapabilitySet
	acls map[string]string
	orgs []ApplicationOrg
}

func loadApplication(g *common.ConfigGroup, set *mspSet) (*applicationValues, error) {
	if err := checkValueKeys(g, applicationKeys); err != nil {
		return nil, err
	}
	av := &applicationValues{acls: map[string]string{}}
	var err error
	if av.caps, err = decodeCapabilities(g, applicationCapabilityNames); err != nil {
		return nil, err
	}
	acls := &peer.ACLs{}
	present, err := decodeValue(g, "ACLs", acls)
	if err != nil {
		return nil, err
	}
	if present && !av.caps.aclsSupported() {
		return nil, fmt.Errorf("Values/ACLs: needs application capability V1_2 or later")
	}
	for res, r := range acls.Acls {
		if r.GetPolicyRef() == "" {
			return nil, fmt.Errorf("Values/ACLs: resource %q has an empty policy_ref", res)
		}
		av.acls[res] = r.GetPolicyRef()
	}
	for _, name := range sortedGroupKeys(g) {
		org := g.Groups[name]
		if len(org.GetGroups()) > 0 {
			return nil, fmt.Errorf("%s: organisation groups cannot have sub-groups", name)
		}
		if err := checkValueKeys(org, applicationOrgKey); err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		id, err := loadOrgMSP("/Channel/Application/"+name, org, set)
		if err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		ap := &peer.AnchorPeers{}
		if _, err := decodeValue(org, AnchorPeersKey, ap); err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		av.orgs = append(av.orgs, ApplicationOrg{Name: name, MSPID: id, AnchorPeers: ap.AnchorPeers})
	}
	return av, nil
}
