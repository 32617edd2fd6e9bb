package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// GroupVersion is the API group and version of the weft resources.
var GroupVersion = schema.GroupVersion{Group: "weft.dev", Version: "v1alpha1"}

var (
	// SchemeBuilder registers the weft types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the weft types to a scheme (for clients and managers).
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&Network{}, &NetworkList{})
}

// Kind returns the GroupVersionKind of a weft kind name, e.g. "Network".
func Kind(kind string) schema.GroupVersionKind { return GroupVersion.WithKind(kind) }

var _ runtime.Object = &Network{}
