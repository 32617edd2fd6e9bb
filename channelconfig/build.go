package channelconfig

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"weft/policy"
	"weft/wire/common"
	mspproto "weft/wire/msp"
	ab "weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	pb "weft/wire/peer"
)

// Keys of the channel config tree (Fabric common/channelconfig constants).
const (
	bldKeyOrderer             = "Orderer"
	bldKeyApplication         = "Application"
	bldKeyAdmins              = "Admins"
	bldKeyHashingAlgorithm    = "HashingAlgorithm"
	bldKeyBlockDataHashing    = "BlockDataHashingStructure"
	bldKeyOrdererAddresses    = "OrdererAddresses"
	bldKeyCapabilities        = "Capabilities"
	bldKeyConsensusType       = "ConsensusType"
	bldKeyBatchSize           = "BatchSize"
	bldKeyBatchTimeout        = "BatchTimeout"
	bldKeyChannelRestrictions = "ChannelRestrictions"
	bldKeyMSP                 = "MSP"
	bldKeyEndpoints           = "Endpoints"
	bldKeyAnchorPeers         = "AnchorPeers"
	bldKeyACLs                = "ACLs"
	// The global address list may be changed by the orderer admins alone,
	// unlike the rest of /Channel.
	bldOrdererAdminsPolicy = "/Channel/Orderer/Admins"
)

// bldMarshal encodes deterministically (sorted map keys) so the same profile
// always yields the same bytes and hence the same genesis block hash.
func bldMarshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

func bldNewGroup() *common.ConfigGroup {
	return &common.ConfigGroup{
		Groups:    map[string]*common.ConfigGroup{},
		Values:    map[string]*common.ConfigValue{},
		Policies:  map[string]*common.ConfigPolicy{},
		ModPolicy: bldKeyAdmins,
	}
}

func bldAddValue(g *common.ConfigGroup, key string, m proto.Message, modPolicy string) error {
	b, err := bldMarshal(m)
	if err != nil {
		return fmt.Errorf("value %s: %w", key, err)
	}
	g.Values[key] = &common.ConfigValue{Value: b, ModPolicy: modPolicy}
	return nil
}

// NewChannelGroup builds the "Channel" root group for p exactly as Fabric's
// configtxgen would for the equivalent configtx.yaml profile: same keys,
// values, policies and mod_policies, all versions 0. The profile is checked
// first; errors name the offending field. p is not modified.
func NewChannelGroup(p *Profile) (*common.ConfigGroup, error) {
	if p == nil {
		return nil, errors.New("profile is nil")
	}
	if err := specCheckPolicies("Policies", p.Policies, "Readers", "Writers", "Admins"); err != nil {
		return nil, err
	}
	if err := specCheckCapabilities("Capabilities", p.Capabilities, specChannelCaps); err != nil {
		return nil, err
	}
	if p.Orderer == nil {
		return nil, errors.New("Orderer: section is required")
	}
	ord := specOrdererWithDefaults(p.Orderer)
	globalAddrs := ord.Addresses
	if len(p.OrdererAddresses) > 0 {
		if len(globalAddrs) > 0 {
			return nil, errors.New("OrdererAddresses and Orderer.Addresses are both set; use only one")
		}
		globalAddrs = p.OrdererAddresses
	}
	chCaps := specChannelCapFlags(p.Capabilities)
	mspSeen := map[string]*mspproto.MSPConfig{}
	if err := specCheckOrgs("Orderer", ord.Organizations, mspSeen); err != nil {
		return nil, err
	}
	if err := specCheckOrderer(&ord, chCaps, globalAddrs); err != nil {
		return nil, err
	}
	if p.Application != nil {
		if err := specCheckOrgs("Application", p.Application.Organizations, mspSeen); err != nil {
			return nil, err
		}
		if err := specCheckApplication(p.Application); err != nil {
			return nil, err
		}
	}

	root := bldNewGroup()
	if err := bldAddPolicies(root, p.Policies); err != nil {
		return nil, fmt.Errorf("Policies: %w", err)
	}
	if err := bldAddValue(root, bldKeyHashingAlgorithm, &common.HashingAlgorithm{Name: "SHA256"}, bldKeyAdmins); err != nil {
		return nil, err
	}
	if err := bldAddValue(root, bldKeyBlockDataHashing, &common.BlockDataHashingStructure{Width: math.MaxUint32}, bldKeyAdmins); err != nil {
		return nil, err
	}
	if len(globalAddrs) > 0 {
		if err := bldAddValue(root, bldKeyOrdererAddresses, &common.OrdererAddresses{Addresses: globalAddrs}, bldOrdererAdminsPolicy); err != nil {
			return nil, err
		}
	}
	if err := bldAddCapabilities(root, p.Capabilities); err != nil {
		return nil, err
	}
	og, err := bldOrdererGroup(&ord)
	if err != nil {
		return nil, fmt.Errorf("Orderer: %w", err)
	}
	root.Groups[bldKeyOrderer] = og
	if p.Application != nil {
		ag, err := bldApplicationGroup(p.Application)
		if err != nil {
			return nil, fmt.Errorf("Application: %w", err)
		}
		root.Groups[bldKeyApplication] = ag
	}
	return root, nil
}

