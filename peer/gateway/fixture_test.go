package gateway_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/deliver"
	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/peer/gateway"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// ledger is an in-memory deliver.Ledger whose blocks carry a
// TRANSACTIONS_FILTER.
type ledger struct {
	mu     sync.Mutex
	blocks []*common.Block
	signal chan struct{}
}

func newLedger() *ledger { return &ledger{signal: make(chan struct{})} }

func (l *ledger) Height() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.blocks))
}

func (l *ledger) Block(n uint64) (*common.Block, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n >= uint64(len(l.blocks)) {
		return nil, errors.New("not found")
	}
	return l.blocks[n], nil
}

func (l *ledger) Iterator(from uint64) deliver.BlockIterator { return &iter{l: l, next: from} }

// commit appends a block made of envs with the given validation codes.
func (l *ledger) commit(envs []*common.Envelope, codes []peer.TxValidationCode) *common.Block {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &common.Block{Header: &common.BlockHeader{Number: uint64(len(l.blocks))}, Data: &common.BlockData{},
		Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	filter := make([]byte, len(envs))
	for i, e := range envs {
		raw, _ := proto.Marshal(e)
		b.Data.Data = append(b.Data.Data, raw)
		filter[i] = byte(codes[i])
	}
	b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = filter
	l.blocks = append(l.blocks, b)
	close(l.signal)
	l.signal = make(chan struct{})
	return b
}

type iter struct {
	l    *ledger
	next uint64
}

func (it *iter) Next(ctx context.Context) (*common.Block, error) {
	for {
		it.l.mu.Lock()
		if it.next < uint64(len(it.l.blocks)) {
			b := it.l.blocks[it.next]
			it.l.mu.Unlock()
			it.next++
			return b, nil
		}
		sig := it.l.signal
		it.l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-sig:
		}
	}
}

func (it *iter) Close() {}

// channel is a fake gateway.Channel over ledger.
type channel struct {
	bundle *channelconfig.Bundle
	ledger *ledger
	pc     gateway.PolicyChecker
}

func (c *channel) Bundle() *channelconfig.Bundle   { return c.bundle }
func (c *channel) Ledger() deliver.Ledger          { return c.ledger }
func (c *channel) Policies() gateway.PolicyChecker { return c.pc }

func (c *channel) WaitForTx(ctx context.Context, txID string) (peer.TxValidationCode, uint64, error) {
	for {
		c.ledger.mu.Lock()
		sig := c.ledger.signal
		for _, b := range c.ledger.blocks {
			for i, raw := range b.Data.Data {
				env := &common.Envelope{}
				pl := &common.Payload{}
				ch := &common.ChannelHeader{}
				if proto.Unmarshal(raw, env) == nil && proto.Unmarshal(env.Payload, pl) == nil &&
					proto.Unmarshal(pl.GetHeader().GetChannelHeader(), ch) == nil && ch.TxId == txID {
					c.ledger.mu.Unlock()
					return peer.TxValidationCode(b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER][i]), b.Header.Number, nil
				}
			}
		}
		c.ledger.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-sig:
		}
	}
}

type channels map[string]gateway.Channel

func (c channels) Channel(id string) (gateway.Channel, bool) { ch, ok := c[id]; return ch, ok }

// policies maps namespaces to signature policies; others use the
// channel's /Channel/Application/Endorsement.
type policies struct {
	bundle *channelconfig.Bundle
	byNS   map[string]string
}

func (p policies) CheckEndorsement(ns string, _ *kvrwset.KVRWSet, sd []policy.SignedData) error {
	if dsl, ok := p.byNS[ns]; ok {
		env, err := policy.FromString(dsl)
		if err != nil {
			return err
		}
		pol, err := policy.NewSignaturePolicy(env, p.bundle.MSPManager())
		if err != nil {
			return err
		}
		return pol.EvaluateSignedData(sd)
	}
	pol, ok := p.bundle.PolicyManager().Policy("/Channel/Application/Endorsement")
	if !ok {
		return errors.New("no endorsement policy")
	}
	return pol.EvaluateSignedData(sd)
}

// broadcaster is a fake orderer answering every envelope with status.
type broadcaster struct {
	orderer.UnimplementedAtomicBroadcastServer
	mu       sync.Mutex
	status   common.Status
	received []*common.Envelope
	onRecv   func(*common.Envelope)
}

func (b *broadcaster) Broadcast(srv orderer.AtomicBroadcast_BroadcastServer) error {
	for {
		env, err := srv.Recv()
		if err != nil {
			return nil
		}
		b.mu.Lock()
		b.received = append(b.received, env)
		st, on := b.status, b.onRecv
		b.mu.Unlock()
		if on != nil && st == common.Status_SUCCESS {
			on(env)
		}
		if err := srv.Send(&orderer.BroadcastResponse{Status: st, Info: "fake"}); err != nil {
			return err
		}
	}
}

func (b *broadcaster) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.received)
}

// countingEndorser counts ProcessProposal calls of the remote peer.
type countingEndorser struct {
	peer.UnimplementedEndorserServer
	mu    sync.Mutex
	calls int
	e     *endorser.Endorser
}

func (c *countingEndorser) ProcessProposal(ctx context.Context, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.e.ProcessProposal(ctx, sp)
}

func (c *countingEndorser) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func listen(t *testing.T) (net.Listener, string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return l, "127.0.0.1:" + strconv.Itoa(port), port
}

