package v1alpha1

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"weft/spec"
)

// DefaultImage is the weft image nodes run when spec.image is empty.
const DefaultImage = "weft:latest"

// Node port range of a default kube-apiserver.
const (
	MinNodePort = 30000
	MaxNodePort = 32767
)

var dnsNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// FieldError is one invalid field of a Network; Path is the JSON path from
// the resource root, e.g. "spec.exposure.externalAddress".
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks the whole resource: the network spec by spec.Validate's
// rules and the Kubernetes settings. It returns every problem joined, each
// a *FieldError naming the field.
func (n *Network) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	s := n.NetworkSpec()
	if err := s.Validate(); err != nil {
		probs := spec.Problems(err)
		if len(probs) == 0 {
			add("spec", "%v", err)
		}
		for _, p := range probs {
			path := "spec"
			if p.Path != "" {
				path += "." + p.Path
			}
			add(path, "%s", p.Msg)
		}
	}
	k := &n.Spec.Kubernetes
	switch k.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		add("spec.imagePullPolicy", "%q is not one of Always, IfNotPresent, Never", k.ImagePullPolicy)
	}
	if strings.ContainsAny(k.Image, " \t\n") {
		add("spec.image", "%q contains white space", k.Image)
	}
	seen := map[string]bool{}
	for i, ci := range k.ChaincodeImages {
		at := fmt.Sprintf("spec.chaincodeImages[%d]", i)
		if !hasChaincode(s, ci.Name) {
			add(at+".name", "chaincode %q is not defined in chaincodes", ci.Name)
		}
		if seen[ci.Name] {
			add(at+".name", "chaincode %q is listed twice", ci.Name)
		}
		seen[ci.Name] = true
		if ci.Image == "" || strings.ContainsAny(ci.Image, " \t\n") {
			add(at+".image", "%q is not an image reference", ci.Image)
		}
	}
	for kind, v := range map[string]Volume{"peer": k.Storage.Peer, "orderer": k.Storage.Orderer, "ca": k.Storage.CA} {
		if v.Size != nil && v.Size.Sign() <= 0 {
			add("spec.storage."+kind+".size", "%s must be positive", v.Size.String())
		}
		if v.StorageClassName != nil && *v.StorageClassName != "" && !dnsNameRE.MatchString(*v.StorageClassName) {
			add("spec.storage."+kind+".storageClassName", "%q is not a valid object name", *v.StorageClassName)
		}
	}
	validateExposure(&k.Exposure, s, add)
	return errors.Join(errs...)
}

func validateExposure(e *Exposure, s *spec.Network, add func(path, format string, args ...any)) {
	switch e.Type {
	case "", ExposeClusterIP, ExposeLoadBalancer:
	case ExposeNodePort:
		if e.ExternalAddress == "" {
			add("spec.exposure.externalAddress", "is required for type NodePort: it is the address clients dial")
		} else if net.ParseIP(e.ExternalAddress) == nil && !dnsNameRE.MatchString(e.ExternalAddress) {
			add("spec.exposure.externalAddress", "%q is not an IP address or lower-case DNS name", e.ExternalAddress)
		}
		if e.NodePortBase != 0 {
			count := int32(s.Orderer.Nodes)
			for _, o := range s.Orgs {
				count += int32(o.Peers)
			}
			if e.NodePortBase < MinNodePort || e.NodePortBase+count-1 > MaxNodePort {
				add("spec.exposure.nodePortBase", "%d..%d (one port per orderer and peer) is outside %d..%d",
					e.NodePortBase, e.NodePortBase+count-1, MinNodePort, MaxNodePort)
			}
		}
	case ExposeIngress:
		if e.HostSuffix == "" {
			add("spec.exposure.hostSuffix", "is required for type Ingress: node host names end in it")
		}
	default:
		add("spec.exposure.type", "%q is not one of ClusterIP, NodePort, LoadBalancer, Ingress", e.Type)
	}
	if e.HostSuffix != "" && (len(e.HostSuffix) > 180 || !dnsNameRE.MatchString(e.HostSuffix)) {
		add("spec.exposure.hostSuffix", "%q is not a lower-case DNS name of at most 180 characters", e.HostSuffix)
	}
	if e.Type != ExposeNodePort && e.NodePortBase != 0 {
		add("spec.exposure.nodePortBase", "is only used with type NodePort")
	}
}

func hasChaincode(s *spec.Network, name string) bool {
	for _, c := range s.Chaincodes {
		if c.Name == name {
			return true
		}
	}
	return false
}
