package raft

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

type nopTransport struct{}

func (nopTransport) Send([]*raftpb.Message) {}

func validConfig(t *testing.T) Config {
	app := &testApp{}
	return Config{ID: 1, Peers: []uint64{1}, Dir: t.TempDir(), TickInterval: 10 * time.Millisecond,
		Transport: nopTransport{}, Apply: app.apply, Restore: app.restore, Snapshot: app.snapshot}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // error substring; "" means Start succeeds
	}{
		{"valid", func(*Config) {}, ""},
		{"zero id", func(c *Config) { c.ID = 0 }, "ID"},
		{"no dir", func(c *Config) { c.Dir = "" }, "Dir"},
		{"no transport", func(c *Config) { c.Transport = nil }, "Transport"},
		{"no apply", func(c *Config) { c.Apply = nil }, "Apply"},
		{"no restore", func(c *Config) { c.Restore = nil }, "Restore"},
		{"snapshots without Snapshot", func(c *Config) { c.SnapshotEvery = 5; c.Snapshot = nil }, "Snapshot"},
		{"peers without self", func(c *Config) { c.Peers = []uint64{2, 3} }, "do not include ID"},
		{"repeated peer", func(c *Config) { c.Peers = []uint64{1, 1} }, "repeated"},
		{"zero peer", func(c *Config) { c.Peers = []uint64{1, 0} }, "zero"},
		{"election not above heartbeat", func(c *Config) { c.ElectionTick, c.HeartbeatTick = 3, 3 }, "ElectionTick"},
		{"negative tick", func(c *Config) { c.TickInterval = -1 }, "negative"},
		{"applied beyond wal", func(c *Config) { c.AppliedIndex = 7 }, "beyond the last log index"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(t)
			tc.mod(&cfg)
			n, err := Start(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				n.Stop()
				return
			}
			if err == nil {
				n.Stop()
				t.Fatalf("Start succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestSingleNodeProposeStepAndStop(t *testing.T) {
	cfg := validConfig(t)
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "self-election", func() bool { return n.Status().IsLeader })
	ctx := context.Background()
	if err := n.Propose(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if s := n.Status(); s.Leader != 1 || s.Term == 0 || s.Applied == 0 || s.Commit < s.Applied {
		t.Fatalf("status %+v", s)
	}
	bad := []struct {
		name string
		m    *raftpb.Message
	}{
		{"nil", nil},
		{"wrong recipient", &raftpb.Message{To: new(uint64(9)), From: new(uint64(2)), Type: raftpb.MsgApp.Enum()}},
		{"local type", &raftpb.Message{To: new(uint64(1)), Type: raftpb.MsgHup.Enum()}},
	}
	for _, b := range bad {
		if err := n.Step(ctx, b.m); err == nil {
			t.Errorf("Step(%s) accepted", b.name)
		}
	}
	n.Stop()
	if err := n.Propose(ctx, []byte("b")); !errors.Is(err, ErrStopped) {
		t.Fatalf("Propose after Stop: %v", err)
	}
	if err := n.Err(); err != nil {
		t.Fatalf("Err after clean stop: %v", err)
	}
}

func TestApplyErrorStopsNode(t *testing.T) {
	cfg := validConfig(t)
	boom := errors.New("disk full")
	cfg.Apply = func(Committed) error { return boom }
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	eventually(t, "self-election", func() bool { return n.Status().IsLeader })
	err = n.Propose(context.Background(), []byte("a"))
	if !errors.Is(err, ErrStopped) || !errors.Is(err, boom) {
		t.Fatalf("Propose: %v", err)
	}
	<-n.Done()
	if !errors.Is(n.Err(), boom) {
		t.Fatalf("Err: %v", n.Err())
	}
}

func TestProposeWithoutLeaderIsDropped(t *testing.T) {
	cfg := validConfig(t)
	cfg.Peers = []uint64{1, 2, 3} // the others never answer
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if err := n.Propose(context.Background(), []byte("a")); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("Propose: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cc := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(4))}
	if err := n.ProposeConfChange(ctx, cc); err == nil {
		t.Fatal("conf change without leader succeeded")
	}
	if err := n.ProposeConfChange(ctx, &raftpb.ConfChange{}); err == nil {
		t.Fatal("conf change without node id accepted")
	}
}

func TestEnvelope(t *testing.T) {
	k := proposalKey{proposer: 3, nonce: 0xdeadbeef, seq: 42}
	b := wrapProposal(k, []byte("payload"))
	gk, p, err := unwrapProposal(b)
	if err != nil || gk != k || !bytes.Equal(p, []byte("payload")) {
		t.Fatalf("round trip: %v %v %q", err, gk, p)
	}
	bad := map[string][]byte{
		"short":       b[:envHeaderLen-1],
		"empty":       nil,
		"bad version": append([]byte{9}, b[1:]...),
	}
	for name, in := range bad {
		if _, _, err := unwrapProposal(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEntryBatchDecodeRejects(t *testing.T) {
	good, err := encodeEntryBatches(mkEnts(1, 3, 1))
	if err != nil || len(good) != 1 {
		t.Fatalf("encode: %v", err)
	}
	gap, _ := encodeEntryBatches(append(mkEnts(1, 1, 1), mkEnts(3, 3, 1)...))
	zero, _ := encodeEntryBatches([]*raftpb.Entry{{Index: new(uint64(0))}})
	cases := map[string][]byte{
		"empty":          nil,
		"length too big": binary.AppendUvarint(nil, 1000),
		"bad varint":     {0xff},
		"truncated":      good[0][:len(good[0])-2],
		"gap":            gap[0],
		"index zero":     zero[0],
	}
	for name, in := range cases {
		if _, err := decodeEntryBatch(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ents, err := decodeEntryBatch(good[0]); err != nil || len(ents) != 3 {
		t.Fatalf("good batch: %v", err)
	}
}

func TestRecordParseRejects(t *testing.T) {
	rec, err := appendRecord(nil, recHardState, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	badType, _ := appendRecord(nil, recType(9), []byte("x"))
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"short header": {rec[:5], errTruncated},
		"short data":   {rec[:len(rec)-1], errTruncated},
		"crc":          {append(append([]byte(nil), rec[:len(rec)-1]...), 'X'), errBadCRC},
		"type":         {badType, errBadType},
	}
	for name, c := range cases {
		if _, _, _, err := parseRecord(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	if _, err := appendRecord(nil, recEntries, make([]byte, maxRecordLen+1)); err == nil {
		t.Error("oversized record accepted")
	}
}
