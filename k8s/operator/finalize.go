package operator

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

// Finalizer holds a deleted Network until the operator removed what it
// created.
const Finalizer = "weft.dev/cleanup"

// AnnotationDeleteVolumes set to "true" on a Network makes deleting it (or
// pruning a removed node) also delete the nodes' PersistentVolumeClaims,
// their namespaces and the Network's crypto material. Without it ledgers
// survive: the claims, the namespaces holding them and the material
// Secrets (whose keys the ledgers were written with) stay, so recreating
// the Network under the same name picks its data up again.
const AnnotationDeleteVolumes = "weft.dev/delete-volumes"

func deleteVolumes(net *v1alpha1.Network) bool {
	return strings.EqualFold(net.Annotations[AnnotationDeleteVolumes], "true")
}

// cleanup removes everything the operator created for net. It returns what
// it removed, for the event.
func cleanup(ctx context.Context, c client.Client, r client.Reader, net *v1alpha1.Network) ([]string, error) {
	// Pruning against an empty applied set deletes every owned object, and
	// the namespaces as far as the volume rule allows.
	removed, err := prune(ctx, c, r, net, map[objectKey]bool{}, deleteVolumes(net))
	if err != nil {
		return removed, err
	}
	if !deleteVolumes(net) {
		return removed, nil
	}
	var pvcs corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &pvcs, client.MatchingLabels{render.LabelNetwork: net.NetworkSpec().Name}); err != nil {
		return removed, fmt.Errorf("list PersistentVolumeClaims: %w", err)
	}
	for i := range pvcs.Items {
		p := &pvcs.Items[i]
		if !ownedNamespace(ctx, r, net, p.Namespace) {
			continue
		}
		if err := deleteObject(ctx, c, p); err != nil {
			return removed, fmt.Errorf("delete PersistentVolumeClaim %s/%s: %w", p.Namespace, p.Name, err)
		}
		removed = append(removed, "PersistentVolumeClaim "+p.Namespace+"/"+p.Name)
	}
	if err := deleteMaterial(ctx, c, r, net); err != nil {
		return removed, err
	}
	return append(removed, "material Secrets"), nil
}

// ownedNamespace says whether namespace was created for this Network: claims
// are matched by label only (the StatefulSet controller creates them), so
// their namespace vouches for them.
func ownedNamespace(ctx context.Context, r client.Reader, net *v1alpha1.Network, namespace string) bool {
	var ns corev1.Namespace
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, &ns); err != nil {
		return false
	}
	return ns.Annotations[AnnotationOwner] == ownerOf(net)
}
