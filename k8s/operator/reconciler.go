package operator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/spec"
)

// The operator's permissions, least privilege: what it renders (applied
// with server-side apply: get, create, patch), the claims it may delete on
// request, events, and its leader election lease in its own namespace (the
// Helm chart puts that Role in the release namespace). controller-gen turns
// these into k8s/config/rbac/role.yaml.
//
// +kubebuilder:rbac:groups=weft.dev,resources=networks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=weft.dev,resources=networks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=weft.dev,resources=networks/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces;secrets;configmaps;services,verbs=get;list;create;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=list;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=apps,resources=statefulsets;deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;create;patch;delete
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=weft-system,resources=leases,verbs=get;create;update
// +kubebuilder:rbac:groups="",namespace=weft-system,resources=events,verbs=create;patch

// NetworkReconciler drives a Network to its spec: crypto material kept in
// Secrets, every rendered object applied, stale ones pruned, and the
// channels and chaincodes populated once the pods are ready.
type NetworkReconciler struct {
	// Client writes and reads Networks and workloads (cached).
	Client client.Client
	// Reader reads Secrets, namespaces and listings uncached, so the
	// operator does not keep every Secret of the cluster in memory.
	Reader   client.Reader
	Recorder record.EventRecorder
	Render   render.Options
	// PopulateTimeout bounds one population pass (default 2 minutes).
	PopulateTimeout time.Duration
	// WaitInterval is how soon a Network waiting for pods is looked at
	// again (default 15 s); watches on its workloads usually come first.
	WaitInterval time.Duration
	// ResyncInterval re-checks a Ready network for drift (default 5 min).
	ResyncInterval time.Duration

	// lastApply remembers, per Network, the hash of the objects last
	// applied and pruned and when: pod readiness changes reconcile often,
	// and re-applying a hundred unchanged objects each time would only
	// load the API server. Drift is still corrected every ResyncInterval.
	lastApply sync.Map // types.NamespacedName -> appliedState
}

type appliedState struct {
	hash string
	at   time.Time
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (r *NetworkReconciler) populateTimeout() time.Duration {
	return orDefault(r.PopulateTimeout, 2*time.Minute)
}
func (r *NetworkReconciler) waitInterval() time.Duration {
	return orDefault(r.WaitInterval, 15*time.Second)
}
func (r *NetworkReconciler) resyncInterval() time.Duration {
	return orDefault(r.ResyncInterval, 5*time.Minute)
}

// Reconcile handles one Network.
func (r *NetworkReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var net v1alpha1.Network
	if err := r.Client.Get(ctx, req.NamespacedName, &net); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !net.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &net)
	}
	if !controllerutil.ContainsFinalizer(&net, Finalizer) {
		controllerutil.AddFinalizer(&net, Finalizer)
		if err := r.Client.Update(ctx, &net); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	return r.reconcile(ctx, &net)
}

func (r *NetworkReconciler) finalize(ctx context.Context, net *v1alpha1.Network) error {
	if !controllerutil.ContainsFinalizer(net, Finalizer) {
		return nil
	}
	if net.Status.Phase != v1alpha1.PhaseDeleting {
		net.Status.Phase = v1alpha1.PhaseDeleting
		// Best effort: the status is only informative while deleting.
		_ = r.Client.Status().Update(ctx, net)
	}
	r.lastApply.Delete(client.ObjectKeyFromObject(net))
	removed, err := cleanup(ctx, r.Client, r.Reader, net)
	if err != nil {
		r.Recorder.Eventf(net, corev1.EventTypeWarning, "CleanupFailed", "%s", truncate(err.Error()))
		return err
	}
	log.FromContext(ctx).Info("cleaned up", "removed", len(removed), "deleteVolumes", deleteVolumes(net))
	controllerutil.RemoveFinalizer(net, Finalizer)
	if err := r.Client.Update(ctx, net); err != nil {
		return fmt.Errorf("remove finalizer: %w", client.IgnoreNotFound(err))
	}
	return nil
}

// run carries one reconcile's status.
type run struct {
	r    *NetworkReconciler
	net  *v1alpha1.Network
	orig *v1alpha1.NetworkStatus
}

