package cli

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"weft/k8s/operator"
	"weft/k8s/render"
)

func newOperatorCmd() *cobra.Command {
	var (
		opts       operator.Options
		kubeconfig string
		logJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the Kubernetes operator that runs weft.dev/v1alpha1 Networks",
		Long: `operator runs weft's Kubernetes operator until it is stopped. For every
Network resource it keeps the crypto material in Secrets, applies the
namespaces, Secrets, ConfigMaps, StatefulSets, Services, NetworkPolicies and
chaincode Deployments the spec implies, prunes what the spec no longer
implies (never volume claims), and once the pods are ready joins the
channels and installs, approves and commits the chaincodes. Progress is in
the Network's status (kubectl get wnet; kubectl describe wnet NAME).

Deleting a Network removes everything but its PersistentVolumeClaims, their
namespaces and its crypto material, unless it is annotated
weft.dev/delete-volumes: "true".

The operator is normally installed with the Helm chart in
deploy/helm/weft-operator; run it by hand against a cluster with
--kubeconfig. --namespace must be the namespace its pods run in (default:
$POD_NAMESPACE, else weft-system): the networks' NetworkPolicies admit the
operator from there.`,
		Example: `  weft operator --kubeconfig ~/.kube/config --metrics-bind-address 0
  weft operator --leader-elect --namespace weft-system`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h slog.Handler = slog.NewTextHandler(cmd.ErrOrStderr(), nil)
			if logJSON {
				h = slog.NewJSONHandler(cmd.ErrOrStderr(), nil)
			}
			ctrl.SetLogger(logr.FromSlogHandler(h))
			if opts.OperatorNamespace == "" {
				opts.OperatorNamespace = os.Getenv("POD_NAMESPACE")
			}
			cfg, err := kubeConfig(kubeconfig)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return operator.Run(ctx, cfg, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", `Prometheus metrics address ("0" disables)`)
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", `/healthz and /readyz address ("0" disables)`)
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect one active replica (needed when running more than one)")
	f.StringVar(&opts.OperatorNamespace, "namespace", "", "namespace the operator runs in (default $POD_NAMESPACE, else "+render.DefaultOperatorNamespace+")")
	f.IntVar(&opts.MaxConcurrentReconciles, "workers", 2, "Networks reconciled at once")
	f.BoolVar(&logJSON, "log-json", false, "log JSON lines instead of text")
	return cmd
}
