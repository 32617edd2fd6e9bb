package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

// Options configure the operator process.
type Options struct {
	// MetricsAddr is where Prometheus metrics are served ("0" turns them
	// off); default ":8080".
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz ("0" turns them off); default
	// ":8081".
	ProbeAddr string
	// LeaderElection lets several replicas run with one active.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease; default OperatorNamespace.
	LeaderElectionNamespace string
	// OperatorNamespace is where the operator's pods run; rendered
	// NetworkPolicies admit them to the nodes' admin ports. Default
	// render.DefaultOperatorNamespace.
	OperatorNamespace string
	// MaxConcurrentReconciles is how many Networks are worked on at once
	// (default 2).
	MaxConcurrentReconciles int
	// PopulateTimeout, WaitInterval and ResyncInterval tune the
	// reconciler (see NetworkReconciler); zero means its default.
	PopulateTimeout, WaitInterval, ResyncInterval time.Duration
}

// LeaderElectionID names the operator's lease.
const LeaderElectionID = "weft-operator.weft.dev"

// Scheme knows the built-in kinds and weft's Network.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewManager builds a controller-runtime manager running the Network
// reconciler, with health and readiness checks and metrics.
func NewManager(cfg *rest.Config, opts Options) (manager.Manager, error) {
	if cfg == nil {
		return nil, errors.New("operator: no Kubernetes client configuration")
	}
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = ":8080"
	}
	if opts.ProbeAddr == "" {
		opts.ProbeAddr = ":8081"
	}
	if opts.OperatorNamespace == "" {
		opts.OperatorNamespace = render.DefaultOperatorNamespace
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = opts.OperatorNamespace
	}
	if opts.MaxConcurrentReconciles <= 0 {
		opts.MaxConcurrentReconciles = 2
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		// A network is a hundred objects or more; client-go's default of
		// 5 requests a second would make one apply take half a minute.
		cfg.QPS, cfg.Burst = 50, 100
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	hasNetwork, err := labels.NewRequirement(render.LabelNetwork, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	workloads := cache.ByObject{Label: labels.NewSelector().Add(*hasNetwork)}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// Only weft's workloads are cached; Secrets and the rest are read
		// directly when needed.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&appsv1.StatefulSet{}: workloads,
			&appsv1.Deployment{}:  workloads,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("operator: manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	r := &NetworkReconciler{
		Client:          mgr.GetClient(),
		Reader:          mgr.GetAPIReader(),
		Recorder:        mgr.GetEventRecorderFor(FieldManager),
		Render:          render.Options{OperatorNamespace: opts.OperatorNamespace},
		PopulateTimeout: opts.PopulateTimeout,
		WaitInterval:    opts.WaitInterval,
		ResyncInterval:  opts.ResyncInterval,
	}
	if err := r.SetupWithManager(mgr, opts.MaxConcurrentReconciles); err != nil {
		return nil, err
	}
	return mgr, nil
}

// SetupWithManager registers the reconciler: Networks (spec, annotation
// and deletion changes, not their own status writes) and the StatefulSets
// and Deployments it created, mapped back by their owner annotation so a
// pod becoming ready moves population on.
func (r *NetworkReconciler) SetupWithManager(mgr manager.Manager, workers int) error {
	toOwner := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		nn, ok := parseOwner(o.GetAnnotations()[AnnotationOwner])
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: nn}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("network").
		For(&v1alpha1.Network{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&appsv1.StatefulSet{}, toOwner).
		Watches(&appsv1.Deployment{}, toOwner).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: workers,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](time.Second, 5*time.Minute),
		}).
		Complete(r)
}

func parseOwner(s string) (types.NamespacedName, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if i == 0 || i == len(s)-1 {
				return types.NamespacedName{}, false
			}
			return types.NamespacedName{Namespace: s[:i], Name: s[i+1:]}, true
		}
	}
	return types.NamespacedName{}, false
}

// Run starts the operator and blocks until ctx ends.
func Run(ctx context.Context, cfg *rest.Config, opts Options) error {
	mgr, err := NewManager(cfg, opts)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}
