// Package v1alpha1 is the weft.dev/v1alpha1 API: the Network custom resource
// whose spec is weft's network spec (package spec) plus the settings only a
// Kubernetes cluster needs (image, storage, resources, exposure, placement).
//
// The network part is a mirror of spec.Network rather than the spec types
// themselves: spec.Network carries unexported bookkeeping that deepcopy
// generation cannot see, and the mirror is where the CRD's validation
// markers live. ToSpec and FromSpec convert; a test keeps the two in step.
//
// +kubebuilder:object:generate=true
// +groupName=weft.dev
package v1alpha1

//go:generate go tool controller-gen object paths=. crd:maxDescLen=400 output:crd:dir=../../crd
