package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

func threeNodes(t *testing.T) (*node, *node, *node, map[uint64]*handler) {
	ca := newCA(t)
	n1, n2, n3 := newNode(t, ca, 1, Config{}), newNode(t, ca, 2, Config{}), newNode(t, ca, 3, Config{})
	hs := map[uint64]*handler{}
	for _, n := range []*node{n1, n2, n3} {
		n.comm.Configure("ch1", n.id, members(n1, n2, n3))
		hs[n.id] = newHandler()
		n.comm.Register("ch1", hs[n.id])
	}
	return n1, n2, n3, hs
}

func TestSendDelivers(t *testing.T) {
	n1, _, n3, hs := threeNodes(t)

	// Messages for self and for unknown IDs are dropped, not misrouted.
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 5), msg(1, 3, 6), msg(1, 1, 7), msg(1, 9, 8), nil})
	n3.comm.Send("ch1", []*raftpb.Message{msg(3, 2, 9)})

	got2 := map[uint64]uint64{} // from -> term
	for i := 0; i < 2; i++ {
		s := hs[2].expectStep(t)
		if s.msg.GetTo() != 2 || s.msg.GetFrom() != s.from {
			t.Fatalf("node 2 got %v with from=%d", s.msg, s.from)
		}
		got2[s.from] = s.msg.GetTerm()
	}
	if got2[1] != 5 || got2[3] != 9 {
		t.Fatalf("node 2 got terms by sender %v, want map[1:5 3:9]", got2)
	}
	if s := hs[3].expectStep(t); s.from != 1 || s.msg.GetTerm() != 6 || s.msg.GetType() != raftpb.MessageType_MsgHeartbeat {
		t.Fatalf("node 3 got %v from %d", s.msg, s.from)
	}
	hs[1].expectNone(t, 100*time.Millisecond)
	hs[2].expectNone(t, 0)
}

func TestSendIsolatesChannels(t *testing.T) {
	n1, n2, _, hs := threeNodes(t)
	other := newHandler()
	n1.comm.Configure("ch2", 1, members(n1, n2))
	n2.comm.Configure("ch2", 2, members(n1, n2))
	n2.comm.Register("ch2", other)

	n1.comm.Send("ch2", []*raftpb.Message{msg(1, 2, 42)})
	if s := other.expectStep(t); s.from != 1 || s.msg.GetTerm() != 42 {
		t.Fatalf("ch2 handler got %v from %d", s.msg, s.from)
	}
	hs[2].expectNone(t, 100*time.Millisecond)
}

func TestSpoofedSenderRejected(t *testing.T) {
	n1, _, _, hs := threeNodes(t)
	// Node 1 claims to be node 3; then it sends a message meant for node 3
	// to node 2. Both are refused and nothing reaches the handler.
	n1.comm.Send("ch1", []*raftpb.Message{msg(3, 2, 1)})
	hs[2].expectNone(t, 200*time.Millisecond)

	r, err := n1.comm.lookup("ch1", 2)
	if err != nil {
		t.Fatal(err)
	}
	r.enqueue(msg(1, 3, 1))
	hs[2].expectNone(t, 200*time.Millisecond)

	// The link recovers for honest traffic.
	n1.comm.Send("ch1", []*raftpb.Message{msg(1, 2, 2)})
	if s := hs[2].expectStep(t); s.msg.GetTerm() != 2 {
		t.Fatalf("got %v", s.msg)
	}
}

func TestSubmitRoundTrip(t *testing.T) {
	env := &common.Envelope{Payload: []byte("tx"), Signature: []byte("sig")}
	tests := []struct {
		name       string
		handlerErr error
		wantStatus common.Status // SUCCESS = no error
		wantInfo   string
	}{
		{"committed", nil, common.Status_SUCCESS, ""},
		{"plain error", errors.New("no raft leader"), common.Status_SERVICE_UNAVAILABLE, "no raft leader"},
		{"chosen status", &SubmitError{Status: common.Status_BAD_REQUEST, Info: "bad tx"}, common.Status_BAD_REQUEST, "bad tx"},
	}
	n1, _, _, hs := threeNodes(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs[2].submitErr = tt.handlerErr
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := n1.comm.Submit(ctx, "ch1", 2, env)
			got := <-hs[2].submits
			if got.from != 1 || !proto.Equal(got.env, env) {
				t.Fatalf("handler got %v from %d", got.env, got.from)
			}
			if tt.wantStatus == common.Status_SUCCESS {
				if err != nil {
					t.Fatalf("Submit = %v", err)
				}
				return
			}
			var se *SubmitError
			if !errors.As(err, &se) || se.Status != tt.wantStatus || !strings.Contains(se.Info, tt.wantInfo) {
				t.Fatalf("Submit = %v, want SubmitError %s %q", err, tt.wantStatus, tt.wantInfo)
			}
		})
	}
}

func TestSubmitLocalErrors(t *testing.T) {
	n1, _, _, _ := threeNodes(t)
	ctx := context.Background()
	env := &common.Envelope{Payload: []byte("tx")}
	tests := []struct {
		name    string
		channel string
		to      uint64
		env     *common.Envelope
		want    error
	}{
		{"unknown channel", "nope", 2, env, ErrUnknownChannel},
		{"unknown member", "ch1", 7, env, ErrNotMember},
		{"self", "ch1", 1, env, ErrNotMember},
		{"nil envelope", "ch1", 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n1.comm.Submit(ctx, tt.channel, tt.to, tt.env)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Submit = %v, want %v", err, tt.want)
			}
		})
	}
}
