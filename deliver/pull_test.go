package deliver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/wire/common"
	"weft/wire/orderer"
)

func pullAll(conn grpc.ClientConnInterface, channel string, s Signer, start, stop uint64) ([]*common.Block, error) {
	var got []*common.Block
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Pull(ctx, conn, channel, s, start, stop, nil, func(b *common.Block) error {
		got = append(got, b)
		return nil
	})
	return got, err
}

func numbersOf(bs []*common.Block) []uint64 { return result{blocks: bs}.numbers() }

func TestPull(t *testing.T) {
	f := newFixture(t, 4) // height 5
	conn := serveOrderer(t, f.handler())

	cases := []struct {
		name        string
		channel     string
		signer      Signer
		start, stop uint64
		want        []uint64
		status      common.Status // SUCCESS: no error expected
	}{
		{"all", testChannelID, f.client, 0, 4, []uint64{0, 1, 2, 3, 4}, common.Status_SUCCESS},
		{"one", testChannelID, f.ordererNode, 2, 2, []uint64{2}, common.Status_SUCCESS},
		{"unknown channel", "nosuch", f.client, 0, 1, nil, common.Status_NOT_FOUND},
		{"non-member", testChannelID, f.outsider, 0, 1, nil, common.Status_FORBIDDEN},
		{"beyond height", testChannelID, f.client, 7, 9, nil, common.Status_NOT_FOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := pullAll(conn, c.channel, c.signer, c.start, c.stop)
			if c.status == common.Status_SUCCESS {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != c.status {
					t.Fatalf("err = %v, want status %v", err, c.status)
				}
			}
			if !slices.Equal(numbersOf(got), c.want) {
				t.Fatalf("blocks %v, want %v", numbersOf(got), c.want)
			}
			for _, b := range got {
				if !proto.Equal(b, check(f.store.Block(b.Header.Number))(t)) {
					t.Fatalf("block %d differs", b.Header.Number)
				}
			}
		})
	}

	t.Run("waits for future blocks", func(t *testing.T) {
		done := make(chan error, 1)
		var got []*common.Block
		go func() {
			var err error
			got, err = pullAll(conn, testChannelID, f.client, 3, 7)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		f.appendBlocks(t, 3)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(numbersOf(got), []uint64{3, 4, 5, 6, 7}) {
			t.Fatalf("blocks %v", numbersOf(got))
		}
	})

	t.Run("fn error stops the pull", func(t *testing.T) {
		stopErr := errors.New("enough")
		calls := 0
		err := Pull(context.Background(), conn, testChannelID, f.client, 0, 4, nil, func(*common.Block) error {
			calls++
			if calls == 2 {
				return stopErr
			}
			return nil
		})
		if !errors.Is(err, stopErr) || calls != 2 {
			t.Fatalf("err %v after %d calls", err, calls)
		}
	})

	t.Run("context cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := Pull(ctx, conn, testChannelID, f.client, 100, 101, nil, func(*common.Block) error { return nil })
		if err == nil {
			t.Fatal("want error")
		}
	})
}

func TestPullArguments(t *testing.T) {
	f := newFixture(t, 0)
	conn := serveOrderer(t, f.handler())
	nop := func(*common.Block) error { return nil }
	cases := []struct {
		name    string
		conn    grpc.ClientConnInterface
		channel string
		signer  Signer
		start   uint64
		stop    uint64
		fn      func(*common.Block) error
		field   string
	}{
		{"nil conn", nil, testChannelID, f.client, 0, 0, nop, "conn"},
		{"nil fn", conn, testChannelID, f.client, 0, 0, nil, "fn"},
		{"stop before start", conn, testChannelID, f.client, 2, 1, nop, "stop"},
		{"empty channel", conn, "", f.client, 0, 0, nop, "channel"},
		{"nil signer", conn, testChannelID, nil, 0, 0, nop, "signer"},
		{"signer without identity", conn, testChannelID, emptySigner{}, 0, 0, nop, "signer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Pull(context.Background(), c.conn, c.channel, c.signer, c.start, c.stop, nil, c.fn)
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want mention of %q", err, c.field)
			}
		})
	}
}

type emptySigner struct{}

func (emptySigner) Sign([]byte) ([]byte, error) { return []byte{1}, nil }
func (emptySigner) Serialize() []byte           { return nil }

// scriptedServer answers a Deliver call with fixed responses and records the
// request it got.
type scriptedServer struct {
	orderer.UnimplementedAtomicBroadcastServer
	responses []*orderer.DeliverResponse
	got       chan *common.Envelope
}

func (s scriptedServer) Deliver(srv orderer.AtomicBroadcast_DeliverServer) error {
	env, err := srv.Recv()
	if err != nil {
		return err
	}
	s.got <- env
	for _, r := range s.responses {
		if err := srv.Send(r); err != nil {
			return err
		}
	}
	return nil
}

