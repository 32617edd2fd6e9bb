package peer

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/comm"
	"weft/fabcrypto"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
	pb "weft/wire/peer"
)

type signer struct{ *fabcrypto.KeySigner }

func (signer) Serialize() []byte { return []byte("user") }

// fakeGateway records the keys it was asked to write and answers every
// commit status with result.
type fakeGateway struct {
	gatewaypb.UnimplementedGatewayServer
	result pb.TxValidationCode
	delay  time.Duration

	mu       sync.Mutex
	keys     map[string]int
	orgs     []string
	statuses atomic.Int64
}

func (f *fakeGateway) Endorse(_ context.Context, r *gatewaypb.EndorseRequest) (*gatewaypb.EndorseResponse, error) {
	prop := &pb.Proposal{}
	if err := proto.Unmarshal(r.GetProposedTransaction().GetProposalBytes(), prop); err != nil {
		return nil, err
	}
	cpp := &pb.ChaincodeProposalPayload{}
	if err := proto.Unmarshal(prop.GetPayload(), cpp); err != nil {
		return nil, err
	}
	spec := &pb.ChaincodeInvocationSpec{}
	if err := proto.Unmarshal(cpp.GetInput(), spec); err != nil {
		return nil, err
	}
	args := spec.GetChaincodeSpec().GetInput().GetArgs()
	f.mu.Lock()
	f.keys[string(args[1])]++
	f.orgs = r.GetEndorsingOrganizations()
	f.mu.Unlock()
	return &gatewaypb.EndorseResponse{PreparedTransaction: &common.Envelope{Payload: []byte(r.GetTransactionId())}}, nil
}

func (f *fakeGateway) Submit(context.Context, *gatewaypb.SubmitRequest) (*gatewaypb.SubmitResponse, error) {
	time.Sleep(f.delay)
	return &gatewaypb.SubmitResponse{}, nil
}

func (f *fakeGateway) CommitStatus(context.Context, *gatewaypb.SignedCommitStatusRequest) (*gatewaypb.CommitStatusResponse, error) {
	f.statuses.Add(1)
	return &gatewaypb.CommitStatusResponse{Result: f.result, BlockNumber: 3}, nil
}

func fakeGateways(t *testing.T, f *fakeGateway, n int) []*client.Gateway {
	t.Helper()
	f.keys = map[string]int{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := comm.NewGRPCServer(nil, comm.ServerOptions{})
	gatewaypb.RegisterGatewayServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := fabcrypto.NewSigner(key)
	var out []*client.Gateway
	for i := 0; i < n; i++ {
		conn, err := comm.Dial(context.Background(), lis.Addr().String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		out = append(out, &client.Gateway{Conn: conn, Signer: signer{ks}})
	}
	return out
}

func TestRunCountsCommits(t *testing.T) {
	f := &fakeGateway{result: pb.TxValidationCode_VALID, delay: 2 * time.Millisecond}
	var height atomic.Uint64
	height.Store(10)
	run := Run{
		Gateways: fakeGateways(t, f, 3), Window: 4, Duration: 300 * time.Millisecond,
		Channel: "ch", Chaincode: "cc", Endorsers: []string{"Org1MSP", "Org2MSP"},
		Args:   Args{Template: DefaultArgs, ValueSize: 8, Prefix: "p-"},
		Height: func(context.Context) (uint64, error) { return height.Add(2) - 2, nil },
	}
	res, err := run.Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed == 0 || res.Failed != 0 || int64(res.Committed) != f.statuses.Load() {
		t.Fatalf("committed %d failed %d, gateway saw %d statuses", res.Committed, res.Failed, f.statuses.Load())
	}
	for k, n := range f.keys {
		if n != 1 || !strings.HasPrefix(k, "p-") {
			t.Fatalf("key %q written %d times; want unique keys with the prefix", k, n)
		}
	}
	if len(f.keys) != res.Committed {
		t.Errorf("%d keys for %d commits", len(f.keys), res.Committed)
	}
	if strings.Join(f.orgs, ",") != "Org1MSP,Org2MSP" {
		t.Errorf("endorsing orgs %v", f.orgs)
	}
	if res.Blocks != 2 || res.TxPerBlock != float64(res.Committed)/2 {
		t.Errorf("blocks %d, tx/block %v", res.Blocks, res.TxPerBlock)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.Submit < 2*time.Millisecond {
		t.Errorf("latencies p50 %s p99 %s max %s submit %s", res.P50, res.P99, res.Max, res.Submit)
	}
	if res.Elapsed < run.Duration || res.CommittedTPS <= 0 {
		t.Errorf("elapsed %s, tps %v", res.Elapsed, res.CommittedTPS)
	}
}

func TestRunInvalidTransactionsFail(t *testing.T) {
	f := &fakeGateway{result: pb.TxValidationCode_MVCC_READ_CONFLICT}
	run := Run{Gateways: fakeGateways(t, f, 1), Window: 2, Duration: 100 * time.Millisecond, Channel: "ch", Chaincode: "cc", Args: Args{Template: DefaultArgs}}
	res, err := run.Do(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no transaction committed") || !strings.Contains(err.Error(), "MVCC_READ_CONFLICT") {
		t.Fatalf("all invalid: %v", err)
	}
	if res.Committed != 0 || res.Failed == 0 || len(res.Errors) == 0 || len(res.Errors) > 5 {
		t.Fatalf("result %+v", res)
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	gw := []*client.Gateway{{}}
	ok := Run{Gateways: gw, Duration: time.Second, Channel: "ch", Chaincode: "cc", Args: Args{Template: DefaultArgs}}
	cases := []struct {
		name string
		edit func(*Run)
		want string
	}{
		{"no gateways", func(r *Run) { r.Gateways = nil }, "no gateways"},
		{"negative window", func(r *Run) { r.Window = -1 }, "window"},
		{"no duration", func(r *Run) { r.Duration = 0 }, "duration"},
		{"no channel", func(r *Run) { r.Channel = "" }, "channel"},
		{"no chaincode", func(r *Run) { r.Chaincode = "" }, "chaincode"},
		{"no function", func(r *Run) { r.Args.Template = []string{"", "{key}"} }, "function name"},
		{"negative value size", func(r *Run) { r.Args.ValueSize = -1 }, "value size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.edit(&r)
			if _, err := r.Do(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestArgsBuild(t *testing.T) {
	a := Args{Template: []string{"CreateAsset", "{key}", "blue", "{value}", "id-{key}"}, ValueSize: 5, Prefix: "r1-"}
	got := a.build(3, 7)
	want := []string{"CreateAsset", "r1-3-7", "blue", "hijkl", "id-r1-3-7"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Fatalf("arg %d: %q, want %q", i, got[i], want[i])
		}
	}
	if string(a.build(3, 8)[1]) == string(got[1]) || string(a.build(4, 7)[1]) == string(got[1]) {
		t.Error("keys repeat across workers or sequence numbers")
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p50, p99, top := percentiles(d)
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond || top != 100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s max %s", p50, p99, top)
	}
	if a, b, c := percentiles(nil); a != 0 || b != 0 || c != 0 {
		t.Fatal("empty input")
	}
}
