package operator

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

// FieldManager is the server-side apply field manager of everything the
// operator writes.
const FieldManager = "weft-operator"

// AnnotationOwner on every object the operator applies names the Network
// ("<namespace>/<name>") it belongs to. Rendered objects live in the
// network's own namespaces, where an owner reference to the Network (in
// another namespace) is not allowed; the annotation maps watch events back
// and keeps two Networks from claiming each other's objects.
const AnnotationOwner = "weft.dev/owner"

func ownerOf(net *v1alpha1.Network) string { return net.Namespace + "/" + net.Name }

// applyObject server-side applies obj with the operator's field manager,
// taking over fields other managers set (the rendered state is the truth).
func applyObject(ctx context.Context, c client.Client, obj client.Object) error {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("%s %s: %w", kindOf(obj), obj.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: raw}
	// Typed objects serialise a null creation time and an empty status;
	// neither belongs in an apply configuration.
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return fmt.Errorf("%s: apply needs apiVersion and kind", obj.GetName())
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

func kindOf(obj runtime.Object) string { return obj.GetObjectKind().GroupVersionKind().Kind }

// managedKinds are the kinds render produces, namespaced ones in the order
// they are removed (workloads first, so pods stop before their Secrets go).
// Namespaces are handled apart; PersistentVolumeClaims are only ever
// deleted on request.
func managedKinds() []client.ObjectList {
	return []client.ObjectList{
		&appsv1.DeploymentList{},
		&appsv1.StatefulSetList{},
		&networkingv1.IngressList{},
		&corev1.ServiceList{},
		&networkingv1.NetworkPolicyList{},
		&corev1.ConfigMapList{},
		&corev1.SecretList{},
	}
}

// networkSelector selects what the operator created for a network,
// excluding its material Secrets.
func networkSelector(netName string) (labels.Selector, error) {
	is, err := labels.NewRequirement(render.LabelNetwork, selection.Equals, []string{netName})
	if err != nil {
		return nil, err
	}
	notMaterial, err := labels.NewRequirement(LabelMaterial, selection.DoesNotExist, nil)
	if err != nil {
		return nil, err
	}
	return labels.NewSelector().Add(*is, *notMaterial), nil
}

// objectKey identifies an object across kinds.
type objectKey struct{ kind, namespace, name string }

func keyOf(kind string, o client.Object) objectKey {
	return objectKey{kind: kind, namespace: o.GetNamespace(), name: o.GetName()}
}

// listOwned lists the objects of one kind that carry the network's labels
// and this Network's owner annotation, across namespaces.
func listOwned(ctx context.Context, r client.Reader, net *v1alpha1.Network, list client.ObjectList) ([]client.Object, error) {
	sel, err := networkSelector(net.NetworkSpec().Name)
	if err != nil {
		return nil, err
	}
	if err := r.List(ctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	var out []client.Object
	items, err := itemsOf(list)
	if err != nil {
		return nil, err
	}
	for _, o := range items {
		if o.GetAnnotations()[AnnotationOwner] == ownerOf(net) {
			out = append(out, o)
		}
	}
	return out, nil
}

func itemsOf(list client.ObjectList) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		co, ok := o.(client.Object)
		if !ok {
			return nil, fmt.Errorf("list item %T is not an object with metadata", o)
		}
		out = append(out, co)
	}
	return out, nil
}

// listKind names the kind of a list's items, for keys and messages.
func listKind(list client.ObjectList) string {
	switch list.(type) {
	case *appsv1.DeploymentList:
		return "Deployment"
	case *appsv1.StatefulSetList:
		return "StatefulSet"
	case *networkingv1.IngressList:
		return "Ingress"
	case *corev1.ServiceList:
		return "Service"
	case *networkingv1.NetworkPolicyList:
		return "NetworkPolicy"
	case *corev1.ConfigMapList:
		return "ConfigMap"
	case *corev1.SecretList:
		return "Secret"
	case *corev1.NamespaceList:
		return "Namespace"
	case *corev1.PersistentVolumeClaimList:
		return "PersistentVolumeClaim"
	}
	return fmt.Sprintf("%T", list)
}

// applyAll applies every rendered object, stamped with the owner
// annotation, and returns the set applied.
func applyAll(ctx context.Context, c client.Client, net *v1alpha1.Network, objs []render.Object) (map[objectKey]bool, error) {
	applied := map[objectKey]bool{}
	for _, o := range objs {
		ann := o.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationOwner] = ownerOf(net)
		o.SetAnnotations(ann)
		if err := applyObject(ctx, c, o); err != nil {
			return applied, err
		}
		applied[keyOf(kindOf(o), o)] = true
	}
	return applied, nil
}

// prune deletes the network's objects that are no longer rendered (a peer
// scaled away, an org or chaincode removed). PersistentVolumeClaims stay
// unless deleteVolumes; so does a namespace that still holds claims.
func prune(ctx context.Context, c client.Client, r client.Reader, net *v1alpha1.Network, applied map[objectKey]bool, deleteVolumes bool) ([]string, error) {
	var removed []string
	for _, list := range managedKinds() {
		kind := listKind(list)
		objs, err := listOwned(ctx, r, net, list)
		if err != nil {
			return removed, fmt.Errorf("list %s: %w", kind, err)
		}
		for _, o := range objs {
			if applied[keyOf(kind, o)] {
				continue
			}
			if err := deleteObject(ctx, c, o); err != nil {
				return removed, fmt.Errorf("prune %s %s/%s: %w", kind, o.GetNamespace(), o.GetName(), err)
			}
			removed = append(removed, kind+" "+o.GetNamespace()+"/"+o.GetName())
		}
	}
	nss, err := listOwned(ctx, r, net, &corev1.NamespaceList{})
	if err != nil {
		return removed, fmt.Errorf("list Namespace: %w", err)
	}
	for _, ns := range nss {
		if applied[keyOf("Namespace", ns)] || ns.GetDeletionTimestamp() != nil {
			continue
		}
		if !deleteVolumes {
			held, err := hasClaims(ctx, r, net, ns.GetName())
			if err != nil {
				return removed, err
			}
			if held {
				continue
			}
		}
		if err := deleteObject(ctx, c, ns); err != nil {
			return removed, fmt.Errorf("prune Namespace %s: %w", ns.GetName(), err)
		}
		removed = append(removed, "Namespace "+ns.GetName())
	}
	return removed, nil
}

// hasClaims says whether namespace holds claims of the network's nodes.
func hasClaims(ctx context.Context, r client.Reader, net *v1alpha1.Network, namespace string) (bool, error) {
	var pvcs corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &pvcs, client.InNamespace(namespace), client.MatchingLabels{render.LabelNetwork: net.NetworkSpec().Name}); err != nil {
		return false, fmt.Errorf("list PersistentVolumeClaims in %s: %w", namespace, err)
	}
	return len(pvcs.Items) > 0, nil
}

// deleteObject deletes in the background: dependents (a StatefulSet's
// pods) are left to the garbage collector.
func deleteObject(ctx context.Context, c client.Client, o client.Object) error {
	err := c.Delete(ctx, o, client.PropagationPolicy("Background"))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
