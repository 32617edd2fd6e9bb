package spec

// Defaults for the orderer batch settings, taken from Fabric's test network so
// a spec without them behaves like the network Fabric users know.
const (
	DefaultBatchTimeout      = "2s"
	DefaultMaxMessageCount   = 10
	DefaultAbsoluteMaxBytes  = 99 * 1024 * 1024
	DefaultPreferredMaxBytes = 512 * 1024

	DefaultChaincodeVersion  = "1.0"
	DefaultChaincodeSequence = 1
)

// SetDefaults fills every optional field that is left empty. Parse calls it;
// callers that build or JSON-decode a Network themselves should call it
// before handing the network to a generator.
func (n *Network) SetDefaults() {
	// An empty list ("channels: [-]" or "[]") means none: keep one
	// representation so a spec and its YAML round trip compare equal.
	if len(n.Channels) == 0 {
		n.Channels = nil
	}
	if len(n.Chaincodes) == 0 {
		n.Chaincodes = nil
	}
	o := &n.Orderer
	if o.MSPID == "" && o.Org != "" {
		o.MSPID = o.Org + "MSP"
	}
	if o.BatchTimeout == "" {
		o.BatchTimeout = DefaultBatchTimeout
	}
	if o.BatchSize.MaxMessageCount == 0 {
		o.BatchSize.MaxMessageCount = DefaultMaxMessageCount
	}
	if o.BatchSize.AbsoluteMaxBytes == 0 {
		o.BatchSize.AbsoluteMaxBytes = DefaultAbsoluteMaxBytes
	}
	if o.BatchSize.PreferredMaxBytes == 0 {
		o.BatchSize.PreferredMaxBytes = DefaultPreferredMaxBytes
	}
	for i := range n.Orgs {
		org := &n.Orgs[i]
		if org.MSPID == "" && org.Name != "" {
			org.MSPID = org.Name + "MSP"
		}
		if org.CA == nil {
			org.CA = boolPtr(true)
		}
	}
	for i := range n.Channels {
		if n.Channels[i].AnchorPeers == nil {
			n.Channels[i].AnchorPeers = boolPtr(true)
		}
	}
	for i := range n.Chaincodes {
		cc := &n.Chaincodes[i]
		if cc.Version == "" {
			cc.Version = DefaultChaincodeVersion
		}
		if cc.Sequence == 0 {
			cc.Sequence = DefaultChaincodeSequence
		}
		if cc.Label == "" && cc.Name != "" {
			cc.Label = cc.Name + "_" + cc.Version
		}
	}
}

// Default returns the shape of Fabric's test network with a three-node Raft
// ordering service: Org1 and Org2 with one peer and one user each, channel
// mychannel, and the basic chaincode on it. Defaults are already applied.
func Default() *Network {
	n := &Network{
		Name: "test-network",
		// MSP ID as in Fabric's test network, not the "<org>MSP" default.
		Orderer: Orderer{Org: "OrdererOrg", MSPID: "OrdererMSP", Domain: "example.com", Nodes: 3},
		Orgs: []Org{
			{Name: "Org1", Domain: "org1.example.com", Peers: 1, Users: 1},
			{Name: "Org2", Domain: "org2.example.com", Peers: 1, Users: 1},
		},
		Channels: []Channel{{Name: "mychannel", Orgs: []string{"Org1", "Org2"}}},
		Chaincodes: []Chaincode{
			{Name: "basic", Channel: "mychannel", Path: "./chaincode/basic"},
		},
	}
	n.SetDefaults()
	return n
}

// clone returns a deep copy so Validate can apply defaults without touching
// the caller's value.
func (n *Network) clone() *Network {
	c := *n
	c.Orgs = append([]Org(nil), n.Orgs...)
	for i := range c.Orgs {
		if c.Orgs[i].CA != nil {
			c.Orgs[i].CA = boolPtr(*c.Orgs[i].CA)
		}
	}
	c.Channels = append([]Channel(nil), n.Channels...)
	for i := range c.Channels {
		c.Channels[i].Orgs = append([]string(nil), c.Channels[i].Orgs...)
		if c.Channels[i].AnchorPeers != nil {
			c.Channels[i].AnchorPeers = boolPtr(*c.Channels[i].AnchorPeers)
		}
	}
	c.Chaincodes = append([]Chaincode(nil), n.Chaincodes...)
	for i := range c.Chaincodes {
		if cc := c.Chaincodes[i].CCaaS; cc != nil {
			cp := *cc
			c.Chaincodes[i].CCaaS = &cp
		}
	}
	return &c
}

func boolPtr(b bool) *bool { return &b }
