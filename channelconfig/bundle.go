package channelconfig

import (
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/msp"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

// Well-known keys of the channel config tree (protocol section 5.1).
const (
	ApplicationGroupKey = "Application"
	OrdererGroupKey     = "Orderer"
	MSPKey              = "MSP"
	AnchorPeersKey      = "AnchorPeers"
	EndpointsKey        = "Endpoints"
	CapabilitiesKey     = "Capabilities"
)

// Bundle is a validated, typed view of one channel config. It is immutable:
// an accepted update yields a new Bundle.
type Bundle struct {
	channelID string
	config    *common.Config
	elems     map[string]*configElem
	msps      *msp.Manager
	policies  *policy.Manager

	hashingAlgorithm string
	globalOrderers   []string
	channelCaps      CapabilitySet

	orderer *ordererValues     // nil when the config has no Orderer group
	app     *applicationValues // nil when the config has no Application group
}

// OrdererOrg is one organisation of the ordering service.
type OrdererOrg struct {
	Name      string // group key under /Channel/Orderer
	MSPID     string
	Endpoints []string
}

// ApplicationOrg is one peer organisation of the channel.
type ApplicationOrg struct {
	Name        string // group key under /Channel/Application
	MSPID       string
	AnchorPeers []*peer.AnchorPeer
}

// NewBundle validates cfg as the config of channelID and builds its MSPs
// and policies. cfg is copied; later changes to it do not affect the Bundle.
func NewBundle(channelID string, cfg *common.Config) (*Bundle, error) {
	b, err := newBundle(channelID, cfg)
	if err != nil {
		return nil, fmt.Errorf("channel %q config: %w", channelID, err)
	}
	return b, nil
}

func newBundle(channelID string, cfg *common.Config) (*Bundle, error) {
	if err := ValidateChannelID(channelID); err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, fmt.Errorf("config is nil")
	}
	if cfg.ChannelGroup == nil {
		return nil, fmt.Errorf("config has no channel group")
	}
	cfg = proto.Clone(cfg).(*common.Config)
	elems, err := flattenConfig(cfg.ChannelGroup)
	if err != nil {
		return nil, err
	}
	bd := &Bundle{channelID: channelID, config: cfg, elems: elems}
	if err := bd.loadChannelValues(cfg.ChannelGroup); err != nil {
		return nil, err
	}
	orgMSPs := newMSPSet()
	for name, g := range cfg.ChannelGroup.Groups {
		switch name {
		case OrdererGroupKey:
			bd.orderer, err = loadOrderer(g, bd.channelCaps, orgMSPs)
		case ApplicationGroupKey:
			bd.app, err = loadApplication(g, orgMSPs)
		default:
			err = fmt.Errorf("group not allowed (want %s or %s)", OrdererGroupKey, ApplicationGroupKey)
		}
		if err != nil {
			return nil, fmt.Errorf("/Channel/%s: %w", name, err)
		}
	}
	if err := bd.checkOrdererAddressRules(); err != nil {
		return nil, err
	}
	if bd.msps, err = orgMSPs.manager(); err != nil {
		return nil, err
	}
	if bd.policies, err = policy.NewManager(cfg.ChannelGroup, bd.msps); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	return bd, nil
}

// mspSet collects org MSPs; an org may appear both as orderer and
// application org, but then both definitions must be identical.
type mspSet struct {
	byID map[string]*mspEntry
}

type mspEntry struct {
	where string
	cfg   proto.Message
	msp   *msp.MSP
}

func newMSPSet() *mspSet { return &mspSet{byID: map[string]*mspEntry{}} }

func (s *mspSet) add(where string, cfg proto.Message, m *msp.MSP) error {
	id := m.ID()
	if prev, ok := s.byID[id]; ok {
		if !proto.Equal(prev.cfg, cfg) {
			return fmt.Errorf("MSP ID %q is defined differently in %s and %s", id, prev.where, where)
		}
		return nil
	}
	s.byID[id] = &mspEntry{where: where, cfg: cfg, msp: m}
	return nil
}

func (s *mspSet) manager() (*msp.Manager, error) {
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	list := make([]*msp.MSP, 0, len(ids))
	for _, id := range ids {
		list = append(list, s.byID[id].msp)
	}
	mg, err := msp.NewManager(list...)
	if err != nil {
		return nil, fmt.Errorf("msp manager: %w", err)
	}
	return mg, nil
}

// ChannelID is the channel this config belongs to.
func (b *Bundle) ChannelID() string { return b.channelID }

// Sequence is the config sequence number (0 for the genesis config).
func (b *Bundle) Sequence() uint64 { return b.config.GetSequence() }

// Config returns a copy of the underlying config.
func (b *Bundle) Config() *common.Config { return proto.Clone(b.config).(*common.Config) }

// MSPManager holds the MSPs of every orderer and application org.
func (b *Bundle) MSPManager() *msp.Manager { return b.msps }

// PolicyManager evaluates the policies of the config tree.
func (b *Bundle) PolicyManager() *policy.Manager { return b.policies }

// HashingAlgorithm is the channel's block hashing algorithm name.
func (b *Bundle) HashingAlgorithm() string { return b.hashingAlgorithm }

