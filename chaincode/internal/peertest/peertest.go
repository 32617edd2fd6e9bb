// Package peertest runs chaincode servers under the real peer side of the
// chaincode protocol (peer/chaincode's runtime, transaction simulator and
// state database) for the tests of weft's Go chaincode packages.
package peertest

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/ledger/statedb"
	"weft/peer/chaincode"
	"weft/peer/txsim"
	"weft/wire/common"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/msp"
	pb "weft/wire/peer"
)

// Channel is the channel every transaction runs on.
const Channel = "mychannel"

// Epoch is the timestamp of every proposal (seconds since 1970).
const Epoch = 1700000000

// Peer simulates transactions of deployed chaincodes and commits the
// successful ones, one block per transaction.
type Peer struct {
	t  testing.TB
	db *statedb.DB
	rt *chaincode.Runtime
	// Creator is the MSP ID and certificate the proposals are made by.
	MSPID   string
	CertPEM []byte

	mu      sync.Mutex
	block   uint64
	seq     int
	history map[string][]*queryresult.KeyModification // ns \x00 key → oldest first
	ccs     map[string]deployed
}

type deployed struct {
	ccid string
	conn *chaincode.Connection
}

// New returns a peer over an empty state database.
func New(t testing.TB) *Peer {
	t.Helper()
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	rt := chaincode.NewRuntime(chaincode.Options{ExecuteTimeout: 10 * time.Second, StartupTimeout: 5 * time.Second})
	t.Cleanup(func() { rt.Close(); db.Close() })
	return &Peer{t: t, db: db, rt: rt, MSPID: "Org1MSP", CertPEM: []byte("-----BEGIN CERTIFICATE-----\nunchecked\n-----END CERTIFICATE-----\n"),
		history: map[string][]*queryresult.KeyModification{}, ccs: map[string]deployed{}}
}

// Deploy makes chaincode name run on the server at conn, registered as ccid.
func (p *Peer) Deploy(name, ccid string, conn *chaincode.Connection) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ccs[name] = deployed{ccid, conn}
}

// Result is the outcome of one transaction.
type Result struct {
	TxID  string
	Resp  *pb.Response
	Event *pb.ChaincodeEvent
	RWSet *rwset.TxReadWriteSet
}

// Call describes one transaction.
type Call struct {
	Name      string
	Args      []string
	Init      bool
	Commit    bool
	Transient map[string][]byte
}

// Invoke runs a transaction and commits it when it succeeds.
func (p *Peer) Invoke(name string, args ...string) (Result, error) {
	return p.Exec(Call{Name: name, Args: args, Commit: true})
}

// Query runs a transaction without committing it.
func (p *Peer) Query(name string, args ...string) (Result, error) {
	return p.Exec(Call{Name: name, Args: args})
}

// Exec runs c. The error is for failures to run the chaincode at all.
func (p *Peer) Exec(c Call) (Result, error) {
	p.mu.Lock()
	p.seq++
	txid := fmt.Sprintf("tx%04d", p.seq)
	p.mu.Unlock()
	sim := txsim.New(p.db, txid, txsim.WithHistory(p.historyOf))
	defer sim.Done()
	in := &pb.ChaincodeInput{IsInit: c.Init}
	for _, a := range c.Args {
		in.Args = append(in.Args, []byte(a))
	}
	resp, ev, err := p.execute(context.Background(), c.Name, txid, sim, in, c.Init, c.Transient)
	if err != nil {
		return Result{TxID: txid}, err
	}
	rws, err := sim.Results()
	if err != nil {
		return Result{TxID: txid}, err
	}
	if c.Commit && resp.GetStatus() == 200 {
		if err := p.commit(txid, rws); err != nil {
			return Result{TxID: txid}, err
		}
	}
	return Result{TxID: txid, Resp: resp, Event: ev, RWSet: rws}, nil
}

func (p *Peer) execute(ctx context.Context, name, txid string, sim *txsim.Simulator, in *pb.ChaincodeInput, isInit bool, transient map[string][]byte) (*pb.Response, *pb.ChaincodeEvent, error) {
	p.mu.Lock()
	cc, ok := p.ccs[name]
	p.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("chaincode %s is not deployed", name)
	}
	sp, err := p.proposal(txid, name, transient)
	if err != nil {
		return nil, nil, err
	}
	tc := &txContext{p: p, sim: sim, txid: txid, name: name, sp: sp}
	return p.rt.Execute(ctx, cc.ccid, cc.conn, tc, in, isInit)
}

