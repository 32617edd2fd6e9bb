package deliver

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// recvAsync delivers the responses of st on a channel.
func recvAsync(st orderer.AtomicBroadcast_DeliverClient) <-chan *orderer.DeliverResponse {
	out := make(chan *orderer.DeliverResponse, 100)
	go func() {
		defer close(out)
		for {
			resp, err := st.Recv()
			if err != nil {
				return
			}
			out <- resp
		}
	}()
	return out
}

func expectNothing(t *testing.T, ch <-chan *orderer.DeliverResponse) {
	t.Helper()
	select {
	case resp := <-ch:
		t.Fatalf("unexpected response while waiting: %v", resp)
	case <-time.After(150 * time.Millisecond):
	}
}

func expectBlocks(t *testing.T, ch <-chan *orderer.DeliverResponse, nums ...uint64) {
	t.Helper()
	for _, n := range nums {
		select {
		case resp, ok := <-ch:
			if !ok || resp.GetBlock().GetHeader().GetNumber() != n || resp.GetBlock() == nil {
				t.Fatalf("want block %d, got %v (open %v)", n, resp, ok)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timeout waiting for block %d", n)
		}
	}
}

func expectStatus(t *testing.T, ch <-chan *orderer.DeliverResponse, want common.Status) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		if !ok {
			t.Fatalf("stream ended, want status %v", want)
		}
		st, isStatus := resp.Type.(*orderer.DeliverResponse_Status)
		if !isStatus || st.Status != want {
			t.Fatalf("want status %v, got %v", want, resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timeout waiting for status %v", want)
	}
}

func expectEnd(t *testing.T, ch <-chan *orderer.DeliverResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		if ok {
			t.Fatalf("want end of stream, got %v", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not end")
	}
}

func TestBlockUntilReady(t *testing.T) {
	cases := []struct {
		name        string
		start, stop any
		want        []uint64
	}{
		{"specified at height", 3, 4, []uint64{3, 4}},
		{"next commit", "next", 4, []uint64{3, 4}},
		{"oldest to far future", "oldest", 4, []uint64{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 2) // height 3
			conn := serveOrderer(t, f.handler())
			st := openDeliver(t, conn)
			if err := st.Send(seekEnv(t, f.client, seekInfo(c.start, c.stop))); err != nil {
				t.Fatal(err)
			}
			ch := recvAsync(st)
			var already []uint64
			for _, n := range c.want {
				if n < 3 {
					already = append(already, n)
				}
			}
			expectBlocks(t, ch, already...)
			expectNothing(t, ch)
			f.appendBlocks(t, 1)
			expectBlocks(t, ch, 3)
			expectNothing(t, ch)
			f.appendBlocks(t, 2)
			expectBlocks(t, ch, 4)
			expectStatus(t, ch, common.Status_SUCCESS)
		})
	}
}

func TestSequentialRequestsOnOneStream(t *testing.T) {
	f := newFixture(t, 3)
	conn := serveOrderer(t, f.handler())
	st := openDeliver(t, conn)
	ch := recvAsync(st)
	for _, r := range []struct{ start, stop any }{{0, 1}, {"newest", "newest"}, {2, 3}} {
		if err := st.Send(seekEnv(t, f.client, seekInfo(r.start, r.stop))); err != nil {
			t.Fatal(err)
		}
		si := seekInfo(r.start, r.stop)
		rng, _, _ := resolveRange(si, 4)
		var nums []uint64
		for n := rng.start; n <= rng.stop; n++ {
			nums = append(nums, n)
		}
		expectBlocks(t, ch, nums...)
		expectStatus(t, ch, common.Status_SUCCESS)
	}
	// A failed request ends the stream, as in Fabric.
	if err := st.Send(seekEnv(t, f.client, seekInfo(3, 1))); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ch, common.Status_BAD_REQUEST)
	expectEnd(t, ch)

	// Closing the send side ends a stream cleanly between requests.
	st2 := openDeliver(t, conn)
	if err := st2.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestAuthorisationRechecked(t *testing.T) {
	cases := []struct {
		name   string
		change func(f *fixture, h *Handler, now *nowClock)
		status common.Status
	}{
		{"config drops the reader's org", func(f *fixture, _ *Handler, _ *nowClock) {
			f.ch.bundle.Store(f.bundleWithoutOrg1)
		}, common.Status_FORBIDDEN},
		{"reader certificate expires", func(f *fixture, _ *Handler, now *nowClock) {
			now.set(f.client.Cert.NotAfter.Add(time.Minute))
		}, common.Status_FORBIDDEN},
		{"config changes but still allows the reader", func(f *fixture, _ *Handler, _ *nowClock) {
			// New policy manager, same rules: re-evaluated and passes.
			f.ch.bundle.Store(f.bundleSame)
		}, common.Status_SUCCESS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 1)
			now := &nowClock{}
			now.set(time.Now())
			h := f.handler()
			h.Now = now.get
			conn := serveOrderer(t, h)
			st := openDeliver(t, conn)
			if err := st.Send(seekEnv(t, f.client, seekInfo("oldest", 2))); err != nil {
				t.Fatal(err)
			}
			ch := recvAsync(st)
			expectBlocks(t, ch, 0, 1)
			c.change(f, h, now)
			f.appendBlocks(t, 1)
			if c.status == common.Status_SUCCESS {
				expectBlocks(t, ch, 2)
			}
			expectStatus(t, ch, c.status)
		})
	}
}

type nowClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *nowClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *nowClock) get() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func TestErroredChannel(t *testing.T) {
	f := newFixture(t, 1)
	errored := make(chan struct{})
	ech := erroringChannel{f.ch}
	ech.errored = errored
	h := &Handler{Source: testSource{testChannelID: ech}, Logger: quiet}
	conn := serveOrderer(t, h)

	// Waiting request is aborted when the consenter fails.
	st := openDeliver(t, conn)
	if err := st.Send(seekEnv(t, f.client, seekInfo("oldest", 5))); err != nil {
		t.Fatal(err)
	}
	ch := recvAsync(st)
	expectBlocks(t, ch, 0, 1)
	expectNothing(t, ch)
	close(errored)
	expectStatus(t, ch, common.Status_SERVICE_UNAVAILABLE)

	// New requests are refused, unless they ask for best effort.
	if r := doRequest(t, conn, seekEnv(t, f.client, seekInfo(0, 1))); r.status != common.Status_SERVICE_UNAVAILABLE || len(r.blocks) != 0 {
		t.Fatalf("strict after error: %v %v", r.numbers(), r.status)
	}
	si := seekInfo(0, 1)
	si.ErrorResponse = orderer.SeekInfo_BEST_EFFORT
	if r := doRequest(t, conn, seekEnv(t, f.client, si)); r.status != common.Status_SUCCESS || !slices.Equal(r.numbers(), []uint64{0, 1}) {
		t.Fatalf("best effort after error: %v %v", r.numbers(), r.status)
	}
}

func TestConcurrentReaders(t *testing.T) {
	f := newFixture(t, 4) // height 5
	conn := serveOrderer(t, f.handler())
	const readers, last = 20, 9
	results := make([]result, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := orderer.NewAtomicBroadcastClient(conn).Deliver(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			env, err := NewSeekEnvelope(testChannelID, f.client, seekInfo("oldest", last), nil, time.Now())
			if err == nil {
				err = st.Send(env)
			}
			if err != nil {
				t.Error(err)
				return
			}
			for {
				resp, err := st.Recv()
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				if b := resp.GetBlock(); b != nil {
					results[i].blocks = append(results[i].blocks, b)
					continue
				}
				results[i].status = resp.GetStatus()
				return
			}
		}()
	}
	// The readers wait for blocks appended while they stream.
	time.Sleep(50 * time.Millisecond)
	f.appendBlocks(t, last-4)
	wg.Wait()
	for i, r := range results {
		if r.status != common.Status_SUCCESS || len(r.blocks) != last+1 {
			t.Fatalf("reader %d: blocks %v status %v", i, r.numbers(), r.status)
		}
		for _, b := range r.blocks {
			if !proto.Equal(b, check(f.store.Block(b.Header.Number))(t)) {
				t.Fatalf("reader %d: block %d differs", i, b.Header.Number)
			}
		}
	}
}

