package peer

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"gopkg.in/yaml.v3"

	"weft/channelconfig"
	"weft/comm"
	"weft/peer/gateway"
	"weft/peer/membership"
)

// Gossip holds the peer.gossip keys weft uses for its membership exchange
// (weft does not speak Fabric's gossip protocol; see peer/membership).
type Gossip struct {
	// ExternalEndpoint is the address other orgs' peers and gateways use
	// for this peer; empty means peer.address.
	ExternalEndpoint string `yaml:"externalEndpoint"`
	// Bootstrap peers of this peer's org, contacted at every interval.
	Bootstrap AddressList `yaml:"bootstrap"`
	// AliveTimeInterval is how often the peer publishes its membership and
	// refreshes its view (default 5s).
	AliveTimeInterval time.Duration `yaml:"aliveTimeInterval"`
	// AliveExpirationTimeout is how long a peer stays listed without a
	// newer statement (default three intervals; Fabric's default is five).
	AliveExpirationTimeout time.Duration `yaml:"aliveExpirationTimeout"`
}

// AddressList accepts Fabric's form, one string of space-separated
// addresses, as well as a YAML list.
type AddressList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *AddressList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*a = strings.Fields(strings.ReplaceAll(n.Value, ",", " "))
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*a = s
		return nil
	}
	return fmt.Errorf("line %d: want an address or a list of addresses", n.Line)
}

func (g *Gossip) setDefaults(address string) {
	if g.ExternalEndpoint == "" {
		g.ExternalEndpoint = address
	}
	if g.AliveTimeInterval == 0 {
		g.AliveTimeInterval = membership.DefaultInterval
	}
	if g.AliveExpirationTimeout == 0 {
		g.AliveExpirationTimeout = 3 * g.AliveTimeInterval
	}
}

func (g *Gossip) validate(bad func(key, format string, args ...any)) {
	if _, _, err := net.SplitHostPort(g.ExternalEndpoint); g.ExternalEndpoint != "" && err != nil {
		bad("peer.gossip.externalEndpoint", "%q is not host:port", g.ExternalEndpoint)
	}
	for i, b := range g.Bootstrap {
		if _, _, err := net.SplitHostPort(b); err != nil {
			bad(fmt.Sprintf("peer.gossip.bootstrap[%d]", i), "%q is not host:port", b)
		}
	}
	if g.AliveTimeInterval < 0 {
		bad("peer.gossip.aliveTimeInterval", "must not be negative")
	}
	if g.AliveExpirationTimeout < g.AliveTimeInterval {
		bad("peer.gossip.aliveExpirationTimeout", "must be at least peer.gossip.aliveTimeInterval (%s)", g.AliveTimeInterval)
	}
}

// membershipChannels adapts the channel set to membership.Channels.
type membershipChannels struct{ c *channels }

func (m membershipChannels) Joined() []string { return m.c.List() }

func (m membershipChannels) Bundle(id string) (*channelconfig.Bundle, bool) {
	ch, ok := m.c.get(id)
	if !ok || ch.Bundle() == nil {
		return nil, false
	}
	return ch.Bundle(), true
}

func (m membershipChannels) Height(id string) uint64 {
	if ch, ok := m.c.get(id); ok {
		return ch.Height()
	}
	return 0
}

// gatewayMembership adapts the membership service to the gateway.
type gatewayMembership struct{ s *membership.Service }

func (g gatewayMembership) Members(channel string) []gateway.Member {
	ms := g.s.Members(channel)
	out := make([]gateway.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, gateway.Member{MSPID: m.MSPID, Address: m.Endpoint, Height: m.Height})
	}
	return out
}

// tlsDialer dials other peers with mutual TLS, presenting this peer's TLS
// certificate.
func tlsDialer(certPEM, keyPEM []byte) membership.DialFunc {
	return func(ctx context.Context, address string, roots [][]byte) (grpc.ClientConnInterface, error) {
		conf, err := comm.ClientTLSConfig(certPEM, keyPEM, roots, "")
		if err != nil {
			return nil, fmt.Errorf("tls config for %s: %w", address, err)
		}
		return comm.Dial(ctx, address, conf)
	}
}
