package operator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

// readiness is which rendered workloads have ready pods.
type readiness struct {
	// notReady lists, per org, its workloads without a ready pod.
	notReady map[string][]string
	// chaincodes maps a chaincode workload ("<namespace>/<name>") to
	// whether it is available.
	chaincodes map[string]bool
}

func (r *readiness) orgReady(org string) bool { return len(r.notReady[org]) == 0 }

// nodesReady says whether every CA, orderer and peer has a ready pod.
func (r *readiness) nodesReady() bool {
	for _, l := range r.notReady {
		for _, w := range l {
			if !strings.HasPrefix(w, "chaincode ") {
				return false
			}
		}
	}
	return true
}

// waiting is a message naming what is not ready.
func (r *readiness) waiting() string {
	var parts []string
	for org, l := range r.notReady {
		parts = append(parts, org+": "+strings.Join(l, ", "))
	}
	slices.Sort(parts)
	return "waiting for ready pods of " + strings.Join(parts, "; ")
}

// observe reads the live state of every rendered StatefulSet and
// Deployment. A workload the API server does not have yet counts as not
// ready.
func observe(ctx context.Context, r client.Reader, objs []render.Object) (*readiness, error) {
	out := &readiness{notReady: map[string][]string{}, chaincodes: map[string]bool{}}
	for _, o := range objs {
		org := o.GetLabels()[render.LabelOrg]
		key := client.ObjectKey{Namespace: o.GetNamespace(), Name: o.GetName()}
		switch o.(type) {
		case *appsv1.StatefulSet:
			var live appsv1.StatefulSet
			ok, err := get(ctx, r, key, &live)
			if err != nil {
				return nil, err
			}
			if !ok || !statefulSetReady(&live) {
				out.notReady[org] = append(out.notReady[org], o.GetLabels()[render.LabelComponent]+" "+o.GetName())
			}
		case *appsv1.Deployment:
			var live appsv1.Deployment
			ok, err := get(ctx, r, key, &live)
			if err != nil {
				return nil, err
			}
			ready := ok && deploymentReady(&live)
			out.chaincodes[key.String()] = ready
			if !ready {
				out.notReady[org] = append(out.notReady[org], string(v1alpha1.KindChaincode)+" "+o.GetName())
			}
		}
	}
	return out, nil
}

func get(ctx context.Context, r client.Reader, key client.ObjectKey, obj client.Object) (bool, error) {
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return true, nil
}

// statefulSetReady: the controller saw the current spec, every replica
// runs it and is ready, and the roll is finished (no pod of an older
// revision left).
func statefulSetReady(s *appsv1.StatefulSet) bool {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	return s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas >= want && s.Status.UpdatedReplicas >= want &&
		s.Status.CurrentRevision == s.Status.UpdateRevision
}

// deploymentReady also waits until no pod of the previous template is left:
// after a chaincode upgrade the old server still registers the old package
// ID, and a peer dialling the Service could reach it.
func deploymentReady(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas >= want && d.Status.UpdatedReplicas >= want &&
		d.Status.Replicas == d.Status.UpdatedReplicas && d.Status.UnavailableReplicas == 0
}
