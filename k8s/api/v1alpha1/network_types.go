package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Network is one Fabric-compatible network run by weft on the cluster: its
// organizations, Raft ordering service, channels and chaincodes, and how they
// are placed, stored and exposed.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wnet,categories=weft
// +kubebuilder:printcolumn:name="Orgs",type=string,JSONPath=`.spec.orgs[*].name`
// +kubebuilder:printcolumn:name="Channels",type=string,JSONPath=`.spec.channels[*].name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Network struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NetworkSpec   `json:"spec"`
	Status NetworkStatus `json:"status,omitempty"`
}

// NetworkList is a list of Networks.
//
// +kubebuilder:object:root=true
type NetworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Network `json:"items"`
}

// NetworkSpec is weft's network spec (the document `weft up` takes) with the
// Kubernetes settings beside it, both inline so a spec file pasted under
// `spec:` is a valid resource.
type NetworkSpec struct {
	FabricNetwork `json:",inline"`
	Kubernetes    `json:",inline"`
}

// NetworkPhase summarises the Ready condition for `kubectl get`.
//
// +kubebuilder:validation:Enum=Pending;Provisioning;Ready;Degraded;Failed;Deleting
type NetworkPhase string

// Phases of a Network.
const (
	PhasePending      NetworkPhase = "Pending"
	PhaseProvisioning NetworkPhase = "Provisioning"
	PhaseReady        NetworkPhase = "Ready"
	PhaseDegraded     NetworkPhase = "Degraded"
	PhaseFailed       NetworkPhase = "Failed"
	PhaseDeleting     NetworkPhase = "Deleting"
)

// Condition types used in the status, overall and per org, channel and
// chaincode.
const (
	// ConditionReady: everything the spec asks for exists and answers.
	ConditionReady = "Ready"
	// ConditionProgressing: the operator is still creating or changing
	// objects or running population steps.
	ConditionProgressing = "Progressing"
	// ConditionDegraded: something that was ready no longer is.
	ConditionDegraded = "Degraded"
	// ConditionJoined: a channel is joined by every orderer and peer.
	ConditionJoined = "Joined"
	// ConditionCommitted: a chaincode definition is committed.
	ConditionCommitted = "Committed"
)

// NetworkStatus is what the operator last observed.
type NetworkStatus struct {
	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Phase NetworkPhase `json:"phase,omitempty"`
	// Conditions of the network as a whole.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Orgs holds one entry per peer organization and one for the orderer
	// organization.
	// +optional
	// +listType=map
	// +listMapKey=name
	Orgs []ComponentStatus `json:"orgs,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=name
	Channels []ComponentStatus `json:"channels,omitempty"`
	// Chaincodes are named "<channel>/<chaincode>": one name may be defined
	// on several channels.
	// +optional
	// +listType=map
	// +listMapKey=name
	Chaincodes []ComponentStatus `json:"chaincodes,omitempty"`
	// Endpoints lists every node's addresses.
	// +optional
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// ComponentStatus is the state of one org, channel or chaincode.
type ComponentStatus struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NodeKind names the kinds of pods weft runs.
//
// +kubebuilder:validation:Enum=ca;orderer;peer;chaincode
type NodeKind string

// Node kinds.
const (
	KindCA        NodeKind = "ca"
	KindOrderer   NodeKind = "orderer"
	KindPeer      NodeKind = "peer"
	KindChaincode NodeKind = "chaincode"
)

// Endpoint is where one node is reached.
type Endpoint struct {
	// Node is the node's Fabric host name, e.g. peer0.org1.example.com.
	Node string   `json:"node"`
	Org  string   `json:"org"`
	Kind NodeKind `json:"kind"`
	// Internal is host:port inside the cluster.
	Internal string `json:"internal"`
	// External is host:port for clients outside the cluster; empty when the
	// node is not exposed or the address is not known yet.
	// +optional
	External string `json:"external,omitempty"`
}
