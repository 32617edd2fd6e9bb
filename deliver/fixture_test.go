package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/msp"
	"weft/msp/msptest"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/orderer"
)

const testChannelID = "mychannel"

var quiet = slog.New(slog.DiscardHandler)

// member adapts an msptest.Member to Signer.
type member struct{ *msptest.Member }

func (m member) Serialize() []byte { return m.Serialized }

// testChannel is a channel whose config can be swapped mid-stream.
type testChannel struct {
	ledger  Ledger
	bundle  atomic.Pointer[channelconfig.Bundle]
	errored chan struct{}
}

func (c *testChannel) Ledger() Ledger                 { return c.ledger }
func (c *testChannel) PolicyManager() *policy.Manager { return c.bundle.Load().PolicyManager() }
func (c *testChannel) MSPManager() *msp.Manager       { return c.bundle.Load().MSPManager() }

// erroringChannel also implements Errorer.
type erroringChannel struct{ *testChannel }

func (c erroringChannel) Errored() <-chan struct{} { return c.errored }

type testSource map[string]Channel

func (s testSource) Channel(id string) (Channel, bool) { ch, ok := s[id]; return ch, ok }

type fixture struct {
	store *blockstore.Store
	ch    *testChannel
	org1  *msptest.Org
	org2  *msptest.Org
	// readers
	client, peer, admin, ordererNode member
	// not readers
	wrongRole, outsider, untrusted member
	// bundleWithoutOrg1 is a later config of the same channel that drops Org1.
	bundleWithoutOrg1 *channelconfig.Bundle
	// bundleSame is an equal config in a new Bundle (new policy manager).
	bundleSame *channelconfig.Bundle
}

// check(f())(t) fails the test if f returned an error.
func check[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newMember(t testing.TB, org *msptest.Org, cn, role string) member {
	return member{check(org.Role(cn, role))(t)}
}

// newFixture builds a channel with one orderer org and two application orgs
// and a block store holding the genesis block plus extra data blocks.
func newFixture(t testing.TB, extra int) *fixture {
	t.Helper()
	ordOrg := check(msptest.NewOrg("OrdererMSP", false))(t)
	org1 := check(msptest.NewOrg("Org1MSP", true))(t)
	org2 := check(msptest.NewOrg("Org2MSP", false))(t)
	org3 := check(msptest.NewOrg("Org3MSP", false))(t)
	f := &fixture{
		org1: org1, org2: org2,
		client:      newMember(t, org1, "User1@org1", msptest.OUClient),
		peer:        newMember(t, org1, "peer0.org1", msptest.OUPeer),
		admin:       newMember(t, org1, "Admin@org1", msptest.OUAdmin),
		ordererNode: newMember(t, ordOrg, "orderer0", msptest.OUOrderer),
		wrongRole:   newMember(t, org1, "odd.org1", msptest.OUOrderer),
		outsider:    newMember(t, org3, "User1@org3", msptest.OUClient),
	}
	rogue := check(msptest.NewRootCA("rogue"))(t)
	f.untrusted = member{check(org1.NewMemberFrom(rogue, msptest.CertOpts{CN: "fake", OUs: []string{msptest.OUClient}}))(t)}

	tlsCert, _, err := ordOrg.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
	appOrg := func(o *msptest.Org) channelconfig.Org {
		return channelconfig.Org{Name: o.MSPID, ID: o.MSPID, MSP: check(o.Config())(t), Policies: channelconfig.DefaultOrgPolicies(o.MSPID)}
	}
	profile := func(orgs ...*msptest.Org) *channelconfig.Profile {
		var apps []channelconfig.Org
		for _, o := range orgs {
			apps = append(apps, appOrg(o))
		}
		return &channelconfig.Profile{
			Policies:     channelconfig.DefaultChannelPolicies(),
			Capabilities: channelconfig.DefaultChannelCapabilities(),
			Orderer: &channelconfig.OrdererSpec{
				OrdererType: channelconfig.OrdererTypeEtcdRaft,
				EtcdRaft: &channelconfig.EtcdRaftSpec{
					Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: tlsPEM, ServerTLSCert: tlsPEM}},
					Options:    channelconfig.DefaultEtcdRaftOptions(),
				},
				Organizations: []channelconfig.Org{{
					Name: "OrdererOrg", ID: "OrdererMSP", MSP: check(ordOrg.Config())(t),
					Policies:         channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"),
					OrdererEndpoints: []string{"orderer0.example.com:7050"},
				}},
				Policies:     channelconfig.DefaultOrdererPolicies(),
				Capabilities: channelconfig.DefaultOrdererCapabilities(),
			},
			Application: &channelconfig.ApplicationSpec{
				Organizations: apps,
				Policies:      channelconfig.DefaultApplicationPolicies(),
				Capabilities:  channelconfig.DefaultApplicationCapabilities(),
			},
		}
	}
	bundleOf := func(p *channelconfig.Profile) (*channelconfig.Bundle, *common.Block) {
		group := check(channelconfig.NewChannelGroup(p))(t)
		genesis := check(channelconfig.GenesisBlock(testChannelID, group))(t)
		cfgEnv, _, err := channelconfig.ConfigFromBlock(genesis)
		if err != nil {
			t.Fatal(err)
		}
		return check(channelconfig.NewBundle(testChannelID, cfgEnv.Config))(t), genesis
	}
	bundle, genesis := bundleOf(profile(org1, org2))
	f.bundleWithoutOrg1, _ = bundleOf(profile(org2))
	f.bundleSame, _ = bundleOf(profile(org1, org2))

	f.store = check(blockstore.Open(t.TempDir(), blockstore.Options{Sync: blockstore.SyncNever}))(t)
	t.Cleanup(func() { f.store.Close() })
	if err := f.store.Append(genesis); err != nil {
		t.Fatal(err)
	}
	f.ch = &testChannel{ledger: StoreLedger(f.store)}
	f.ch.bundle.Store(bundle)
	f.appendBlocks(t, extra)
	return f
}

