package chain

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// memNet connects chains in one process: per-link queues, partitions by
// TLS certificate, direct Submit calls.
type memNet struct {
	mu       sync.Mutex
	chains   map[string]*Chain
	isolated map[string]bool
	queues   map[[2]string]chan func()
	closed   bool
	wg       sync.WaitGroup
	sent     atomic.Int64
}

func newMemNet() *memNet {
	return &memNet{chains: map[string]*Chain{}, isolated: map[string]bool{}, queues: map[[2]string]chan func(){}}
}

func (n *memNet) register(cert []byte, c *Chain) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c == nil {
		delete(n.chains, string(certDER(cert)))
	} else {
		n.chains[string(certDER(cert))] = c
	}
}

func (n *memNet) isolate(cert []byte, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[string(certDER(cert))] = on
}

func (n *memNet) close() {
	n.mu.Lock()
	n.closed = true
	for _, q := range n.queues {
		close(q)
	}
	n.queues = map[[2]string]chan func(){}
	n.mu.Unlock()
	n.wg.Wait()
}

// target resolves a destination, nil when unreachable.
func (n *memNet) target(from, to string) *Chain {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.isolated[from] || n.isolated[to] {
		return nil
	}
	return n.chains[to]
}

func (n *memNet) enqueue(from, to string, f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	k := [2]string{from, to}
	q, ok := n.queues[k]
	if !ok {
		q = make(chan func(), 4096)
		n.queues[k] = q
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for f := range q {
				f()
			}
		}()
	}
	select {
	case q <- f:
	default: // full: drop, raft retransmits
	}
}

func (n *memNet) transport(cert []byte) *memTransport {
	return &memTransport{net: n, self: string(certDER(cert)), members: map[uint64]string{}}
}

type memTransport struct {
	net     *memNet
	self    string
	mu      sync.Mutex
	selfID  uint64
	members map[uint64]string
}

func (m *memTransport) Configure(channel string, self uint64, members []Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.selfID = self
	m.members = map[uint64]string{}
	for _, mb := range members {
		m.members[mb.ID] = string(certDER(mb.ClientTLSCert))
	}
}

func (m *memTransport) Send(channel string, msgs []*raftpb.Message) {
	m.mu.Lock()
	self := m.selfID
	dests := make([]string, len(msgs))
	for i, msg := range msgs {
		dests[i] = m.members[msg.GetTo()]
	}
	m.mu.Unlock()
	for i, msg := range msgs {
		to := dests[i]
		if to == "" {
			continue
		}
		cp := proto.Clone(msg).(*raftpb.Message)
		m.net.sent.Add(1)
		m.net.enqueue(m.self, to, func() {
			if c := m.net.target(m.self, to); c != nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = c.Step(ctx, self, cp)
				cancel()
			}
		})
	}
}

func (m *memTransport) Submit(ctx context.Context, channel string, to uint64, env *common.Envelope) error {
	m.mu.Lock()
	dest, self := m.members[to], m.selfID
	m.mu.Unlock()
	c := m.net.target(m.self, dest)
	if c == nil {
		return fmt.Errorf("consenter %d unreachable", to)
	}
	return c.Submit(ctx, self, proto.Clone(env).(*common.Envelope))
}

// memPuller reads blocks from the store of another running chain.
type memPuller struct {
	net    *memNet
	self   []byte
	pulled atomic.Int64
}

func (p *memPuller) Pull(ctx context.Context, from, to uint64, fn func(*common.Block) error) error {
	self := string(certDER(p.self))
	p.net.mu.Lock()
	var src *Chain
	for k, c := range p.net.chains {
		if k == self || p.net.isolated[k] || p.net.isolated[self] {
			continue
		}
		if src == nil || c.store.Height() > src.store.Height() {
			src = c
		}
	}
	p.net.mu.Unlock()
	if src == nil {
		return fmt.Errorf("no orderer to pull from")
	}
	it := src.store.Iterator(from)
	for n := from; n <= to; n++ {
		b, err := it.Next(ctx)
		if err != nil {
			return err
		}
		p.pulled.Add(1)
		if err := fn(b); err != nil {
			return err
		}
		if n == to {
			break
		}
	}
	return nil
}
