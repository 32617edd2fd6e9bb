package broadcast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"weft/wire/common"
	"weft/wire/orderer"
)

type abServer struct {
	orderer.UnimplementedAtomicBroadcastServer
	h    *Handler
	errs chan error // what Broadcast returned
}

func (s *abServer) Broadcast(srv orderer.AtomicBroadcast_BroadcastServer) error {
	err := s.h.Broadcast(srv)
	s.errs <- err
	return err
}

// serve runs h on an in-process gRPC server and returns a client for it and
// the channel receiving Broadcast's return values.
func serve(t *testing.T, h *Handler) (orderer.AtomicBroadcastClient, <-chan error) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	ab := &abServer{h: h, errs: make(chan error, 8)}
	orderer.RegisterAtomicBroadcastServer(srv, ab)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return orderer.NewAtomicBroadcastClient(conn), ab.errs
}

// TestBroadcastPipelined streams 100 envelopes at a chain with random
// latency, mixing rejected envelopes and failing Order calls in, and checks
// that the answers come back in order, each only after its Order returned,
// and much faster than one round trip at a time.
func TestBroadcastPipelined(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	const n, latency = 100, 40 * time.Millisecond

	envs := make([]*common.Envelope, n)
	want := make([]common.Status, n)
	index := map[string]int{} // tx id -> position
	for i := range envs {
		switch {
		case i%10 == 3: // structurally bad: rejected without reaching the chain
			envs[i] = tx(t, f.member(t, "client"), func(p *txParts) { p.sh.Nonce = nil })
			want[i] = common.Status_BAD_REQUEST
		case i%10 == 7: // the chain fails it
			envs[i] = tx(t, f.member(t, "client"), func(p *txParts) { p.data = []byte("fail") })
			want[i] = common.Status_SERVICE_UNAVAILABLE
		default:
			envs[i] = tx(t, f.member(t, "client"), nil)
			want[i] = common.Status_SUCCESS
		}
		_, ch, _, err := envHeaders(envs[i])
		if err == nil {
			index[ch.TxId] = i
		}
	}

	var inFlight, maxInFlight atomic.Int64
	var done sync.Map // position -> Order returned
	s := f.support()
	s.order = func(ctx context.Context, env *common.Envelope) error {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		pl, ch, _, err := envHeaders(env)
		if err != nil {
			return err
		}
		i := index[ch.TxId]
		select {
		case <-time.After(latency/2 + rand.N(latency)):
		case <-ctx.Done():
			return ctx.Err()
		}
		done.Store(i, true)
		if string(pl.Data) == "fail" {
			return fmt.Errorf("%w: tx %d: no leader", ErrUnavailable, i)
		}
		return nil
	}
	client, errs := serve(t, f.handler(s))

	start := time.Now()
	stream, err := client.Broadcast(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, e := range envs {
			if err := stream.Send(e); err != nil {
				return
			}
		}
		_ = stream.CloseSend()
	}()
	for i := 0; i < n; i++ {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.Status != want[i] {
			t.Fatalf("response %d: %v %q, want %v", i, resp.Status, resp.Info, want[i])
		}
		if want[i] == common.Status_SERVICE_UNAVAILABLE && !strings.Contains(resp.Info, fmt.Sprintf("tx %d:", i)) {
			t.Fatalf("response %d answers another envelope: %q", i, resp.Info)
		}
		if want[i] != common.Status_BAD_REQUEST {
			if _, ok := done.Load(i); !ok {
				t.Fatalf("response %d sent before Order returned", i)
			}
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("after the last response: %v, want EOF", err)
	}
	elapsed := time.Since(start)
	t.Logf("100 envelopes answered in %v", elapsed)
	if err := <-errs; err != nil {
		t.Fatalf("Broadcast returned %v after a clean half-close", err)
	}
	// One at a time would take at least 90 * 20ms = 1.8s (3.6s on average).
	if elapsed > 1500*time.Millisecond {
		t.Fatalf("100 envelopes took %v; not pipelined", elapsed)
	}
	if m := maxInFlight.Load(); m < 2 || m > Window {
		t.Fatalf("max concurrent Order calls %d, want between 2 and %d", m, Window)
	}
	if ordered, _ := s.counts(); ordered != 90 {
		t.Fatalf("Order called %d times, want 90", ordered)
	}
}

// TestBroadcastWindow checks that no more than Window envelopes of one
// stream are processed at once.
func TestBroadcastWindow(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	release := make(chan struct{})
	var inFlight atomic.Int64
	s := f.support()
	s.order = func(ctx context.Context, _ *common.Envelope) error {
		inFlight.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	client, errs := serve(t, f.handler(s))
	stream, err := client.Broadcast(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const n = Window + 20
	envs := make([]*common.Envelope, n)
	for i := range envs {
		envs[i] = tx(t, f.member(t, "client"), nil)
	}
	go func() {
		for _, e := range envs {
			if stream.Send(e) != nil {
				return
			}
		}
		_ = stream.CloseSend()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for inFlight.Load() < Window && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // give an over-eager reader time to overshoot
	if got := inFlight.Load(); got != Window {
		t.Fatalf("%d envelopes in flight, want exactly %d", got, Window)
	}
	close(release)
	for i := 0; i < n; i++ {
		resp, err := stream.Recv()
		if err != nil || resp.Status != common.Status_SUCCESS {
			t.Fatalf("response %d: %v %v", i, resp, err)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestBroadcastClientCancel checks that a client going away cancels work in
// flight and ends the handler.
func TestBroadcastClientCancel(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	cancelled := make(chan struct{}, 4)
	started := make(chan struct{}, 4)
	s := f.support()
	s.order = func(ctx context.Context, _ *common.Envelope) error {
		started <- struct{}{}
		<-ctx.Done()
		cancelled <- struct{}{}
		return ctx.Err()
	}
	client, errs := serve(t, f.handler(s))
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := client.Broadcast(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(tx(t, f.member(t, "client"), nil)); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("Order was not cancelled")
	}
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("Broadcast returned nil for a cancelled stream")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Broadcast did not return")
	}
}

// failingStream fails every Send, as a broken transport would.
type failingStream struct {
	orderer.AtomicBroadcast_BroadcastServer
	ctx  context.Context
	envs []*common.Envelope
}

func (s *failingStream) Context() context.Context { return s.ctx }
func (s *failingStream) Recv() (*common.Envelope, error) {
	if len(s.envs) == 0 {
		return nil, io.EOF
	}
	e := s.envs[0]
	s.envs = s.envs[1:]
	return e, nil
}
func (s *failingStream) Send(*orderer.BroadcastResponse) error { return errors.New("connection reset") }

func TestBroadcastSendFailure(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	s := f.support()
	envs := make([]*common.Envelope, 2*Window)
	for i := range envs {
		envs[i] = tx(t, f.member(t, "client"), nil)
	}
	done := make(chan error, 1)
	go func() { done <- f.handler(s).Broadcast(&failingStream{ctx: context.Background(), envs: envs}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("Broadcast returned %v, want the send error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Broadcast hung after a failed Send")
	}
}
