package network

import (
	"fmt"
	"slices"
	"testing"

	"weft/spec"
)

func TestPeerConfigMembership(t *testing.T) {
	n := spec.Default()
	n.Orgs[0].Peers = 3
	ep := DefaultEndpoints()
	addr := func(k, p int) string { return fmt.Sprintf("%s:%d", ep.Host, ep.Peer(k, p)) }
	cases := []struct {
		k, p      int
		bootstrap []string
	}{
		{0, 0, []string{addr(0, 1), addr(0, 2)}},
		{0, 2, []string{addr(0, 0), addr(0, 1)}},
		{1, 0, nil},
	}
	for _, tc := range cases {
		c, err := PeerConfig(n, Layout{Dir: t.TempDir()}, ep, tc.k, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		g := c.Peer.Gossip
		if g.ExternalEndpoint != addr(tc.k, tc.p) || g.ExternalEndpoint != c.Peer.Address {
			t.Errorf("org %d peer %d: externalEndpoint %q, address %q", tc.k, tc.p, g.ExternalEndpoint, c.Peer.Address)
		}
		if !slices.Equal(g.Bootstrap, tc.bootstrap) {
			t.Errorf("org %d peer %d: bootstrap %v, want %v", tc.k, tc.p, g.Bootstrap, tc.bootstrap)
		}
	}
	if _, err := PeerConfig(n, Layout{}, ep, 0, 3); err == nil {
		t.Error("peer index out of range accepted")
	}
}
