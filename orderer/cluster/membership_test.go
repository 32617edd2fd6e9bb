package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/wire/common"
)

func TestStrangerRejected(t *testing.T) {
	ca := newCA(t)
	n1, n2 := newNode(t, ca, 1, Config{}), newNode(t, ca, 2, Config{})
	stranger := newNode(t, ca, 4, Config{}) // valid cert from the same CA
	h1 := newHandler()
	n1.comm.Configure("ch1", 1, members(n1, n2))
	n1.comm.Register("ch1", h1)
	// The stranger believes it belongs; node 1 does not list it.
	stranger.comm.Configure("ch1", 4, members(n1, stranger))

	stranger.comm.Send("ch1", []*raftpb.Message{msg(4, 1, 1)})
	err := stranger.comm.Submit(context.Background(), "ch1", 1, &common.Envelope{Payload: []byte("x")})
	if !errors.Is(err, ErrNotMember) {
		t.Fatalf("Submit by non-member = %v, want ErrNotMember", err)
	}
	h1.expectNone(t, 200*time.Millisecond)
	select {
	case s := <-h1.submits:
		t.Fatalf("handler saw submission from %d", s.from)
	default:
	}
}

func TestUnknownChannelRejected(t *testing.T) {
	ca := newCA(t)
	n1, n2 := newNode(t, ca, 1, Config{}), newNode(t, ca, 2, Config{})
	h1 := newHandler()
	n1.comm.Configure("ch1", 1, members(n1, n2))
	n1.comm.Register("ch1", h1)
	// "ghost" is unknown to node 1; "pending" is configured but has no
	// handler yet. Both are unknown channels to the receiver.
	n1.comm.Configure("pending", 1, members(n1, n2))
	for _, ch := range []string{"ghost", "pending"} {
		n2.comm.Configure(ch, 2, members(n1, n2))
		n2.comm.Send(ch, []*raftpb.Message{msg(2, 1, 1)})
		err := n2.comm.Submit(context.Background(), ch, 1, &common.Envelope{Payload: []byte("x")})
		if !errors.Is(err, ErrUnknownChannel) {
			t.Fatalf("channel %q: Submit = %v, want ErrUnknownChannel", ch, err)
		}
	}
	h1.expectNone(t, 200*time.Millisecond)
}

func TestQueueOverflowDoesNotBlock(t *testing.T) {
	ca := newCA(t)
	n1 := newNode(t, ca, 1, Config{QueueSize: 4})
	n2 := newNode(t, ca, 2, Config{})
	h2 := newHandler()
	h2.block = make(chan struct{})
	n1.comm.Configure("ch1", 1, members(n1, n2))
	n2.comm.Configure("ch1", 2, members(n1, n2))
	n2.comm.Register("ch1", h2)

	// Large messages so that gRPC's flow-control windows fill too.
	data := make([]byte, 256<<10)
	mt, et := raftpb.MessageType_MsgApp, raftpb.EntryType_EntryNormal
	big := func(term uint64) *raftpb.Message {
		m := msg(1, 2, term)
		m.Type = &mt
		m.Entries = []*raftpb.Entry{{Type: &et, Data: data}}
		return m
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := uint64(1); i <= 2000; i++ {
			n1.comm.Send("ch1", []*raftpb.Message{big(i)})
		}
	}()
	select {
	case <-sent:
	case <-time.After(2 * time.Second):
		close(h2.block) // let the test end
		t.Fatal("Send blocked with a stalled receiver")
	}
	r, err := n1.comm.lookup("ch1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.dropped.Load() == 0 {
		t.Fatal("no message dropped although the receiver is stalled")
	}
	close(h2.block)
	// Once the receiver drains, new messages flow again.
	deadline := time.After(5 * time.Second)
	for {
		n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 99999)})
		select {
		case s := <-h2.steps:
			if s.msg.GetTerm() == 99999 {
				return
			}
		case <-deadline:
			t.Fatal("delivery did not resume")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestMemberRemovalStopsDelivery(t *testing.T) {
	n1, n2, n3, hs := threeNodes(t)
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 1)})
	hs[2].expectStep(t)
	r2, err := n1.comm.lookup("ch1", 2)
	if err != nil {
		t.Fatal(err)
	}

	// Sender side: node 1 drops node 2, its link ends and nothing more goes.
	n1.comm.Configure("ch1", 1, members(n1, n3))
	select {
	case <-r2.done:
	case <-time.After(2 * time.Second):
		t.Fatal("link to the removed member still running")
	}
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 2)})
	hs[2].expectNone(t, 200*time.Millisecond)
	if err := n1.comm.Submit(context.Background(), "ch1", 2, &common.Envelope{}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("Submit to removed member = %v", err)
	}

	// Receiver side: node 2 drops node 3 while node 3 still sends.
	n3.comm.Send("ch1", []*raftpb.Message{msg(3, 2, 3)})
	if s := hs[2].expectStep(t); s.from != 3 {
		t.Fatalf("got message from %d", s.from)
	}
	n2.comm.Configure("ch1", 2, members(n1, n2))
	n3.comm.Send("ch1", []*raftpb.Message{msg(3, 2, 4)})
	hs[2].expectNone(t, 200*time.Millisecond)

	// Unregister tears the channel down on both paths.
	n3.comm.Unregister("ch1")
	if _, err := n3.comm.lookup("ch1", 1); !errors.Is(err, ErrUnknownChannel) {
		t.Fatalf("lookup after Unregister = %v", err)
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	ca := newCA(t)
	n1, n2 := newNode(t, ca, 1, Config{}), newNode(t, ca, 2, Config{})
	h2 := newHandler()
	n1.comm.Configure("ch1", 1, members(n1, n2))
	n2.comm.Configure("ch1", 2, members(n1, n2))
	n2.comm.Register("ch1", h2)

	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 1)})
	h2.expectStep(t)

	addr := n2.member().Endpoint
	n2.stop()
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 2)}) // lost or late
	time.Sleep(100 * time.Millisecond)
	n2.start(t, addr)

	if !sendUntil(n1, h2, 1, 2, 3) {
		t.Fatal("no delivery after the remote server restarted")
	}
}

func TestEndpointChange(t *testing.T) {
	ca := newCA(t)
	n1, n2 := newNode(t, ca, 1, Config{}), newNode(t, ca, 2, Config{})
	h2 := newHandler()
	n1.comm.Configure("ch1", 1, members(n1, n2))
	n2.comm.Configure("ch1", 2, members(n1, n2))
	n2.comm.Register("ch1", h2)
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 1)})
	h2.expectStep(t)

	// Node 2 moves to a new port; node 1 learns it from a config update.
	n2.stop()
	n2.start(t, "127.0.0.1:0")
	n1.comm.Configure("ch1", 1, members(n1, n2))
	if !sendUntil(n1, h2, 1, 2, 7) {
		t.Fatal("no delivery to the new endpoint")
	}
}

// sendUntil sends a message with term from -> to until h sees that term.
func sendUntil(from *node, h *handler, fromID, to, term uint64) bool {
	deadline := time.After(5 * time.Second)
	for {
		from.comm.Send("ch1", []*raftpb.Message{msg(fromID, to, term)})
		select {
		case s := <-h.steps:
			if s.msg.GetTerm() == term {
				return true
			}
		case <-deadline:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}
