package chain

import (
	"context"

	"go.etcd.io/raft/v3/raftpb"

	"weft/wire/common"
)

// Member is one consenter as the transport needs it; it mirrors
// cluster.Member so that the chain depends on the cluster package only
// through the adapter in comm.go.
type Member struct {
	ID                           uint64
	Endpoint                     string
	ServerTLSCert, ClientTLSCert []byte // PEM
}

// Transport carries the chain's traffic to the other consenters of its
// channel. *cluster.Comm provides it through CommTransport; tests use an
// in-memory implementation.
type Transport interface {
	// Configure replaces the channel's membership; self is this node's id.
	Configure(channel string, self uint64, members []Member)
	// Send queues raft messages without blocking; drops are fine.
	Send(channel string, msgs []*raftpb.Message)
	// Submit hands env to consenter `to` (the leader) and waits for its
	// verdict: nil once env is in a committed block.
	Submit(ctx context.Context, channel string, to uint64, env *common.Envelope) error
}

// raftTransport adapts Transport to raft.Transport for one channel.
type raftTransport struct{ c *Chain }

func (t raftTransport) Send(msgs []*raftpb.Message) {
	t.c.transport.Send(t.c.cfg.Channel, msgs)
	for _, m := range msgs {
		if m.GetType() == raftpb.MsgSnap {
			// The transport gives no delivery receipt. Reporting success
			// lets raft probe the follower at once; if the snapshot was
			// lost, the probe is rejected and raft sends it again.
			// Send runs on raft's own goroutine, which ReportSnapshot
			// waits for, hence the goroutine.
			to := m.GetTo()
			go func() {
				if n := t.c.raftNode(); n != nil {
					n.ReportSnapshot(to, true)
				}
			}()
		}
	}
}
