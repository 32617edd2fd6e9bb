// Package spec defines the network spec: one YAML document describing a whole
// Fabric network (orderer organization, peer organizations, channels and
// chaincodes). The same document later becomes the spec of a Kubernetes
// Network resource, so it deliberately holds nothing machine-local: no ports,
// no host paths (chaincode source paths are relative to the spec file).
package spec

// Network is the root of a spec document.
type Network struct {
	Name       string      `yaml:"name" json:"name"`
	Orderer    Orderer     `yaml:"orderer" json:"orderer"`
	Orgs       []Org       `yaml:"orgs" json:"orgs"`
	Channels   []Channel   `yaml:"channels,omitempty" json:"channels,omitempty"`
	Chaincodes []Chaincode `yaml:"chaincodes,omitempty" json:"chaincodes,omitempty"`

	// lines maps a field path ("orgs[1].domain") to the YAML line it came
	// from, so validation errors can point at the source. Nil for networks
	// built in code or decoded from JSON.
	lines map[string]int
}

// Orderer describes the ordering service organization and its Raft cluster.
type Orderer struct {
	Org    string `yaml:"org" json:"org"`
	Domain string `yaml:"domain" json:"domain"`
	// MSPID defaults to Org + "MSP".
	MSPID string `yaml:"mspID,omitempty" json:"mspID,omitempty"`
	// Nodes is the number of Raft consenters.
	Nodes int `yaml:"nodes" json:"nodes"`
	// BatchTimeout is a Go duration string; defaults to "2s".
	BatchTimeout string    `yaml:"batchTimeout,omitempty" json:"batchTimeout,omitempty"`
	BatchSize    BatchSize `yaml:"batchSize,omitempty" json:"batchSize,omitempty"`
}

// BatchSize mirrors Fabric's orderer BatchSize channel config value; zero
// fields take the defaults of Fabric's test network.
type BatchSize struct {
	MaxMessageCount   uint32 `yaml:"maxMessageCount,omitempty" json:"maxMessageCount,omitempty"`
	AbsoluteMaxBytes  uint32 `yaml:"absoluteMaxBytes,omitempty" json:"absoluteMaxBytes,omitempty"`
	PreferredMaxBytes uint32 `yaml:"preferredMaxBytes,omitempty" json:"preferredMaxBytes,omitempty"`
}

// Org is a peer organization.
type Org struct {
	Name   string `yaml:"name" json:"name"`
	Domain string `yaml:"domain" json:"domain"`
	// MSPID defaults to Name + "MSP".
	MSPID string `yaml:"mspID,omitempty" json:"mspID,omitempty"`
	Peers int    `yaml:"peers" json:"peers"`
	// Users is the number of ordinary users besides the org admin.
	Users int `yaml:"users" json:"users"`
	// CA says whether the org runs its own certificate authority; a pointer
	// because an omitted value means true.
	CA *bool `yaml:"ca,omitempty" json:"ca,omitempty"`
}

// Channel is an application channel joined by the listed peer organizations.
type Channel struct {
	Name string   `yaml:"name" json:"name"`
	Orgs []string `yaml:"orgs" json:"orgs"`
	// AnchorPeers makes the first peer of each org its anchor peer; a
	// pointer because an omitted value means true.
	AnchorPeers *bool `yaml:"anchorPeers,omitempty" json:"anchorPeers,omitempty"`
}

// Chaincode is a chaincode definition committed on one channel. Exactly one
// of Path (source built and installed on the peers) and CCaaS (chaincode
// running as an external service) is set.
type Chaincode struct {
	Name    string `yaml:"name" json:"name"`
	Channel string `yaml:"channel" json:"channel"`
	// Path is relative to the directory holding the spec file.
	Path  string `yaml:"path,omitempty" json:"path,omitempty"`
	CCaaS *CCaaS `yaml:"ccaas,omitempty" json:"ccaas,omitempty"`
	// Version defaults to "1.0", Sequence to 1.
	Version  string `yaml:"version,omitempty" json:"version,omitempty"`
	Sequence int64  `yaml:"sequence,omitempty" json:"sequence,omitempty"`
	// Endorsement is a signature policy such as
	// "AND('Org1MSP.peer','Org2MSP.peer')"; empty means the channel's
	// /Channel/Application/Endorsement policy.
	Endorsement  string `yaml:"endorsement,omitempty" json:"endorsement,omitempty"`
	InitRequired bool   `yaml:"initRequired,omitempty" json:"initRequired,omitempty"`
	// InitArgs are the function and arguments of the Init call made once
	// after a definition with initRequired is committed (default
	// ["InitLedger"], the fabric-samples convention).
	InitArgs []string `yaml:"initArgs,omitempty" json:"initArgs,omitempty"`
	// Label is the package label; defaults to Name + "_" + Version.
	Label string `yaml:"label,omitempty" json:"label,omitempty"`
}

// CCaaS points at a chaincode that runs as a service the peers dial.
type CCaaS struct {
	// Address is host:port as seen from the peers.
	Address string `yaml:"address" json:"address"`
	TLS     bool   `yaml:"tls,omitempty" json:"tls,omitempty"`
}

// HasCA reports whether the org runs its own CA (default true).
func (o *Org) HasCA() bool { return o.CA == nil || *o.CA }

// HasAnchorPeers reports whether anchor peers are set on the channel
// (default true).
func (c *Channel) HasAnchorPeers() bool { return c.AnchorPeers == nil || *c.AnchorPeers }