// txContext is the runtime's view of one transaction.
type txContext struct {
	p          *Peer
	sim        *txsim.Simulator
	txid, name string
	sp         *pb.SignedProposal
}

func (c *txContext) Simulator() *txsim.Simulator        { return c.sim }
func (c *txContext) ChannelID() string                  { return Channel }
func (c *txContext) TxID() string                       { return c.txid }
func (c *txContext) SignedProposal() *pb.SignedProposal { return c.sp }
func (c *txContext) ChaincodeName() string              { return c.name }

// InvokeChaincode runs the callee in the caller's simulation, as a peer
// does for a call on the same channel.
func (c *txContext) InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error) {
	if channel != Channel {
		return nil, nil, fmt.Errorf("channel %s is not joined", channel)
	}
	return c.p.execute(ctx, name, c.txid, c.sim, &pb.ChaincodeInput{Args: args}, false, nil)
}

func (p *Peer) proposal(txid, name string, transient map[string][]byte) (*pb.SignedProposal, error) {
	var firstErr error
	must := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return b
	}
	creator := must(&msp.SerializedIdentity{Mspid: p.MSPID, IdBytes: p.CertPEM})
	hdr := &common.Header{
		ChannelHeader: must(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: Channel, TxId: txid,
			Timestamp: timestamppb.New(time.Unix(Epoch, 0))}),
		SignatureHeader: must(&common.SignatureHeader{Creator: creator, Nonce: []byte("nonce-" + txid)}),
	}
	cis := must(&pb.ChaincodeInvocationSpec{ChaincodeSpec: &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: name}}})
	prop := must(&pb.Proposal{Header: must(hdr), Payload: must(&pb.ChaincodeProposalPayload{Input: cis, TransientMap: transient})})
	return &pb.SignedProposal{ProposalBytes: prop, Signature: []byte("unchecked")}, firstErr
}

func (p *Peer) historyOf(ns, key string) ([]*queryresult.KeyModification, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.history[ns+"\x00"+key]
	out := make([]*queryresult.KeyModification, len(h))
	// Newest first, as Fabric returns history.
	for i, m := range h {
		out[len(h)-1-i] = m
	}
	return out, nil
}

// commit applies the writes of rws as the only transaction of a new block.
func (p *Peer) commit(txid string, rws *rwset.TxReadWriteSet) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.block++
	v := statedb.Version{BlockNum: p.block}
	ts := timestamppb.New(time.Unix(Epoch+int64(p.block), 0))
	b := statedb.NewUpdateBatch()
	for _, ns := range rws.GetNsRwset() {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(ns.GetRwset(), kv); err != nil {
			return fmt.Errorf("namespace %s: %w", ns.GetNamespace(), err)
		}
		for _, w := range kv.GetWrites() {
			if w.GetIsDelete() {
				b.Delete(ns.GetNamespace(), w.GetKey(), v)
			} else {
				b.Put(ns.GetNamespace(), w.GetKey(), w.GetValue(), nil, v)
			}
			hk := ns.GetNamespace() + "\x00" + w.GetKey()
			p.history[hk] = append(p.history[hk], &queryresult.KeyModification{TxId: txid, Value: w.GetValue(), Timestamp: ts, IsDelete: w.GetIsDelete()})
		}
	}
	return p.db.Commit(b, p.block)
}

// Writes returns the writes of namespace ns in rws, key → value, with
// "<deleted>" for deletes.
func Writes(rws *rwset.TxReadWriteSet, ns string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range rws.GetNsRwset() {
		if n.GetNamespace() != ns {
			continue
		}
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
			return nil, err
		}
		for _, w := range kv.GetWrites() {
			if w.GetIsDelete() {
				out[w.GetKey()] = "<deleted>"
			} else {
				out[w.GetKey()] = string(w.GetValue())
			}
		}
	}
	return out, nil
}

// Keys returns the sorted keys of m.
func Keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
