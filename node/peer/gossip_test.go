package peer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGossipSettings(t *testing.T) {
	withAddr := strings.Replace(minimalCore, "  tls:", "  address: peer0.org1:7051\n  tls:", 1)
	cases := []struct {
		name      string
		text      string
		env       []string
		endpoint  string
		bootstrap []string
		interval  time.Duration
		expiry    time.Duration
		err       string
	}{
		{name: "defaults", text: withAddr, endpoint: "peer0.org1:7051", interval: 5 * time.Second, expiry: 15 * time.Second},
		{name: "Fabric's space-separated bootstrap", text: withAddr + "  gossip:\n    bootstrap: a:1 b:2\n    aliveTimeInterval: 2s\n",
			endpoint: "peer0.org1:7051", bootstrap: []string{"a:1", "b:2"}, interval: 2 * time.Second, expiry: 6 * time.Second},
		{name: "bootstrap list and endpoint", text: withAddr + "  gossip:\n    externalEndpoint: ext:9\n    bootstrap: [a:1]\n    aliveExpirationTimeout: 1m\n",
			endpoint: "ext:9", bootstrap: []string{"a:1"}, interval: 5 * time.Second, expiry: time.Minute},
		{name: "environment", text: withAddr, env: []string{"CORE_PEER_GOSSIP_EXTERNALENDPOINT=env:1", "CORE_PEER_GOSSIP_BOOTSTRAP=x:1,y:2"},
			endpoint: "env:1", bootstrap: []string{"x:1", "y:2"}, interval: 5 * time.Second, expiry: 15 * time.Second},
		{name: "bad endpoint", text: withAddr + "  gossip:\n    externalEndpoint: nohost\n", err: "peer.gossip.externalEndpoint"},
		{name: "bad bootstrap", text: withAddr + "  gossip:\n    bootstrap: [a:1, b]\n", err: "peer.gossip.bootstrap[1]"},
		{name: "bootstrap map", text: withAddr + "  gossip:\n    bootstrap: {a: 1}\n", err: "list of addresses"},
		{name: "expiry below interval", text: withAddr + "  gossip:\n    aliveTimeInterval: 10s\n    aliveExpirationTimeout: 5s\n", err: "peer.gossip.aliveExpirationTimeout"},
		{name: "negative dial timeout", text: withAddr + "  gateway:\n    dialTimeout: -1s\n", err: "peer.gateway.dialTimeout"},
		{name: "unknown gossip key", text: withAddr + "  gossip:\n    orgLeader: true\n", err: "orgLeader"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(writeCore(t, tc.text), tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to name %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := c.Peer.Gossip
			if g.ExternalEndpoint != tc.endpoint || !slices.Equal(g.Bootstrap, tc.bootstrap) ||
				g.AliveTimeInterval != tc.interval || g.AliveExpirationTimeout != tc.expiry {
				t.Fatalf("gossip %+v", g)
			}
		})
	}
}
