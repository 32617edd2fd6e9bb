package chaincode

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	pb "weft/wire/peer"
)

// testLedger is a minimal committer over a real state database: it applies
// the writes of one simulated transaction per block and keeps what the
// history index needs (tx id, value, time) by version.
type testLedger struct {
	t     *testing.T
	db    *statedb.DB
	mu    sync.Mutex
	block uint64
	mods  map[string]*queryresult.KeyModification // ns \x00 key \x00 version
}

func newTestLedger(t *testing.T) *testLedger {
	t.Helper()
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testLedger{t: t, db: db, mods: map[string]*queryresult.KeyModification{}}
}

func modKey(ns, key string, v statedb.Version) string {
	return fmt.Sprintf("%s\x00%s\x00%d.%d", ns, key, v.BlockNum, v.TxNum)
}

func (l *testLedger) sim(txid string) *txsim.Simulator {
	return txsim.New(l.db, txid, txsim.WithHistory(l.history))
}

func (l *testLedger) history(ns, key string) ([]*queryresult.KeyModification, error) {
	vs, err := l.db.History(ns, key)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*queryresult.KeyModification
	for _, v := range vs {
		m, ok := l.mods[modKey(ns, key, v)]
		if !ok {
			return nil, fmt.Errorf("no history record for %s/%q at %v", ns, key, v)
		}
		out = append(out, m)
	}
	return out, nil
}

// commit applies the writes of rws as the only transaction of a new block.
func (l *testLedger) commit(txid string, rws *rwset.TxReadWriteSet) {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.block++
	v := statedb.Version{BlockNum: l.block}
	b := statedb.NewUpdateBatch()
	ts := timestamppb.New(time.Unix(1700000000+int64(l.block), 0))
	for _, ns := range rws.GetNsRwset() {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(ns.GetRwset(), kv); err != nil {
			l.t.Fatal(err)
		}
		mds := map[string][]byte{}
		for _, mw := range kv.GetMetadataWrites() {
			md, err := txsim.MarshalMetadataEntries(mw.GetEntries())
			if err != nil {
				l.t.Fatal(err)
			}
			mds[mw.GetKey()] = md
		}
		written := map[string]bool{}
		for _, w := range kv.GetWrites() {
			written[w.GetKey()] = true
			if w.GetIsDelete() {
				b.Delete(ns.GetNamespace(), w.GetKey(), v)
			} else {
				b.Put(ns.GetNamespace(), w.GetKey(), w.GetValue(), mds[w.GetKey()], v)
			}
			l.mods[modKey(ns.GetNamespace(), w.GetKey(), v)] = &queryresult.KeyModification{
				TxId: txid, Value: w.GetValue(), Timestamp: ts, IsDelete: w.GetIsDelete()}
		}
		// A metadata-only write keeps the committed value.
		for key, md := range mds {
			if written[key] {
				continue
			}
			cur, err := l.db.Get(ns.GetNamespace(), key)
			if err != nil || cur == nil {
				l.t.Fatalf("metadata write of %q without a value: %v", key, err)
			}
			b.Put(ns.GetNamespace(), key, cur.Value, md, v)
		}
	}
	if err := l.db.Commit(b, l.block); err != nil {
		l.t.Fatal(err)
	}
}

// put commits plain key/values to ns in one block.
func (l *testLedger) put(ns string, kvs ...string) {
	l.t.Helper()
	l.mu.Lock()
	l.block++
	blk := l.block
	l.mu.Unlock()
	b := statedb.NewUpdateBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Put(ns, kvs[i], []byte(kvs[i+1]), nil, statedb.Version{BlockNum: blk})
	}
	if err := l.db.Commit(b, blk); err != nil {
		l.t.Fatal(err)
	}
}

// fakeTx is the TxContext of a test invocation.
type fakeTx struct {
	sim           *txsim.Simulator
	channel, txid string
	name          string
	sp            *pb.SignedProposal
	invoke        func(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error)
}

func (f *fakeTx) Simulator() *txsim.Simulator        { return f.sim }
func (f *fakeTx) ChannelID() string                  { return f.channel }
func (f *fakeTx) TxID() string                       { return f.txid }
func (f *fakeTx) SignedProposal() *pb.SignedProposal { return f.sp }
func (f *fakeTx) ChaincodeName() string              { return f.name }
func (f *fakeTx) InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error) {
	if f.invoke == nil {
		return nil, nil, fmt.Errorf("no chaincode %s", name)
	}
	return f.invoke(ctx, name, args, channel)
}

func newTestRuntime(t *testing.T, opts Options) *Runtime {
	t.Helper()
	if opts.ExecuteTimeout == 0 {
		opts.ExecuteTimeout = 5 * time.Second
	}
	if opts.StartupTimeout == 0 {
		opts.StartupTimeout = 2 * time.Second
	}
	r := NewRuntime(opts)
	t.Cleanup(func() { r.Close() })
	return r
}

func input(args ...string) *pb.ChaincodeInput {
	in := &pb.ChaincodeInput{}
	for _, a := range args {
		in.Args = append(in.Args, []byte(a))
	}
	return in
}

// nsWrites returns the writes of namespace ns in rws as key → value ("<del>" for deletes).
func nsWrites(t *testing.T, rws *rwset.TxReadWriteSet, ns string) (*kvrwset.KVRWSet, map[string]string) {
	t.Helper()
	out := map[string]string{}
	for _, n := range rws.GetNsRwset() {
		if n.GetNamespace() != ns {
			continue
		}
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
			t.Fatal(err)
		}
		for _, w := range kv.GetWrites() {
			if w.GetIsDelete() {
				out[w.GetKey()] = "<del>"
			} else {
				out[w.GetKey()] = string(w.GetValue())
			}
		}
		return kv, out
	}
	return &kvrwset.KVRWSet{}, out
}
