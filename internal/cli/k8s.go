package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weft/k8s/render"
)

// kubeConfig loads a client configuration: --kubeconfig when given, else
// $KUBECONFIG or ~/.kube/config, else the in-cluster service account.
func kubeConfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
		}
		return nil, fmt.Errorf("kubeconfig: %w (pass --kubeconfig, set KUBECONFIG, or run in a pod)", err)
	}
	return cfg, nil
}

func newK8sCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Work with weft networks the operator runs on Kubernetes",
	}
	cmd.AddCommand(newK8sProfileCmd())
	return cmd
}

func newK8sProfileCmd() *cobra.Command {
	var network, org, kubeconfig string
	cmd := &cobra.Command{
		Use:   "connection-profile",
		Short: "Print the connection profile the operator published for an org",
		Long: `connection-profile prints an organization's Fabric common connection
profile (JSON) from the Secret the operator keeps in the org's namespace.
Its peer addresses are the external ones when the Network is exposed
(NodePort, LoadBalancer or Ingress), so applications outside the cluster
can use it as is with @hyperledger/fabric-gateway or fabric-network.`,
		Example: `  weft k8s connection-profile --network test-network --org Org1 > connection-org1.json
  weft k8s connection-profile --network test-network --org Org2 --kubeconfig ./admin.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if network == "" {
				return errors.New("--network: is required (the network name: spec.name, or the Network's metadata.name)")
			}
			if org == "" {
				return errors.New("--org: is required (a peer organization name from spec.orgs, e.g. Org1)")
			}
			cfg, err := kubeConfig(kubeconfig)
			if err != nil {
				return err
			}
			c, err := client.New(cfg, client.Options{})
			if err != nil {
				return fmt.Errorf("kubernetes client: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			data, err := fetchProfile(ctx, c, network, org)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&network, "network", "", "network name")
	cmd.Flags().StringVar(&org, "org", "", "peer organization name")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	return cmd
}

// fetchProfile reads an org's connection profile from its Secret.
func fetchProfile(ctx context.Context, c client.Reader, network, org string) ([]byte, error) {
	ns := render.OrgNamespace(network, org)
	var s corev1.Secret
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.ProfileSecretName}, &s)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("org %q of network %q: no Secret %s/%s (is the org in the network, and has the operator reconciled it?)",
			org, network, ns, render.ProfileSecretName)
	}
	if err != nil {
		return nil, fmt.Errorf("org %q of network %q: Secret %s/%s: %w", org, network, ns, render.ProfileSecretName, err)
	}
	data := s.Data[render.ProfileKey(org)]
	if len(data) == 0 {
		return nil, fmt.Errorf("org %q of network %q: Secret %s/%s has no key %s", org, network, ns, render.ProfileSecretName, render.ProfileKey(org))
	}
	if data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	return data, nil
}