func TestPullRejectsBadServers(t *testing.T) {
	f := newFixture(t, 3)
	blocks := make([]*common.Block, 4)
	for i := range blocks {
		blocks[i] = check(f.store.Block(uint64(i)))(t)
	}
	blk := func(b *common.Block) *orderer.DeliverResponse {
		return &orderer.DeliverResponse{Type: &orderer.DeliverResponse_Block{Block: b}}
	}
	status := func(s common.Status) *orderer.DeliverResponse {
		return &orderer.DeliverResponse{Type: &orderer.DeliverResponse_Status{Status: s}}
	}
	forged := proto.Clone(blocks[2]).(*common.Block)
	forged.Header.PreviousHash = []byte("not the hash of block 1")
	ok := status(common.Status_SUCCESS)

	cases := []struct {
		name      string
		responses []*orderer.DeliverResponse
		wantErr   string // empty: success
	}{
		{"well behaved", []*orderer.DeliverResponse{blk(blocks[1]), blk(blocks[2]), ok}, ""},
		{"gap", []*orderer.DeliverResponse{blk(blocks[1]), blk(blocks[3]), ok}, "want 2"},
		{"wrong first block", []*orderer.DeliverResponse{blk(blocks[0]), ok}, "want 1"},
		{"broken hash chain", []*orderer.DeliverResponse{blk(blocks[1]), blk(forged), ok}, "previous_hash"},
		{"success too early", []*orderer.DeliverResponse{blk(blocks[1]), ok}, "SUCCESS before block 2"},
		{"block after stop", []*orderer.DeliverResponse{blk(blocks[1]), blk(blocks[2]), blk(blocks[3])}, "after stop"},
		{"no status", []*orderer.DeliverResponse{blk(blocks[1]), blk(blocks[2])}, "without status"},
		{"error status", []*orderer.DeliverResponse{blk(blocks[1]), status(common.Status_SERVICE_UNAVAILABLE)}, "SERVICE_UNAVAILABLE"},
		{"headerless block", []*orderer.DeliverResponse{blk(&common.Block{})}, "missing header"},
		{"empty response", []*orderer.DeliverResponse{{}}, "neither block nor status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := scriptedServer{responses: c.responses, got: make(chan *common.Envelope, 1)}
			conn := serve(t, func(s *grpc.Server) { orderer.RegisterAtomicBroadcastServer(s, srv) }, nil)
			hash := []byte("0123456789abcdef0123456789abcdef")
			before := time.Now()
			var got []uint64
			err := Pull(context.Background(), conn, testChannelID, f.client, 1, 2, hash, func(b *common.Block) error {
				got = append(got, b.Header.Number)
				return nil
			})
			if c.wantErr == "" {
				if err != nil || !slices.Equal(got, []uint64{1, 2}) {
					t.Fatalf("err %v, blocks %v", err, got)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			checkSeekRequest(t, <-srv.got, f.client, hash, before)
		})
	}
}

// checkSeekRequest verifies the envelope Pull sent is what a Fabric orderer
// expects of its own deliver clients.
func checkSeekRequest(t *testing.T, env *common.Envelope, s member, hash []byte, notBefore time.Time) {
	t.Helper()
	payload, chdr, shdr, err := channelconfig.EnvelopeHeaders(env)
	if err != nil {
		t.Fatal(err)
	}
	if common.HeaderType(chdr.Type) != common.HeaderType_DELIVER_SEEK_INFO || chdr.ChannelId != testChannelID {
		t.Fatalf("channel header %v", chdr)
	}
	if ts := chdr.Timestamp.AsTime(); ts.Before(notBefore.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Fatalf("timestamp %v", ts)
	}
	if string(chdr.TlsCertHash) != string(hash) {
		t.Fatalf("tls_cert_hash %x", chdr.TlsCertHash)
	}
	if len(shdr.Nonce) != channelconfig.NonceSize || chdr.TxId != channelconfig.ComputeTxID(shdr.Nonce, shdr.Creator) {
		t.Fatalf("nonce %x tx id %q", shdr.Nonce, chdr.TxId)
	}
	if string(shdr.Creator) != string(s.Serialize()) {
		t.Fatal("creator is not the signer")
	}
	if err := fabcrypto.Verify(&s.Key.PublicKey, env.Payload, env.Signature); err != nil {
		t.Fatal(err)
	}
	seek := &orderer.SeekInfo{}
	if err := proto.Unmarshal(payload.Data, seek); err != nil {
		t.Fatal(err)
	}
	want := &orderer.SeekInfo{Start: specified(1), Stop: specified(2), Behavior: orderer.SeekInfo_BLOCK_UNTIL_READY}
	if !proto.Equal(seek, want) {
		t.Fatalf("seek info %v", seek)
	}
}