// bldAddCapabilities writes the Capabilities value only when there is at
// least one capability, as configtxgen does.
func bldAddCapabilities(g *common.ConfigGroup, caps []string) error {
	if len(caps) == 0 {
		return nil
	}
	c := &common.Capabilities{Capabilities: map[string]*common.Capability{}}
	for _, name := range caps {
		c.Capabilities[name] = &common.Capability{}
	}
	return bldAddValue(g, bldKeyCapabilities, c, bldKeyAdmins)
}

func bldAddPolicies(g *common.ConfigGroup, pols map[string]PolicySpec) error {
	for _, name := range specSortedKeys(pols) {
		spec := pols[name]
		var (
			typ int32
			msg proto.Message
		)
		switch spec.Type {
		case PolicyTypeImplicitMeta:
			imp, err := policy.ImplicitMetaFromString(spec.Rule)
			if err != nil {
				return fmt.Errorf("policy %s: implicit meta rule %q: %w", name, spec.Rule, err)
			}
			typ, msg = int32(common.Policy_IMPLICIT_META), imp
		case PolicyTypeSignature:
			env, err := policy.FromString(spec.Rule)
			if err != nil {
				return fmt.Errorf("policy %s: signature rule %q: %w", name, spec.Rule, err)
			}
			typ, msg = int32(common.Policy_SIGNATURE), env
		default:
			return fmt.Errorf("policy %s: unknown type %q", name, spec.Type)
		}
		b, err := bldMarshal(msg)
		if err != nil {
			return fmt.Errorf("policy %s: %w", name, err)
		}
		mod := spec.ModPolicy
		if mod == "" {
			mod = bldKeyAdmins
		}
		g.Policies[name] = &common.ConfigPolicy{Policy: &common.Policy{Type: typ, Value: b}, ModPolicy: mod}
	}
	return nil
}