type peerServer struct {
	peer.UnimplementedDeliverServer
	h *Handler
}

func (s peerServer) Deliver(srv peer.Deliver_DeliverServer) error { return s.h.Serve(PeerStream(srv)) }

func TestPeerStream(t *testing.T) {
	f := newFixture(t, 2)
	conn := serve(t, func(s *grpc.Server) { peer.RegisterDeliverServer(s, peerServer{h: f.handler()}) }, nil)
	for _, c := range []struct {
		name   string
		signer Signer
		want   []uint64
		status common.Status
	}{
		{"reader", f.client, []uint64{0, 1, 2}, common.Status_SUCCESS},
		{"non-member", f.outsider, nil, common.Status_FORBIDDEN},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := check(peer.NewDeliverClient(conn).Deliver(context.Background()))(t)
			if err := st.Send(seekEnv(t, c.signer, seekInfo("oldest", "newest"))); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for {
				resp := check(st.Recv())(t)
				if b := resp.GetBlock(); b != nil {
					got = append(got, b.Header.Number)
					continue
				}
				if resp.GetStatus() != c.status || !slices.Equal(got, c.want) {
					t.Fatalf("got %v %v, want %v %v", got, resp.GetStatus(), c.want, c.status)
				}
				return
			}
		})
	}
}

func TestResolveRange(t *testing.T) {
	cases := []struct {
		name        string
		start, stop any
		height      uint64
		want        seekRange
		status      common.Status
	}{
		{"oldest newest", "oldest", "newest", 5, seekRange{0, 4}, common.Status_SUCCESS},
		{"newest newest", "newest", "newest", 5, seekRange{4, 4}, common.Status_SUCCESS},
		{"newest oldest", "newest", "oldest", 5, seekRange{4, 4}, common.Status_SUCCESS},
		{"next commit", "next", "next", 5, seekRange{5, 5}, common.Status_SUCCESS},
		{"specified at height", 5, uint64(math.MaxUint64), 5, seekRange{5, math.MaxUint64}, common.Status_SUCCESS},
		{"empty ledger oldest newest", "oldest", "newest", 0, seekRange{0, 0}, common.Status_SUCCESS},
		{"empty ledger newest", "newest", "newest", 0, seekRange{0, 0}, common.Status_SUCCESS},
		{"specified beyond height", 6, 7, 5, seekRange{}, common.Status_NOT_FOUND},
		{"stop before start", 3, 2, 5, seekRange{}, common.Status_BAD_REQUEST},
		{"next commit to newest", "next", "newest", 5, seekRange{}, common.Status_BAD_REQUEST},
		{"missing stop", 1, nil, 5, seekRange{}, common.Status_BAD_REQUEST},
		{"empty start", "empty", 1, 5, seekRange{}, common.Status_BAD_REQUEST},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, status, err := resolveRange(seekInfo(c.start, c.stop), c.height)
			if status != c.status || got != c.want || (err == nil) != (c.status == common.Status_SUCCESS) {
				t.Fatalf("got %+v %v %v, want %+v %v", got, status, err, c.want, c.status)
			}
		})
	}
	// A specified position with its inner message missing.
	si := &orderer.SeekInfo{Start: &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{}}, Stop: pos(1)}
	if _, status, err := resolveRange(si, 5); status != common.Status_BAD_REQUEST || err == nil {
		t.Fatalf("nil specified: %v %v", status, err)
	}
}