// ChannelCapabilities are the capabilities set on /Channel.
func (b *Bundle) ChannelCapabilities() CapabilitySet { return b.channelCaps }

// HasOrderer reports whether the config has an Orderer group.
func (b *Bundle) HasOrderer() bool { return b.orderer != nil }

// HasApplication reports whether the config has an Application group.
func (b *Bundle) HasApplication() bool { return b.app != nil }

// OrdererCapabilities are the capabilities set on /Channel/Orderer.
func (b *Bundle) OrdererCapabilities() CapabilitySet {
	if b.orderer == nil {
		return CapabilitySet{}
	}
	return b.orderer.caps
}

// ApplicationCapabilities are the capabilities set on /Channel/Application.
func (b *Bundle) ApplicationCapabilities() CapabilitySet {
	if b.app == nil {
		return CapabilitySet{}
	}
	return b.app.caps
}

// BatchSize returns a copy of the orderer batch size, nil without an Orderer group.
func (b *Bundle) BatchSize() *orderer.BatchSize {
	if b.orderer == nil {
		return nil
	}
	return proto.Clone(b.orderer.batchSize).(*orderer.BatchSize)
}

// BatchTimeout is the orderer batch timeout, 0 without an Orderer group.
func (b *Bundle) BatchTimeout() time.Duration {
	if b.orderer == nil {
		return 0
	}
	return b.orderer.batchTimeout
}

// ConsensusType is "etcdraft" or "BFT", "" without an Orderer group.
func (b *Bundle) ConsensusType() string {
	if b.orderer == nil {
		return ""
	}
	return b.orderer.consensus.GetType()
}

// ConsensusState tells whether the orderer is in maintenance mode.
func (b *Bundle) ConsensusState() orderer.ConsensusType_State {
	if b.orderer == nil {
		return orderer.ConsensusType_STATE_NORMAL
	}
	return b.orderer.consensus.GetState()
}

// EtcdRaftConsenters returns copies of the Raft consenters (nil unless the
// consensus type is etcdraft).
func (b *Bundle) EtcdRaftConsenters() []*etcdraft.Consenter {
	if b.orderer == nil || b.orderer.raft == nil {
		return nil
	}
	out := make([]*etcdraft.Consenter, len(b.orderer.raft.Consenters))
	for i, c := range b.orderer.raft.Consenters {
		out[i] = proto.Clone(c).(*etcdraft.Consenter)
	}
	return out
}

// EtcdRaftOptions returns a copy of the Raft options, nil unless etcdraft.
func (b *Bundle) EtcdRaftOptions() *etcdraft.Options {
	if b.orderer == nil || b.orderer.raft == nil || b.orderer.raft.Options == nil {
		return nil
	}
	return proto.Clone(b.orderer.raft.Options).(*etcdraft.Options)
}

// BFTConsenters returns copies of the BFT consenter mapping (nil unless BFT).
func (b *Bundle) BFTConsenters() []*common.Consenter {
	if b.orderer == nil || b.orderer.bft == nil {
		return nil
	}
	out := make([]*common.Consenter, len(b.orderer.bft.ConsenterMapping))
	for i, c := range b.orderer.bft.ConsenterMapping {
		out[i] = proto.Clone(c).(*common.Consenter)
	}
	return out
}

// OrdererOrgs lists the orderer organisations sorted by name.
func (b *Bundle) OrdererOrgs() []OrdererOrg {
	if b.orderer == nil {
		return nil
	}
	out := make([]OrdererOrg, len(b.orderer.orgs))
	for i, o := range b.orderer.orgs {
		out[i] = OrdererOrg{Name: o.Name, MSPID: o.MSPID, Endpoints: append([]string(nil), o.Endpoints...)}
	}
	return out
}

// OrdererAddresses are the orderer endpoints clients should use: the
// per-org Endpoints of all orderer orgs (in org name order) or, when no org
// defines any, the legacy global /Channel OrdererAddresses.
func (b *Bundle) OrdererAddresses() []string {
	var out []string
	if b.orderer != nil {
		for _, o := range b.orderer.orgs {
			out = append(out, o.Endpoints...)
		}
	}
	if len(out) == 0 {
		out = append(out, b.globalOrderers...)
	}
	return out
}

// ApplicationOrgs lists the application organisations sorted by name.
func (b *Bundle) ApplicationOrgs() []ApplicationOrg {
	if b.app == nil {
		return nil
	}
	out := make([]ApplicationOrg, len(b.app.orgs))
	for i, o := range b.app.orgs {
		peers := make([]*peer.AnchorPeer, len(o.AnchorPeers))
		for j, p := range o.AnchorPeers {
			peers[j] = proto.Clone(p).(*peer.AnchorPeer)
		}
		out[i] = ApplicationOrg{Name: o.Name, MSPID: o.MSPID, AnchorPeers: peers}
	}
	return out
}

// ACLs maps API resource names to policy references as configured in
// /Channel/Application/Values/ACLs (empty when unset).
func (b *Bundle) ACLs() map[string]string {
	out := map[string]string{}
	if b.app == nil {
		return out
	}
	for k, v := range b.app.acls {
		out[k] = v
	}
	return out
}
