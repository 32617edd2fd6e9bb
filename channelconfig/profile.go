package channelconfig

import (
	"fmt"
	"time"

	mspproto "weft/wire/msp"
)

// Profile is the input from which NewChannelGroup builds the "Channel" root
// group of an application channel. It mirrors one profile of a configtx.yaml
// (channel-participation style: no consortium, no system channel) but holds
// already-loaded material (MSP configs, PEM certificates) instead of paths.
type Profile struct {
	// Policies of /Channel; Readers, Writers and Admins are required.
	Policies map[string]PolicySpec
	// Capabilities of /Channel, e.g. "V2_0" or "V3_0".
	Capabilities []string
	// Orderer is required: every channel needs an ordering service.
	Orderer *OrdererSpec
	// Application may be nil for an orderer-only channel.
	Application *ApplicationSpec
	// OrdererAddresses is the legacy global endpoint list. It is an
	// alternative to Orderer.Addresses (set at most one of them); both end up
	// in the /Channel OrdererAddresses value.
	OrdererAddresses []string
}

// Policy type names as used in configtx.yaml.
const (
	PolicyTypeImplicitMeta = "ImplicitMeta"
	PolicyTypeSignature    = "Signature"
)

// PolicySpec is one named policy of a group.
type PolicySpec struct {
	// Type is PolicyTypeImplicitMeta or PolicyTypeSignature (case-sensitive).
	Type string
	// Rule is "ANY Readers"-style text for ImplicitMeta, or the signature
	// policy DSL ("OR('Org1MSP.admin')") for Signature.
	Rule string
	// ModPolicy overrides the mod_policy of the policy; empty means "Admins",
	// which is what configtxgen always writes.
	ModPolicy string
}

// OrdererTypeEtcdRaft is the only consensus type weft builds channels for.
const OrdererTypeEtcdRaft = "etcdraft"

// OrdererSpec describes the /Channel/Orderer group.
type OrdererSpec struct {
	OrdererType string
	// Addresses is the legacy global list of "host:port" orderer endpoints.
	Addresses []string
	// BatchTimeout zero means the configtxgen default (2s).
	BatchTimeout time.Duration
	// BatchSize fields that are zero take the configtxgen defaults.
	BatchSize     BatchSizeSpec
	EtcdRaft      *EtcdRaftSpec
	Organizations []Org
	// Policies: Readers, Writers, Admins and BlockValidation are required.
	Policies     map[string]PolicySpec
	Capabilities []string
	// MaxChannels is written as ChannelRestrictions.max_count (0 = unlimited).
	MaxChannels uint64
}

// BatchSizeSpec limits the size of blocks the orderer cuts.
type BatchSizeSpec struct {
	MaxMessageCount   uint32
	AbsoluteMaxBytes  uint32
	PreferredMaxBytes uint32
}

// EtcdRaftSpec is the consensus metadata of an etcdraft orderer.
type EtcdRaftSpec struct {
	Consenters []Consenter
	// Options fields that are zero take the configtxgen defaults.
	Options EtcdRaftOptions
}

// Consenter is one Raft node. The certificates are PEM bytes (not paths).
type Consenter struct {
	Host          string
	Port          int
	ClientTLSCert []byte
	ServerTLSCert []byte
}

// EtcdRaftOptions tunes the Raft state machine.
type EtcdRaftOptions struct {
	TickInterval         string
	ElectionTick         uint32
	HeartbeatTick        uint32
	MaxInflightBlocks    uint32
	SnapshotIntervalSize uint32
}

// ApplicationSpec describes the /Channel/Application group.
type ApplicationSpec struct {
	Organizations []Org
	// Policies: Readers, Writers and Admins are required.
	Policies     map[string]PolicySpec
	Capabilities []string
	// ACLs maps a resource (e.g. "peer/Propose") to a policy reference.
	ACLs map[string]string
}

// Org is one organization, used for both orderer and application orgs.
type Org struct {
	// Name is the group key under /Channel/Orderer or /Channel/Application.
	Name string
	// ID is the MSP ID; it must equal the name inside MSP.
	ID  string
	MSP *mspproto.MSPConfig
	// Policies: Readers, Writers and Admins are required.
	Policies map[string]PolicySpec
	// AnchorPeers is only meaningful for application orgs.
	AnchorPeers []AnchorPeer
	// OrdererEndpoints is only meaningful for orderer orgs.
	OrdererEndpoints []string
}

