// Command weft-cri is the small CRI client cluster.sh needs, because Debian 12
// ships no crictl: "ps" lists pod sandboxes and containers, "rmp-all" stops
// and removes every sandbox so containerd runs CNI DEL for each (which frees
// veths, IPs and portmap rules before the runtime is stopped).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	cri "k8s.io/cri-client/pkg"
)

func main() {
	if len(os.Args) != 3 || (os.Args[2] != "ps" && os.Args[2] != "rmp-all") {
		fmt.Fprintln(os.Stderr, "usage: weft-cri unix:///path/to/containerd.sock ps|rmp-all")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "weft-cri:", err)
		os.Exit(1)
	}
}

func run(endpoint, cmd string) error {
	rs, err := cri.NewRemoteRuntimeService(endpoint, 10*time.Second, nil, nil)
	if err != nil {
		return fmt.Errorf("connect %s: %w", endpoint, err)
	}
	ctx := context.Background()
	pods, err := rs.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{})
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	var failed int
	for _, p := range pods {
		name := p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
		if cmd == "ps" {
			fmt.Printf("%.13s %-18s %s\n", p.GetId(), p.GetState(), name)
			cs, err := rs.ListContainers(ctx, &runtimeapi.ContainerFilter{PodSandboxId: p.GetId()})
			if err != nil {
				return fmt.Errorf("list containers of %s: %w", name, err)
			}
			for _, c := range cs {
				fmt.Printf("  %.13s %-16s %s (%s)\n", c.GetId(), c.GetState(), c.GetMetadata().GetName(), c.GetImage().GetImage())
			}
			continue
		}
		if err := rs.StopPodSandbox(ctx, p.GetId()); err != nil {
			fmt.Fprintf(os.Stderr, "stop %s: %v\n", name, err)
			failed++
		}
		if err := rs.RemovePodSandbox(ctx, p.GetId()); err != nil {
			fmt.Fprintf(os.Stderr, "remove %s: %v\n", name, err)
			failed++
			continue
		}
		fmt.Println("removed pod sandbox", name)
	}
	if failed > 0 {
		return fmt.Errorf("%d sandbox operations failed", failed)
	}
	return nil
}
