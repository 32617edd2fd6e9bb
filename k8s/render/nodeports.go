package render

import (
	"fmt"
	"strconv"
	"strings"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// portAllocator hands out node ports. A node keeps the port the Network's
// status says it was published at, so adding a peer to one org does not
// move every later node to another port (which clients' connection
// profiles hold, and which the API server refuses to hand to a new
// Service while the old one still has it). Nodes without a published port
// take the lowest free one from the base; with an empty status that is the
// plain "orderers, then each org's peers" sequence.
type portAllocator struct {
	pinned map[string]int // node host -> published port
	used   map[int]bool   // every published port, kept or not
	next   int
}

func newPortAllocator(res *v1alpha1.Network, exp v1alpha1.Exposure) *portAllocator {
	a := &portAllocator{pinned: map[string]int{}, used: map[int]bool{}, next: int(exp.NodePortBase)}
	if exp.Type != v1alpha1.ExposeNodePort {
		return a
	}
	for _, e := range res.Status.Endpoints {
		if e.Kind != v1alpha1.KindOrderer && e.Kind != v1alpha1.KindPeer {
			continue
		}
		port, ok := publishedPort(e.External, exp)
		// The status is only a hint: a port seen twice or out of range is
		// laid out afresh.
		if !ok || a.used[port] {
			continue
		}
		a.used[port] = true
		if _, dup := a.pinned[e.Node]; !dup {
			a.pinned[e.Node] = port
		}
	}
	return a
}

// publishedPort is the port of an external address made for exp: on its
// external address, at or above its base.
func publishedPort(external string, exp v1alpha1.Exposure) (int, bool) {
	i := strings.LastIndexByte(external, ':')
	if i < 0 || external[:i] != exp.ExternalAddress {
		return 0, false
	}
	port, err := strconv.Atoi(external[i+1:])
	if err != nil || port < int(exp.NodePortBase) || port > v1alpha1.MaxNodePort {
		return 0, false
	}
	return port, true
}

// take returns host's port: its published one, else the next free one.
// Ports published for nodes that are gone stay unused in this render,
// because their Services may not be deleted yet.
func (a *portAllocator) take(host string) (int, error) {
	if p, ok := a.pinned[host]; ok {
		return p, nil
	}
	for a.used[a.next] {
		a.next++
	}
	if a.next > v1alpha1.MaxNodePort {
		return 0, fmt.Errorf("spec.exposure.nodePortBase: no node port left for %s (the range ends at %d)", host, v1alpha1.MaxNodePort)
	}
	p := a.next
	a.used[p] = true
	a.next++
	return p, nil
}