func bldOrdererGroup(o *OrdererSpec) (*common.ConfigGroup, error) {
	g := bldNewGroup()
	if err := bldAddPolicies(g, o.Policies); err != nil {
		return nil, fmt.Errorf("Policies: %w", err)
	}
	bs := &ab.BatchSize{
		MaxMessageCount:   o.BatchSize.MaxMessageCount,
		AbsoluteMaxBytes:  o.BatchSize.AbsoluteMaxBytes,
		PreferredMaxBytes: o.BatchSize.PreferredMaxBytes,
	}
	if err := bldAddValue(g, bldKeyBatchSize, bs, bldKeyAdmins); err != nil {
		return nil, err
	}
	// Duration.String gives the same text configtxgen writes ("2s", "1m30s").
	if err := bldAddValue(g, bldKeyBatchTimeout, &ab.BatchTimeout{Timeout: o.BatchTimeout.String()}, bldKeyAdmins); err != nil {
		return nil, err
	}
	if err := bldAddValue(g, bldKeyChannelRestrictions, &ab.ChannelRestrictions{MaxCount: o.MaxChannels}, bldKeyAdmins); err != nil {
		return nil, err
	}
	if err := bldAddCapabilities(g, o.Capabilities); err != nil {
		return nil, err
	}
	md := &etcdraft.ConfigMetadata{Options: &etcdraft.Options{
		TickInterval:         o.EtcdRaft.Options.TickInterval,
		ElectionTick:         o.EtcdRaft.Options.ElectionTick,
		HeartbeatTick:        o.EtcdRaft.Options.HeartbeatTick,
		MaxInflightBlocks:    o.EtcdRaft.Options.MaxInflightBlocks,
		SnapshotIntervalSize: o.EtcdRaft.Options.SnapshotIntervalSize,
	}}
	for _, c := range o.EtcdRaft.Consenters {
		md.Consenters = append(md.Consenters, &etcdraft.Consenter{
			Host:          c.Host,
			Port:          uint32(c.Port),
			ClientTlsCert: c.ClientTLSCert,
			ServerTlsCert: c.ServerTLSCert,
		})
	}
	mdBytes, err := bldMarshal(md)
	if err != nil {
		return nil, fmt.Errorf("etcdraft metadata: %w", err)
	}
	ct := &ab.ConsensusType{Type: o.OrdererType, Metadata: mdBytes}
	if err := bldAddValue(g, bldKeyConsensusType, ct, bldKeyAdmins); err != nil {
		return nil, err
	}
	for _, org := range o.Organizations {
		og, err := bldOrgGroup(org)
		if err != nil {
			return nil, fmt.Errorf("org %q: %w", org.Name, err)
		}
		if len(org.OrdererEndpoints) > 0 {
			if err := bldAddValue(og, bldKeyEndpoints, &common.OrdererAddresses{Addresses: org.OrdererEndpoints}, bldKeyAdmins); err != nil {
				return nil, fmt.Errorf("org %q: %w", org.Name, err)
			}
		}
		g.Groups[org.Name] = og
	}
	return g, nil
}

func bldApplicationGroup(a *ApplicationSpec) (*common.ConfigGroup, error) {
	g := bldNewGroup()
	if err := bldAddPolicies(g, a.Policies); err != nil {
		return nil, fmt.Errorf("Policies: %w", err)
	}
	if len(a.ACLs) > 0 {
		acls := &pb.ACLs{Acls: map[string]*pb.APIResource{}}
		for res, ref := range a.ACLs {
			acls.Acls[res] = &pb.APIResource{PolicyRef: ref}
		}
		if err := bldAddValue(g, bldKeyACLs, acls, bldKeyAdmins); err != nil {
			return nil, err
		}
	}
	if err := bldAddCapabilities(g, a.Capabilities); err != nil {
		return nil, err
	}
	for _, org := range a.Organizations {
		og, err := bldOrgGroup(org)
		if err != nil {
			return nil, fmt.Errorf("org %q: %w", org.Name, err)
		}
		// No AnchorPeers value at all when there are none, as configtxgen.
		if len(org.AnchorPeers) > 0 {
			aps := &pb.AnchorPeers{}
			for _, ap := range org.AnchorPeers {
				aps.AnchorPeers = append(aps.AnchorPeers, &pb.AnchorPeer{Host: ap.Host, Port: int32(ap.Port)})
			}
			if err := bldAddValue(og, bldKeyAnchorPeers, aps, bldKeyAdmins); err != nil {
				return nil, fmt.Errorf("org %q: %w", org.Name, err)
			}
		}
		g.Groups[org.Name] = og
	}
	return g, nil
}

// bldOrgGroup holds what orderer and application orgs share: the policies
// and the MSP value.
func bldOrgGroup(org Org) (*common.ConfigGroup, error) {
	g := bldNewGroup()
	if err := bldAddPolicies(g, org.Policies); err != nil {
		return nil, fmt.Errorf("Policies: %w", err)
	}
	if err := bldAddValue(g, bldKeyMSP, org.MSP, bldKeyAdmins); err != nil {
		return nil, err
	}
	return g, nil
}
