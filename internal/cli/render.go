package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/spec"
)

func newRenderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the manifests a network becomes on another platform",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRenderK8sCmd())
	return cmd
}

func newRenderK8sCmd() *cobra.Command {
	var file, crypto, output string
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Print the Kubernetes objects the weft operator would create for a network",
		Long: `k8s prints every object a network needs on Kubernetes — namespaces, Secrets
with the crypto material, node ConfigMaps, StatefulSets, Services,
NetworkPolicies, chaincode Deployments and connection profiles — for GitOps
users who apply manifests instead of running the operator.

-f takes a weft network spec or a Network resource (weft.dev/v1alpha1);
without it the built-in test network is rendered. The crypto material is
generated in --crypto, or kept there if it exists, so rendering again gives
the same keys. Without --crypto fresh keys are made on every run.`,
		Example: `  weft render k8s -f network.yaml --crypto ./k8s-crypto > manifests.yaml
  weft render k8s -f network-cr.yaml --crypto ./k8s-crypto -o json | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("--output: %q is not one of yaml, json", output)
			}
			res, err := loadNetworkResource(file)
			if err != nil {
				return err
			}
			if err := res.Validate(); err != nil {
				return err
			}
			dir := crypto
			if dir == "" {
				tmp, err := os.MkdirTemp("", "weft-render-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
				fmt.Fprintln(cmd.ErrOrStderr(), "note: no --crypto directory: generating fresh keys that are not kept")
			}
			if err := render.GenerateMaterial(res, dir, nil); err != nil {
				return err
			}
			m, err := render.LoadMaterial(res, dir)
			if err != nil {
				return err
			}
			objs, err := render.Objects(res, m)
			if err != nil {
				return err
			}
			var out []byte
			if output == "json" {
				out, err = render.JSON(objs)
			} else {
				out, err = render.YAML(objs)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "network spec or Network resource (YAML); default: the built-in test network")
	cmd.Flags().StringVar(&crypto, "crypto", "", "directory for the crypto material and genesis blocks (created or reused)")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

// loadNetworkResource reads a Network resource, or a plain spec wrapped in
// one named after the spec's network.
func loadNetworkResource(path string) (*v1alpha1.Network, error) {
	if path == "" {
		return wrapSpec(spec.Default()), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-f: %w", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil || head.APIVersion == "" {
		n, err := spec.Load(path)
		if err != nil {
			return nil, err
		}
		return wrapSpec(n), nil
	}
	if head.APIVersion != v1alpha1.GroupVersion.String() || head.Kind != "Network" {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q: want %s Network or a weft network spec", path, head.APIVersion, head.Kind, v1alpha1.GroupVersion)
	}
	if bytes.Contains(data, []byte("\n---")) {
		return nil, fmt.Errorf("%s: holds several documents; give one Network", path)
	}
	var res v1alpha1.Network
	if err := yaml.UnmarshalStrict(data, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &res, nil
}

func wrapSpec(n *spec.Network) *v1alpha1.Network {
	out := &v1alpha1.Network{Spec: v1alpha1.NetworkSpec{FabricNetwork: v1alpha1.FromSpec(n)}}
	out.Name = n.Name
	return out
}