func serve(t *testing.T, l net.Listener, register func(*grpc.Server)) {
	t.Helper()
	s := grpc.NewServer()
	register(s)
	go s.Serve(l)
	t.Cleanup(s.Stop)
}

// fx is a channel with Org1 (this gateway's peer) and Org2 (a remote peer
// reachable at its anchor address) and two fake orderers.
type fx struct {
	net      *et.Network
	gw       *gateway.Gateway
	local    *endorser.Endorser
	remote   *countingEndorser
	org2Ch   *et.Channel // Org2's own view of the state
	org1Ch   *et.Channel
	ledger   *ledger
	ord      []*broadcaster
	dialed   map[string][][]byte
	dialedMu sync.Mutex
	// members is what the gateway's membership reports (empty at first).
	members *fakeMembership
}

// fakeMembership reports a settable list of live members.
type fakeMembership struct {
	mu      sync.Mutex
	members []gateway.Member
}

func (m *fakeMembership) set(ms ...gateway.Member) {
	m.mu.Lock()
	m.members = ms
	m.mu.Unlock()
}

func (m *fakeMembership) Members(channel string) []gateway.Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	if channel != et.ChannelID {
		return nil
	}
	return append([]gateway.Member(nil), m.members...)
}

type fxOptions struct {
	// deadAnchor points Org2's anchor at a closed port.
	deadAnchor bool
	// ordererStatus per fake orderer (default one SUCCESS orderer).
	ordererStatus []common.Status
	// deadOrderer adds an unreachable orderer endpoint first.
	deadOrderer bool
}

func newFx(t *testing.T, o fxOptions) *fx {
	t.Helper()
	f := &fx{ledger: newLedger(), dialed: map[string][][]byte{}, members: &fakeMembership{}}
	peerL, _, peerPort := listen(t)
	if o.deadAnchor {
		peerL.Close()
	}
	if o.ordererStatus == nil {
		o.ordererStatus = []common.Status{common.Status_SUCCESS}
	}
	var endpoints []string
	var ordLs []net.Listener
	if o.deadOrderer {
		l, addr, _ := listen(t)
		l.Close()
		endpoints = append(endpoints, addr)
	}
	for range o.ordererStatus {
		l, addr, _ := listen(t)
		ordLs = append(ordLs, l)
		endpoints = append(endpoints, addr)
	}
	f.net = et.NewNetwork(t, et.Options{
		Anchors:          map[string][]channelconfig.AnchorPeer{"Org2MSP": {{Host: "127.0.0.1", Port: peerPort}}},
		OrdererEndpoints: endpoints,
	})
	f.org1Ch = et.NewChannel(f.net.Bundle)
	f.org2Ch = et.NewChannel(f.net.Bundle)
	for _, ch := range []*et.Channel{f.org1Ch, f.org2Ch} {
		et.DefineChaincode(ch.State, endorser.Definition{Name: "basic", Version: "1.0", Sequence: 1},
			map[string]string{"Org1MSP": "basic:1", "Org2MSP": "basic:1"})
		et.DefineChaincode(ch.State, endorser.Definition{Name: "mine", Version: "1.0", Sequence: 1},
			map[string]string{"Org1MSP": "mine:1", "Org2MSP": "mine:1"})
		ch.State.Put("basic", "k", []byte("v"))
	}
	mk := func(o *et.Org, ch *et.Channel) *endorser.Endorser {
		return &endorser.Endorser{Channels: et.Channels{et.ChannelID: ch}, LocalMSP: o.LocalMSP, Signer: o.Peer,
			Lifecycle: et.Lifecycle{}, Executor: et.ExecFunc(et.KVChaincode)}
	}
	f.local = mk(f.net.Org1, f.org1Ch)
	f.remote = &countingEndorser{e: mk(f.net.Org2, f.org2Ch)}
	if !o.deadAnchor {
		serve(t, peerL, func(s *grpc.Server) { peer.RegisterEndorserServer(s, f.remote) })
	}
	for i, st := range o.ordererStatus {
		b := &broadcaster{status: st}
		f.ord = append(f.ord, b)
		serve(t, ordLs[i], func(s *grpc.Server) { orderer.RegisterAtomicBroadcastServer(s, b) })
	}
	ch := &channel{bundle: f.net.Bundle, ledger: f.ledger,
		pc: policies{bundle: f.net.Bundle, byNS: map[string]string{"mine": "OR('Org1MSP.peer')"}}}
	gw, err := gateway.New(gateway.Options{
		LocalMSPID: "Org1MSP", LocalAddress: "peer0.org1:7051", Local: f.local,
		Channels: channels{et.ChannelID: ch}, Membership: f.members,
		Dial: func(ctx context.Context, addr string, roots [][]byte) (grpc.ClientConnInterface, error) {
			f.dialedMu.Lock()
			f.dialed[addr] = roots
			f.dialedMu.Unlock()
			return grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	f.gw = gw
	return f
}

func args(ss ...string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func (f *fx) proposal(t *testing.T, cc string, a ...string) (*peer.SignedProposal, string) {
	t.Helper()
	sp, txID, err := endorser.NewSignedProposal(f.net.Org1.Client, endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: cc, Args: args(a...),
		Transient: map[string][]byte{"private": []byte("p")}})
	if err != nil {
		t.Fatal(err)
	}
	return sp, txID
}
