package v1alpha1

// The types in this file mirror package spec field for field (same JSON
// names), with the spec's limits written as schema markers so the API
// server rejects most bad input before the operator sees it. spec.Validate
// remains the authority: conversion runs it.

// FabricNetwork mirrors spec.Network.
type FabricNetwork struct {
	// Name of the Fabric network; defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name    string      `json:"name,omitempty"`
	Orderer OrdererSpec `json:"orderer"`
	// +kubebuilder:validation:MinItems=1
	Orgs []OrgSpec `json:"orgs"`
	// +optional
	Channels []ChannelSpec `json:"channels,omitempty"`
	// +optional
	Chaincodes []ChaincodeSpec `json:"chaincodes,omitempty"`
}

// OrdererSpec mirrors spec.Orderer: the ordering organization and its Raft
// cluster.
type OrdererSpec struct {
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	Org string `json:"org"`
	// +kubebuilder:validation:MaxLength=230
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`
	Domain string `json:"domain"`
	// MSPID defaults to org + "MSP".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`
	MSPID string `json:"mspID,omitempty"`
	// Nodes is the number of Raft consenters.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=15
	Nodes int `json:"nodes"`
	// BatchTimeout is a Go duration such as "2s"; defaults to "2s".
	// +optional
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	BatchTimeout string `json:"batchTimeout,omitempty"`
	// +optional
	BatchSize BatchSizeSpec `json:"batchSize,omitempty"`
}

// BatchSizeSpec mirrors spec.BatchSize; zero fields take Fabric's test
// network defaults.
type BatchSizeSpec struct {
	// +optional
	MaxMessageCount uint32 `json:"maxMessageCount,omitempty"`
	// +optional
	// +kubebuilder:validation:Maximum=104857600
	AbsoluteMaxBytes uint32 `json:"absoluteMaxBytes,omitempty"`
	// +optional
	PreferredMaxBytes uint32 `json:"preferredMaxBytes,omitempty"`
}

// OrgSpec mirrors spec.Org: a peer organization.
type OrgSpec struct {
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	Name string `json:"name"`
	// +kubebuilder:validation:MaxLength=230
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`
	Domain string `json:"domain"`
	// MSPID defaults to name + "MSP".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`
	MSPID string `json:"mspID,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	Peers int `json:"peers"`
	// Users is the number of ordinary users besides the org admin.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Users int `json:"users"`
	// CA says whether the org runs its own certificate authority (default
	// true).
	// +optional
	CA *bool `json:"ca,omitempty"`
}

// ChannelSpec mirrors spec.Channel.
type ChannelSpec struct {
	// +kubebuilder:validation:MaxLength=249
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9.-]*$`
	Name string `json:"name"`
	// +kubebuilder:validation:MinItems=1
	Orgs []string `json:"orgs"`
	// AnchorPeers makes each org's first peer its anchor peer (default true).
	// +optional
	AnchorPeers *bool `json:"anchorPeers,omitempty"`
}

// ChaincodeSpec mirrors spec.Chaincode. On Kubernetes every chaincode runs
// as a service (a Deployment per org); path only says where its image was
// built from.
type ChaincodeSpec struct {
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`
	Name    string `json:"name"`
	Channel string `json:"channel"`
	// +optional
	Path string `json:"path,omitempty"`
	// +optional
	CCaaS *CCaaSSpec `json:"ccaas,omitempty"`
	// Version defaults to "1.0".
	// +optional
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.+-]+$`
	Version string `json:"version,omitempty"`
	// Sequence defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Sequence int64 `json:"sequence,omitempty"`
	// Endorsement is a signature policy such as
	// "AND('Org1MSP.peer','Org2MSP.peer')".
	// +optional
	Endorsement string `json:"endorsement,omitempty"`
	// +optional
	InitRequired bool `json:"initRequired,omitempty"`
	// +optional
	InitArgs []string `json:"initArgs,omitempty"`
	// Label is the package label; defaults to name + "_" + version.
	// +optional
	Label string `json:"label,omitempty"`
}

// CCaaSSpec mirrors spec.CCaaS.
type CCaaSSpec struct {
	// Address is host:port as seen from the peers; on Kubernetes only its
	// port is used (the operator names the Service).
	Address string `json:"address"`
	// +optional
	TLS bool `json:"tls,omitempty"`
}
