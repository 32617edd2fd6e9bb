package render

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// AnnotationConfigHash on a node's pod template is the SHA-256 of its
// ConfigMap and crypto Secret. Nodes read both only at start (an orderer's
// client TLS roots, for one, list every org's TLS CA), so a change of
// either — a new org, a renewed certificate — must roll the pod.
const AnnotationConfigHash = "weft.dev/config-sha256"

// configHash digests the ConfigMap and crypto Secret already rendered for
// nd; empty when neither is there.
func (r *renderer) configHash(nd *node) string {
	h := sha256.New()
	found := false
	for _, o := range r.out {
		switch obj := o.(type) {
		case *corev1.ConfigMap:
			if obj.Namespace == nd.namespace && obj.Name == nd.name+"-config" {
				found = true
				for _, k := range sortedKeys(obj.Data) {
					h.Write([]byte("c:" + k + "\x00" + obj.Data[k] + "\x00"))
				}
			}
		case *corev1.Secret:
			if obj.Namespace == nd.namespace && obj.Name == nodeCryptoName(nd) {
				found = true
				for _, k := range sortedKeys(obj.Data) {
					h.Write([]byte("s:" + k + "\x00"))
					h.Write(obj.Data[k])
					h.Write([]byte{0})
				}
			}
		}
	}
	if !found {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