// AnchorPeer is a peer other orgs' peers gossip with first.
type AnchorPeer struct {
	Host string
	Port int
}

// Defaults used by configtxgen when a field is left unset.
const (
	DefaultBatchTimeout          = 2 * time.Second
	DefaultMaxMessageCount       = 500
	DefaultAbsoluteMaxBytes      = 10 * 1024 * 1024
	DefaultPreferredMaxBytes     = 2 * 1024 * 1024
	DefaultTickInterval          = "500ms"
	DefaultElectionTick          = 10
	DefaultHeartbeatTick         = 1
	DefaultMaxInflightBlocks     = 5
	DefaultSnapshotIntervalSize  = 16 * 1024 * 1024
	DefaultChannelCapability     = "V2_0"
	DefaultOrdererCapability     = "V2_0"
	DefaultApplicationCapability = "V2_0"
)

// DefaultEtcdRaftOptions returns the sample-network Raft options.
func DefaultEtcdRaftOptions() EtcdRaftOptions {
	return EtcdRaftOptions{
		TickInterval:         DefaultTickInterval,
		ElectionTick:         DefaultElectionTick,
		HeartbeatTick:        DefaultHeartbeatTick,
		MaxInflightBlocks:    DefaultMaxInflightBlocks,
		SnapshotIntervalSize: DefaultSnapshotIntervalSize,
	}
}

func specImplicitMeta(rule string) PolicySpec {
	return PolicySpec{Type: PolicyTypeImplicitMeta, Rule: rule}
}

func specSignature(rule string) PolicySpec {
	return PolicySpec{Type: PolicyTypeSignature, Rule: rule}
}

// DefaultChannelPolicies returns the /Channel policies of the test network.
func DefaultChannelPolicies() map[string]PolicySpec {
	return map[string]PolicySpec{
		"Readers": specImplicitMeta("ANY Readers"),
		"Writers": specImplicitMeta("ANY Writers"),
		"Admins":  specImplicitMeta("MAJORITY Admins"),
	}
}

// DefaultOrdererPolicies returns the /Channel/Orderer policies of the test
// network, including BlockValidation (ANY Writers).
func DefaultOrdererPolicies() map[string]PolicySpec {
	m := DefaultChannelPolicies()
	m["BlockValidation"] = specImplicitMeta("ANY Writers")
	return m
}

// DefaultApplicationPolicies returns the /Channel/Application policies of the
// test network; Endorsement and LifecycleEndorsement are both
// "MAJORITY Endorsement".
func DefaultApplicationPolicies() map[string]PolicySpec {
	m := DefaultChannelPolicies()
	m["Endorsement"] = specImplicitMeta("MAJORITY Endorsement")
	m["LifecycleEndorsement"] = specImplicitMeta("MAJORITY Endorsement")
	return m
}

// DefaultOrgPolicies returns the policies of a test-network application org.
func DefaultOrgPolicies(mspID string) map[string]PolicySpec {
	return map[string]PolicySpec{
		"Readers":     specSignature(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.peer', '%[1]s.client')", mspID)),
		"Writers":     specSignature(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.client')", mspID)),
		"Admins":      specSignature(fmt.Sprintf("OR('%s.admin')", mspID)),
		"Endorsement": specSignature(fmt.Sprintf("OR('%s.peer')", mspID)),
	}
}

// DefaultOrdererOrgPolicies returns the policies of the test-network orderer
// org: any member reads and writes (orderer nodes sign blocks as members),
// admins administer.
func DefaultOrdererOrgPolicies(mspID string) map[string]PolicySpec {
	return map[string]PolicySpec{
		"Readers": specSignature(fmt.Sprintf("OR('%s.member')", mspID)),
		"Writers": specSignature(fmt.Sprintf("OR('%s.member')", mspID)),
		"Admins":  specSignature(fmt.Sprintf("OR('%s.admin')", mspID)),
	}
}

// DefaultChannelCapabilities etc. return fresh slices so callers may append.
func DefaultChannelCapabilities() []string     { return []string{DefaultChannelCapability} }
func DefaultOrdererCapabilities() []string     { return []string{DefaultOrdererCapability} }
func DefaultApplicationCapabilities() []string { return []string{DefaultApplicationCapability} }
