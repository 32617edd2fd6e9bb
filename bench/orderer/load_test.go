package orderer

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"weft/msp/msptest"
	"weft/wire/common"
	ab "weft/wire/orderer"
)

// fakeOrderer answers every envelope with status(env), counting what it saw
// and how many envelopes a stream had in flight at most.
type fakeOrderer struct {
	ab.UnimplementedAtomicBroadcastServer
	status func(*common.Envelope) common.Status
	delay  time.Duration

	mu       sync.Mutex
	seen     map[[32]byte]int
	received atomic.Int64
	blocks   atomic.Uint64
}

func (f *fakeOrderer) Broadcast(s grpc.BidiStreamingServer[common.Envelope, ab.BroadcastResponse]) error {
	for {
		env, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f.received.Add(1)
		f.mu.Lock()
		f.seen[sha256.Sum256(env.Payload)]++
		f.mu.Unlock()
		time.Sleep(f.delay)
		st := common.Status_SUCCESS
		if f.status != nil {
			st = f.status(env)
		}
		if f.received.Load()%10 == 0 {
			f.blocks.Add(1)
		}
		if err := s.Send(&ab.BroadcastResponse{Status: st, Info: "fake"}); err != nil {
			return err
		}
	}
}

func serve(t *testing.T, f *fakeOrderer) *grpc.ClientConn {
	t.Helper()
	f.seen = map[[32]byte]int{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ab.RegisterAtomicBroadcastServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func testSigner(t *testing.T) Signer {
	t.Helper()
	org, err := msptest.NewOrg("Org1MSP", false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := org.Role("bench", msptest.OUClient)
	if err != nil {
		t.Fatal(err)
	}
	return memberSigner{m}
}

type memberSigner struct{ m *msptest.Member }

func (s memberSigner) Sign(b []byte) ([]byte, error) { return s.m.Sign(b) }
func (s memberSigner) Serialize() []byte             { return s.m.Serialized }

func TestEnvelopes(t *testing.T) {
	s := testSigner(t)
	envs, err := Envelopes("ch", s, 20, 1024)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[[32]byte]bool{}
	for i, e := range envs {
		p := &common.Payload{}
		if err := proto.Unmarshal(e.Payload, p); err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		ch := &common.ChannelHeader{}
		if err := proto.Unmarshal(p.Header.ChannelHeader, ch); err != nil || ch.ChannelId != "ch" || ch.TxId == "" {
			t.Fatalf("envelope %d: channel header %v, %v", i, ch, err)
		}
		if len(p.Data) != 1024 || len(e.Signature) == 0 {
			t.Fatalf("envelope %d: %d data bytes, %d signature bytes", i, len(p.Data), len(e.Signature))
		}
		distinct[sha256.Sum256(e.Payload)] = true
	}
	if len(distinct) != len(envs) {
		t.Fatalf("%d distinct payloads for %d envelopes", len(distinct), len(envs))
	}

	for _, c := range []struct {
		name    string
		n, size int
		s       Signer
		want    string
	}{
		{"zero count", 0, 10, s, "count 0"},
		{"negative size", 1, -1, s, "size -1"},
		{"nil signer", 1, 10, nil, "signer is nil"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Envelopes("ch", c.s, c.n, c.size); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestRunCountsEveryEnvelopeOnce(t *testing.T) {
	f1, f2 := &fakeOrderer{}, &fakeOrderer{}
	c1, c2 := serve(t, f1), serve(t, f2)
	envs, err := Envelopes("ch", testSigner(t), 500, 100)
	if err != nil {
		t.Fatal(err)
	}
	height := func(context.Context) (uint64, error) { return 1 + f1.blocks.Load() + f2.blocks.Load(), nil }
	res, err := Run{Targets: []grpc.ClientConnInterface{c1, c2}, Streams: 7, Window: 5, Height: height}.Do(context.Background(), envs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Envelopes != 500 || res.Streams != 7 || res.EnvelopeBytes != proto.Size(envs[0]) {
		t.Fatalf("result %+v", res)
	}
	if got := f1.received.Load() + f2.received.Load(); got != 500 {
		t.Fatalf("orderers received %d envelopes, want 500", got)
	}
	if f1.received.Load() == 0 || f2.received.Load() == 0 {
		t.Fatalf("load not spread: %d / %d", f1.received.Load(), f2.received.Load())
	}
	for _, f := range []*fakeOrderer{f1, f2} {
		for h, n := range f.seen {
			if n != 1 {
				t.Fatalf("envelope %x sent %d times", h[:4], n)
			}
		}
	}
	if want := f1.blocks.Load() + f2.blocks.Load(); res.Blocks != want || want == 0 {
		t.Fatalf("blocks %d, want %d", res.Blocks, want)
	}
	if res.EnvelopesPerSec <= 0 || res.BlocksPerSec <= 0 || res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
		t.Fatalf("figures out of order: %+v", res)
	}
}

func TestRunLatencyReflectsServer(t *testing.T) {
	f := &fakeOrderer{delay: 5 * time.Millisecond}
	conn := serve(t, f)
	envs, err := Envelopes("ch", testSigner(t), 40, 10)
	if err != nil {
		t.Fatal(err)
	}
	// One envelope in flight: each waits for exactly one server delay.
	res, err := Run{Targets: []grpc.ClientConnInterface{conn}, Streams: 1, Window: 1}.Do(context.Background(), envs)
	if err != nil {
		t.Fatal(err)
	}
	if res.P50 < 5*time.Millisecond || res.Elapsed < 40*5*time.Millisecond {
		t.Fatalf("p50 %v, elapsed %v: faster than the server can answer", res.P50, res.Elapsed)
	}
	if res.Blocks != 0 || res.BlocksPerSec != 0 {
		t.Fatalf("blocks reported without a height source: %+v", res)
	}
}

func TestRunFailures(t *testing.T) {
	envs, err := Envelopes("ch", testSigner(t), 30, 10)
	if err != nil {
		t.Fatal(err)
	}
	rejectTenth := &fakeOrderer{status: func(e *common.Envelope) common.Status {
		if sha256.Sum256(e.Payload) == sha256.Sum256(envs[9].Payload) {
			return common.Status_FORBIDDEN
		}
		return common.Status_SUCCESS
	}}
	good := serve(t, &fakeOrderer{})
	heightErr := func(context.Context) (uint64, error) { return 0, errors.New("no metrics") }
	var calls atomic.Int64
	shrinking := func(context.Context) (uint64, error) { return uint64(10 - calls.Add(1)), nil }
	cases := []struct {
		name string
		run  Run
		envs []*common.Envelope
		want string
	}{
		{"rejected envelope", Run{Targets: []grpc.ClientConnInterface{serve(t, rejectTenth)}, Streams: 3}, envs, "status FORBIDDEN"},
		{"no targets", Run{Streams: 1}, envs, "no targets"},
		{"no streams", Run{Targets: []grpc.ClientConnInterface{good}}, envs, "streams 0"},
		{"negative window", Run{Targets: []grpc.ClientConnInterface{good}, Streams: 1, Window: -1}, envs, "window -1"},
		{"no envelopes", Run{Targets: []grpc.ClientConnInterface{good}, Streams: 1}, nil, "no envelopes"},
		{"height unavailable", Run{Targets: []grpc.ClientConnInterface{good}, Streams: 1, Height: heightErr}, envs, "no metrics"},
		{"height going down", Run{Targets: []grpc.ClientConnInterface{good}, Streams: 1, Height: shrinking}, envs, "went down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.run.Do(ctx, c.envs); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestRunStopsOnBrokenConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	envs, err := Envelopes("ch", testSigner(t), 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := (Run{Targets: []grpc.ClientConnInterface{conn}, Streams: 2}).Do(ctx, envs); err == nil {
		t.Fatal("run against a dead orderer succeeded")
	}
}

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: percentiles must sort
	}
	for _, c := range []struct {
		name          string
		in            []time.Duration
		p50, p99, top time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"four", ms(4, 1, 3, 2), 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond},
		{"hundred", ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			p50, p99, top := percentiles(c.in)
			if p50 != c.p50 || p99 != c.p99 || top != c.top {
				t.Fatalf("got %v %v %v, want %v %v %v", p50, p99, top, c.p50, c.p99, c.top)
			}
		})
	}
}

func TestParseMetric(t *testing.T) {
	page := []byte("# HELP x\nledger_blockchain_height{channel=\"a\"} 12\nledger_blockchain_height{channel=\"ab\"} 99\nbroken{channel=\"a\"} x1\n")
	for _, c := range []struct {
		name, metric, channel string
		want                  float64
		err                   string
	}{
		{"found", "ledger_blockchain_height", "a", 12, ""},
		{"channel is matched exactly", "ledger_blockchain_height", "ab", 99, ""},
		{"missing channel", "ledger_blockchain_height", "b", 0, "not on the page"},
		{"missing metric", "nothing", "a", 0, "not on the page"},
		{"bad value", "broken", "a", 0, "value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := parseMetric(page, c.metric, c.channel)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || v != c.want {
				t.Fatalf("got %v, %v; want %v", v, err, c.want)
			}
		})
	}
}

func TestStartNetworkValidatesOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		opts NetworkOptions
		want string
	}{
		{"no dir", NetworkOptions{Binary: "weft"}, "Dir is required"},
		{"no binary", NetworkOptions{Dir: t.TempDir()}, "Binary is required"},
		{"negative orderers", NetworkOptions{Dir: t.TempDir(), Binary: "weft", Orderers: -1}, "Orderers -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := StartNetwork(context.Background(), c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