// appendBlocks appends n data blocks, each with two signed transactions.
func (f *fixture) appendBlocks(t testing.TB, n int) {
	t.Helper()
	for range n {
		num := f.store.Height()
		b := channelconfig.NewBlock(num, f.store.LastHeaderHash())
		for i := range 2 {
			payload := []byte(fmt.Sprintf("tx %d.%d", num, i))
			sig := check(f.client.Sign(payload))(t)
			b.Data.Data = append(b.Data.Data, check(proto.Marshal(&common.Envelope{Payload: payload, Signature: sig}))(t))
		}
		b.Header.DataHash = channelconfig.BlockDataHash(b.Data)
		if err := f.store.Append(b); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) handler() *Handler {
	return &Handler{Source: testSource{testChannelID: f.ch}, Logger: quiet}
}

// abServer serves AtomicBroadcast/Deliver with a Handler.
type abServer struct {
	orderer.UnimplementedAtomicBroadcastServer
	h *Handler
}

func (s abServer) Deliver(srv orderer.AtomicBroadcast_DeliverServer) error {
	return s.h.Serve(OrdererStream(srv))
}

// serve starts an in-process gRPC server with the given registration and
// returns a client connection to it.
func serve(t testing.TB, register func(*grpc.Server), sopts []grpc.ServerOption, copts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(sopts...)
	register(srv)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(lis) }()
	if len(copts) == 0 {
		copts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	copts = append(copts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	conn := check(grpc.NewClient("passthrough:///bufnet", copts...))(t)
	t.Cleanup(func() { conn.Close(); srv.Stop(); wg.Wait() })
	return conn
}

func serveOrderer(t testing.TB, h *Handler) *grpc.ClientConn {
	return serve(t, func(s *grpc.Server) { orderer.RegisterAtomicBroadcastServer(s, abServer{h: h}) }, nil)
}

func pos(p any) *orderer.SeekPosition {
	switch v := p.(type) {
	case string:
		switch v {
		case "oldest":
			return &orderer.SeekPosition{Type: &orderer.SeekPosition_Oldest{Oldest: &orderer.SeekOldest{}}}
		case "newest":
			return &orderer.SeekPosition{Type: &orderer.SeekPosition_Newest{Newest: &orderer.SeekNewest{}}}
		case "next":
			return &orderer.SeekPosition{Type: &orderer.SeekPosition_NextCommit{NextCommit: &orderer.SeekNextCommit{}}}
		case "empty":
			return &orderer.SeekPosition{}
		}
	case int:
		return specified(uint64(v))
	case uint64:
		return specified(v)
	}
	return nil
}

func seekInfo(start, stop any) *orderer.SeekInfo {
	return &orderer.SeekInfo{Start: pos(start), Stop: pos(stop)}
}

func seekEnv(t testing.TB, s Signer, seek *orderer.SeekInfo) *common.Envelope {
	t.Helper()
	return check(NewSeekEnvelope(testChannelID, s, seek, nil, time.Now()))(t)
}

// result is what one seek request produced on a stream.
type result struct {
	blocks []*common.Block
	status common.Status
}

func (r result) numbers() []uint64 {
	var n []uint64
	for _, b := range r.blocks {
		n = append(n, b.Header.Number)
	}
	return n
}

// readUntilStatus reads responses of one request up to and including its
// status.
func readUntilStatus(t testing.TB, st orderer.AtomicBroadcast_DeliverClient) result {
	t.Helper()
	var r result
	for {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("recv after blocks %v: %v", r.numbers(), err)
		}
		switch v := resp.Type.(type) {
		case *orderer.DeliverResponse_Block:
			r.blocks = append(r.blocks, v.Block)
		case *orderer.DeliverResponse_Status:
			r.status = v.Status
			return r
		}
	}
}

func openDeliver(t testing.TB, conn *grpc.ClientConn) orderer.AtomicBroadcast_DeliverClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return check(orderer.NewAtomicBroadcastClient(conn).Deliver(ctx))(t)
}

// doRequest sends env on a fresh stream and returns the outcome.
func doRequest(t testing.TB, conn *grpc.ClientConn, env *common.Envelope) result {
	t.Helper()
	st := openDeliver(t, conn)
	if err := st.Send(env); err != nil {
		t.Fatal(err)
	}
	return readUntilStatus(t, st)
}