// fail records a failure of the whole network and returns retry, which
// controller-runtime retries with backoff; a nil retry means only a change
// of the Network can help (bad spec).
func (x *run) fail(ctx context.Context, applied bool, reason string, err error, retry bool) (ctrl.Result, error) {
	st := &x.net.Status
	gen := x.net.Generation
	setCond(&st.Conditions, v1alpha1.ConditionReady, cond{reason: reason, message: err.Error()}, gen)
	setCond(&st.Conditions, v1alpha1.ConditionProgressing, cond{ok: retry, reason: reason, message: err.Error()}, gen)
	st.Phase = phase(st, applied, true)
	st.ObservedGeneration = gen
	x.r.Recorder.Eventf(x.net, corev1.EventTypeWarning, reason, "%s", truncate(err.Error()))
	if uerr := x.saveStatus(ctx); uerr != nil {
		return ctrl.Result{}, uerr
	}
	if !retry {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, err
}

func (x *run) saveStatus(ctx context.Context) error {
	if equality.Semantic.DeepEqual(x.orig, &x.net.Status) {
		return nil
	}
	if err := x.r.Client.Status().Update(ctx, x.net); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

func (r *NetworkReconciler) reconcile(ctx context.Context, net *v1alpha1.Network) (ctrl.Result, error) {
	x := &run{r: r, net: net, orig: net.Status.DeepCopy()}
	st := &net.Status
	gen := net.Generation
	n := net.NetworkSpec()
	orgNames, chNames, ccNames := statusNames(n)
	st.Orgs = components(st.Orgs, orgNames)
	st.Channels = components(st.Channels, chNames)
	st.Chaincodes = components(st.Chaincodes, ccNames)

	if err := net.Validate(); err != nil {
		return x.fail(ctx, false, ReasonRenderFailed, err, false)
	}
	if err := r.checkNamespaces(ctx, net); err != nil {
		return x.fail(ctx, false, ReasonNamespaceInUse, err, false)
	}
	m, dir, err := prepareMaterial(ctx, r.Client, r.Reader, net)
	if err != nil {
		return x.fail(ctx, false, ReasonMaterialFailed, err, true)
	}
	defer os.RemoveAll(dir)
	objs, err := render.ObjectsWith(net, m, r.Render)
	if err != nil {
		return x.fail(ctx, false, ReasonRenderFailed, err, false)
	}
	key := client.ObjectKeyFromObject(net)
	hash, err := objectsHash(net, objs)
	if err != nil {
		return x.fail(ctx, false, ReasonRenderFailed, err, false)
	}
	if last, ok := r.lastApply.Load(key); !ok || last.(appliedState).hash != hash || time.Since(last.(appliedState).at) > r.resyncInterval() {
		r.lastApply.Delete(key)
		applied, err := applyAll(ctx, r.Client, net, objs)
		if err != nil {
			return x.fail(ctx, len(applied) > 0, ReasonApplyFailed, err, true)
		}
		removed, err := prune(ctx, r.Client, r.Reader, net, applied, deleteVolumes(net))
		if err != nil {
			return x.fail(ctx, true, ReasonApplyFailed, err, true)
		}
		if len(removed) > 0 {
			r.Recorder.Eventf(net, corev1.EventTypeNormal, "Pruned", "removed %s", truncate(strings.Join(removed, ", ")))
		}
		r.lastApply.Store(key, appliedState{hash: hash, at: time.Now()})
	}
	if eps, err := render.Endpoints(net); err == nil {
		st.Endpoints = eps
	}

	ready, err := observe(ctx, r.Client, objs)
	if err != nil {
		return x.fail(ctx, true, ReasonApplyFailed, err, true)
	}
	for _, org := range orgNames {
		c := cond{ok: true, reason: ReasonPodsReady, message: "every pod is ready"}
		if !ready.orgReady(org) {
			c = cond{reason: ReasonWaitingForPods, message: "waiting for ready pods: " + strings.Join(ready.notReady[org], ", ")}
		}
		setCond(component(st.Orgs, org), v1alpha1.ConditionReady, c, gen)
	}

	popErr := r.populate(ctx, net, dir, m, ready)
	allReady := allTrue(st.Orgs, v1alpha1.ConditionReady) && allTrue(st.Channels, v1alpha1.ConditionJoined) &&
		allTrue(st.Chaincodes, v1alpha1.ConditionCommitted)
	var result ctrl.Result
	switch {
	case allReady:
		setCond(&st.Conditions, v1alpha1.ConditionReady, cond{ok: true, reason: ReasonReconciled, message: "every node, channel and chaincode is ready"}, gen)
		setCond(&st.Conditions, v1alpha1.ConditionProgressing, cond{reason: ReasonReconciled, message: "nothing left to do"}, gen)
		result.RequeueAfter = r.resyncInterval()
	case popErr != nil:
		setCond(&st.Conditions, v1alpha1.ConditionReady, cond{reason: ReasonPopulateFailed, message: popErr.Error()}, gen)
		setCond(&st.Conditions, v1alpha1.ConditionProgressing, cond{ok: true, reason: ReasonPopulateFailed, message: "retrying: " + popErr.Error()}, gen)
		r.Recorder.Eventf(net, corev1.EventTypeWarning, ReasonPopulateFailed, "%s", truncate(popErr.Error()))
	default:
		msg := "objects applied; " + ready.waiting()
		if ready.nodesReady() {
			msg = "objects applied; populating"
		}
		setCond(&st.Conditions, v1alpha1.ConditionReady, cond{reason: ReasonWaitingForPods, message: msg}, gen)
		setCond(&st.Conditions, v1alpha1.ConditionProgressing, cond{ok: true, reason: ReasonWaitingForPods, message: msg}, gen)
		result.RequeueAfter = r.waitInterval()
	}
	st.Phase = phase(st, true, popErr != nil)
	st.ObservedGeneration = gen
	if err := x.saveStatus(ctx); err != nil {
		return ctrl.Result{}, err
	}
	if popErr != nil && !allReady {
		// Returned so the work queue backs off exponentially.
		return ctrl.Result{}, popErr
	}
	return result, nil
}

// populate runs the population steps the pods' readiness allows and
// records each channel and chaincode; it returns the first failure.
func (r *NetworkReconciler) populate(ctx context.Context, net *v1alpha1.Network, dir string, m *render.Material, ready *readiness) error {
	st := &net.Status
	gen := net.Generation
	n := net.NetworkSpec()
	if !ready.nodesReady() {
		for _, ch := range n.Channels {
			setCond(component(st.Channels, ch.Name), v1alpha1.ConditionJoined, cond{reason: ReasonWaitingForPods, message: ready.waiting()}, gen)
		}
		for i := range n.Chaincodes {
			setCond(component(st.Chaincodes, ChaincodeStatusName(&n.Chaincodes[i])), v1alpha1.ConditionCommitted,
				cond{reason: ReasonWaitingForPods, message: ready.waiting()}, gen)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.populateTimeout())
	defer cancel()
	p, err := newPopulator(net, dir, m)
	if err != nil {
		return err
	}
	defer p.close()
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	chs := p.channels(ctx)
	for _, ch := range n.Channels {
		res := chs[ch.Name]
		setCond(component(st.Channels, ch.Name), v1alpha1.ConditionJoined, cond{ok: res.done, reason: res.reason, message: res.msg}, gen)
		if !res.done {
			note(fmt.Errorf("channel %q: %s", ch.Name, res.msg))
		}
	}
	setOrgMembership(st, n, p.members, gen)
	pkgs, err := render.Packages(net)
	if err != nil {
		return err
	}
	for i := range n.Chaincodes {
		cc := &n.Chaincodes[i]
		conds := component(st.Chaincodes, ChaincodeStatusName(cc))
		var res popResult
		switch {
		case !chs[cc.Channel].done:
			res = popResult{reason: ReasonWaitingChannel, msg: fmt.Sprintf("channel %q is not joined yet", cc.Channel)}
		case !chaincodeServersReady(pkgs, cc, ready):
			res = popResult{reason: ReasonWaitingForPods, msg: "waiting for the chaincode servers: " + ready.waiting()}
		default:
			res = p.chaincode(ctx, cc, pkgs)
			if !res.done {
				note(fmt.Errorf("chaincode %s: %s", ChaincodeStatusName(cc), res.msg))
			}
		}
		setCond(conds, v1alpha1.ConditionCommitted, cond{ok: res.done, reason: res.reason, message: res.msg}, gen)
	}
	return first
}

func chaincodeServersReady(pkgs []render.Package, cc *spec.Chaincode, ready *readiness) bool {
	for _, p := range pkgs {
		if p.Chaincode == cc.Name && p.Channel == cc.Channel && !ready.chaincodes[packageAddrKey(p.Address)] {
			return false
		}
	}
	return true
}

// checkNamespaces refuses to take over a namespace another Network
// created: two Networks with one name in different namespaces would
// otherwise fight over the same org namespaces.
func (r *NetworkReconciler) checkNamespaces(ctx context.Context, net *v1alpha1.Network) error {
	n := net.NetworkSpec()
	names := []string{render.OrgNamespace(n.Name, n.Orderer.Org)}
	for _, o := range n.Orgs {
		names = append(names, render.OrgNamespace(n.Name, o.Name))
	}
	for _, name := range names {
		var ns corev1.Namespace
		ok, err := get(ctx, r.Reader, client.ObjectKey{Name: name}, &ns)
		if err != nil {
			return err
		}
		if owner := ns.Annotations[AnnotationOwner]; ok && owner != "" && owner != ownerOf(net) {
			return fmt.Errorf("namespace %s belongs to Network %s; set spec.name to a network name of its own", name, owner)
		}
	}
	return nil
}

// objectsHash identifies a rendered state: the objects and the settings
// that change how they are applied and pruned.
func objectsHash(net *v1alpha1.Network, objs []render.Object) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%v\n", ownerOf(net), deleteVolumes(net))
	enc := json.NewEncoder(h)
	for _, o := range objs {
		if err := enc.Encode(o); err != nil {
			return "", fmt.Errorf("%s %s: %w", kindOf(o), o.GetName(), err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
