package chain

import "weft/orderer/cluster"

// The chain serves the cluster's inbound traffic for its channel.
var _ cluster.Handler = (*Chain)(nil)

// CommTransport carries a chain's traffic over the orderer's cluster
// communication (gRPC over mutual TLS).
func CommTransport(c *cluster.Comm) Transport { return commTransport{c} }

type commTransport struct{ *cluster.Comm }

func (t commTransport) Configure(channel string, self uint64, members []Member) {
	ms := make([]cluster.Member, len(members))
	for i, m := range members {
		ms[i] = cluster.Member{ID: m.ID, Endpoint: m.Endpoint, ServerTLSCert: m.ServerTLSCert, ClientTLSCert: m.ClientTLSCert}
	}
	t.Comm.Configure(channel, self, ms)
}
