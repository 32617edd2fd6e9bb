package raft

import (
	"context"
	"sync"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// memNet is an in-memory network for tests. Messages go through a proto
// round trip, as over a real wire, and are delivered by one goroutine per
// destination. A node can be cut off, which drops everything to and from it.
type memNet struct {
	mu     sync.Mutex
	nodes  map[uint64]*Node
	cut    map[uint64]bool
	queues map[uint64]chan *raftpb.Message
	wg     sync.WaitGroup
	closed bool
}

func newMemNet() *memNet {
	return &memNet{nodes: map[uint64]*Node{}, cut: map[uint64]bool{}, queues: map[uint64]chan *raftpb.Message{}}
}

type memTransport struct {
	nw   *memNet
	from uint64
}

func (nw *memNet) transport(from uint64) Transport { return memTransport{nw, from} }

func (t memTransport) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		t.nw.deliver(t.from, m)
	}
}

func (nw *memNet) attach(id uint64, n *Node) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.nodes[id] = n
}

func (nw *memNet) detach(id uint64) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	delete(nw.nodes, id)
}

func (nw *memNet) setCut(id uint64, cut bool) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.cut[id] = cut
}

func (nw *memNet) deliver(from uint64, m *raftpb.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // raft produced an unmarshalable message: a test bug
	}
	c := &raftpb.Message{}
	if err := proto.Unmarshal(b, c); err != nil {
		panic(err)
	}
	to := m.GetTo()
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.closed || nw.cut[from] || nw.cut[to] {
		return
	}
	q, ok := nw.queues[to]
	if !ok {
		q = make(chan *raftpb.Message, 8192)
		nw.queues[to] = q
		nw.wg.Add(1)
		go nw.pump(to, q)
	}
	select {
	case q <- c:
	default: // full queue: drop, as a congested link would
	}
}

func (nw *memNet) pump(to uint64, q chan *raftpb.Message) {
	defer nw.wg.Done()
	for m := range q {
		nw.mu.Lock()
		n, sender := nw.nodes[to], nw.nodes[m.GetFrom()]
		dropped := nw.cut[to] || nw.cut[m.GetFrom()]
		nw.mu.Unlock()
		var err error = ErrStopped
		if n != nil && !dropped {
			err = n.Step(context.Background(), m)
		}
		if m.GetType() == raftpb.MsgSnap && sender != nil {
			sender.ReportSnapshot(to, err == nil)
		}
	}
}

// close stops delivery; call after all nodes are stopped.
func (nw *memNet) close() {
	nw.mu.Lock()
	nw.closed = true
	for _, q := range nw.queues {
		close(q)
	}
	nw.mu.Unlock()
	nw.wg.Wait()
}
