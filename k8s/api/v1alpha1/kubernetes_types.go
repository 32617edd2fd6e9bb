package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Kubernetes holds the settings that exist only on a cluster.
type Kubernetes struct {
	// Image is the weft image every CA, orderer and peer runs.
	// +optional
	// +kubebuilder:default="weft:latest"
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// ChaincodeImages names the image of each chaincode; a chaincode with no
	// entry runs "weft-cc-<name>:<version>", the name `weft image build`
	// gives chaincode images.
	// +optional
	// +listType=map
	// +listMapKey=name
	ChaincodeImages []ChaincodeImage `json:"chaincodeImages,omitempty"`
	// +optional
	Storage Storage `json:"storage,omitempty"`
	// +optional
	Resources Resources `json:"resources,omitempty"`
	// +optional
	Exposure Exposure `json:"exposure,omitempty"`
	// +optional
	Placement Placement `json:"placement,omitempty"`
}

// ChaincodeImage is the image one chaincode runs from.
type ChaincodeImage struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`
}

// Storage sizes the persistent volume of each node kind.
type Storage struct {
	// +optional
	Peer Volume `json:"peer,omitempty"`
	// +optional
	Orderer Volume `json:"orderer,omitempty"`
	// +optional
	CA Volume `json:"ca,omitempty"`
}

// Volume is the claim template of one node kind. Block and local storage
// work as ReadWriteOnce; so does a file (NFS) class.
type Volume struct {
	// StorageClassName empty means the cluster's default class.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
	// Size defaults to 10Gi for peers and orderers and 1Gi for CAs.
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`
}

// Resources are the container requests and limits of each kind.
type Resources struct {
	// +optional
	Peer corev1.ResourceRequirements `json:"peer,omitempty"`
	// +optional
	Orderer corev1.ResourceRequirements `json:"orderer,omitempty"`
	// +optional
	CA corev1.ResourceRequirements `json:"ca,omitempty"`
	// +optional
	Chaincode corev1.ResourceRequirements `json:"chaincode,omitempty"`
}

// ExposureType says how clients outside the cluster reach peers and
// orderers.
//
// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer;Ingress
type ExposureType string

// Exposure types.
const (
	ExposeClusterIP    ExposureType = "ClusterIP"
	ExposeNodePort     ExposureType = "NodePort"
	ExposeLoadBalancer ExposureType = "LoadBalancer"
	ExposeIngress      ExposureType = "Ingress"
)

// Exposure publishes the peers' gateway port and the orderers' client port.
//
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'NodePort' || (has(self.externalAddress) && size(self.externalAddress) > 0)",message="externalAddress is required for type NodePort"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Ingress' || (has(self.hostSuffix) && size(self.hostSuffix) > 0)",message="hostSuffix is required for type Ingress"
type Exposure struct {
	// Type defaults to ClusterIP (reachable only inside the cluster).
	// +optional
	// +kubebuilder:default=ClusterIP
	Type ExposureType `json:"type,omitempty"`
	// ExternalAddress is the host name or IP at which a cluster node is
	// reached (NodePort).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$`
	ExternalAddress string `json:"externalAddress,omitempty"`
	// NodePortBase is the first node port (NodePort); orderers take the
	// ports from it in order, then each org's peers. Fixed ports let a
	// connection profile be written before the Services exist.
	// +optional
	// +kubebuilder:validation:Minimum=30000
	// +kubebuilder:validation:Maximum=32767
	NodePortBase int32 `json:"nodePortBase,omitempty"`
	// HostSuffix makes node host names <node>.<namespace>.<hostSuffix>
	// (Ingress; also used for LoadBalancer addresses when set).
	// +optional
	// +kubebuilder:validation:MaxLength=180
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`
	HostSuffix string `json:"hostSuffix,omitempty"`
	// IngressClassName selects the ingress controller (Ingress).
	// +optional
	IngressClassName *string `json:"ingressClassName,omitempty"`
	// TLSPassthrough hands the TLS stream to the node untouched (default
	// true): Fabric nodes authenticate clients by their TLS certificates,
	// which a terminating ingress would hide.
	// +optional
	TLSPassthrough *bool `json:"tlsPassthrough,omitempty"`
}

// Placement decides which cluster nodes run weft's pods.
type Placement struct {
	// AntiAffinity (default true) asks the scheduler to spread the peers of
	// one org, and the Raft orderers, over different cluster nodes.
	// +optional
	AntiAffinity *bool `json:"antiAffinity,omitempty"`
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}
