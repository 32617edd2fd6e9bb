package channel

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

func TestJoinOpenRoundTrip(t *testing.T) {
	f := newFixture(t, 0)
	dir := filepath.Join(t.TempDir(), testChannel)
	c := must(Join(dir, f.genesis, f.deps()))
	if c.ID() != testChannel || c.Height() != 1 || c.Bundle().Sequence() != 0 {
		t.Fatalf("joined: id %q height %d seq %d", c.ID(), c.Height(), c.Bundle().Sequence())
	}
	b := must(c.Store().Block(0))
	if got := txCode(b, 0); got != peer.TxValidationCode_VALID {
		t.Fatalf("genesis filter: %v", got)
	}
	if len(f.genesis.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]) != 0 {
		t.Fatal("Join modified the caller's genesis block")
	}
	if sp, ok := c.State().Savepoint(); !ok || sp != 0 {
		t.Fatalf("savepoint %d %v", sp, ok)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Join(dir, f.genesis, f.deps()); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second join: %v", err)
	}
	c = must(Open(dir, testChannel, f.deps()))
	defer c.Close()
	if c.Height() != 1 || c.Bundle().ChannelID() != testChannel {
		t.Fatalf("reopened: height %d channel %q", c.Height(), c.Bundle().ChannelID())
	}
	if !proto.Equal(c.Bundle().Config(), f.bundle.Config()) {
		t.Fatal("reopened config differs")
	}
}

func TestJoinRejects(t *testing.T) {
	f := newFixture(t, 0)
	withNumber := proto.Clone(f.genesis).(*common.Block)
	withNumber.Header.Number = 1
	badHash := proto.Clone(f.genesis).(*common.Block)
	badHash.Header.DataHash = []byte("nope")
	dataBlock := channelconfig.NewBlock(0, nil)
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	dataBlock.Data.Data = [][]byte{tx}
	dataBlock.Header.DataHash = channelconfig.BlockDataHash(dataBlock.Data)
	cases := []struct {
		name  string
		dir   string
		block *common.Block
		want  string
	}{
		{"empty dir", "", f.genesis, "dir: empty"},
		{"nil block", "x", nil, "missing header"},
		{"block 1", "x", withNumber, "number is 1"},
		{"bad data hash", "x", badHash, "data_hash"},
		{"not a config block", "x", dataBlock, "genesis block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir != "" {
				dir = filepath.Join(t.TempDir(), dir)
			}
			c, err := Join(dir, tc.block, f.deps())
			if err == nil {
				c.Close()
				t.Fatal("join succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	f := newFixture(t, 0)
	dir := filepath.Join(t.TempDir(), testChannel)
	must(Join(dir, f.genesis, f.deps())).Close()
	cases := []struct {
		name, dir, channel, want string
	}{
		{"no dir", filepath.Join(t.TempDir(), "none"), testChannel, "no block store"},
		{"empty dir arg", "", testChannel, "dir: empty"},
		{"bad channel id", dir, "Bad Name", "channel id"},
		{"other channel", dir, "otherchannel", "belongs to channel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(tc.dir, tc.channel, f.deps())
			if err == nil {
				c.Close()
				t.Fatal("open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// storeOnly appends b with codes as its filter to the block store without
// touching the state: a crash between the two commits.
func storeOnly(t *testing.T, c *Channel, b *common.Block, codes ...peer.TxValidationCode) {
	t.Helper()
	b = proto.Clone(b).(*common.Block)
	setFilter(b, codes)
	if err := c.store.Append(b); err != nil {
		t.Fatal(err)
	}
}

func TestRecovery(t *testing.T) {
	f := newFixture(t, 0)
	tx1, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"a", []byte("1")}, {"b", []byte("1")}}})
	tx2, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"a", []byte("2")}}})
	invalid, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"c", []byte("never")}}})
	tx3, _ := f.endorserTx(t, txOpts{
		writes: []kvWrite{{"b", nil}},
		meta:   []*kvrwset.KVMetadataWrite{{Key: "a", Entries: []*kvrwset.KVMetadataEntry{{Name: "VALIDATION_PARAMETER", Value: []byte("p")}}}},
	})
	tx4, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"a", []byte("4")}}})
	b1 := newBlock(t, 1, f.genesis, [][]byte{tx1, invalid, tx2}, f.orderer, 0)
	b2 := newBlock(t, 2, b1, [][]byte{tx3}, f.orderer, 0)
	b3 := newBlock(t, 3, b2, [][]byte{tx4}, f.orderer, 0)

	type want struct {
		value, meta string
		version     statedb.Version
	}
	expect := map[string]*want{
		"a": {"4", "p", statedb.Version{BlockNum: 3}}, // value write keeps metadata
		"b": nil,                                      // deleted in block 2
		"c": nil,                                      // only written by an invalid tx
	}
	check := func(t *testing.T, c *Channel) {
		t.Helper()
		if sp, ok := c.State().Savepoint(); !ok || sp != 3 {
			t.Fatalf("savepoint %d %v, want 3", sp, ok)
		}
		if c.Height() != 4 {
			t.Fatalf("height %d", c.Height())
		}
		for key, w := range expect {
			vv := must(c.State().Get("basic", key))
			if w == nil {
				if vv != nil {
					t.Fatalf("key %q: %q, want absent", key, vv.Value)
				}
				continue
			}
			if vv == nil || string(vv.Value) != w.value || vv.Version != w.version {
				t.Fatalf("key %q: %+v, want %+v", key, vv, w)
			}
			md := must(txsim.UnmarshalMetadata(vv.Metadata))
			if string(md["VALIDATION_PARAMETER"]) != w.meta {
				t.Fatalf("key %q metadata %q, want %q", key, md, w.meta)
			}
		}
		hist := must(c.State().History("basic", "a"))
		wantHist := []statedb.Version{{BlockNum: 3}, {BlockNum: 2}, {BlockNum: 1, TxNum: 2}, {BlockNum: 1}}
		if len(hist) != len(wantHist) {
			t.Fatalf("history of a: %v, want %v", hist, wantHist)
		}
		for i := range hist {
			if hist[i] != wantHist[i] {
				t.Fatalf("history of a: %v, want %v", hist, wantHist)
			}
		}
	}

	t.Run("savepoint behind", func(t *testing.T) {
		dir := t.TempDir()
		c := must(Join(dir, f.genesis, f.deps()))
		storeOnly(t, c, b1, peer.TxValidationCode_VALID, peer.TxValidationCode_MVCC_READ_CONFLICT, peer.TxValidationCode_VALID)
		storeOnly(t, c, b2, peer.TxValidationCode_VALID)
		storeOnly(t, c, b3, peer.TxValidationCode_VALID)
		c.Close()
		c = must(Open(dir, testChannel, f.deps()))
		defer c.Close()
		check(t, c)
	})
	t.Run("state deleted", func(t *testing.T) {
		dir := t.TempDir()
		c := must(Join(dir, f.genesis, f.deps()))
		storeOnly(t, c, b1, peer.TxValidationCode_VALID, peer.TxValidationCode_MVCC_READ_CONFLICT, peer.TxValidationCode_VALID)
		storeOnly(t, c, b2, peer.TxValidationCode_VALID)
		storeOnly(t, c, b3, peer.TxValidationCode_VALID)
		c.Close()
		c = must(Open(dir, testChannel, f.deps()))
		check(t, c)
		c.Close()
		if err := os.Remove(filepath.Join(dir, StateDBFile)); err != nil {
			t.Fatal(err)
		}
		c = must(Open(dir, testChannel, f.deps()))
		defer c.Close()
		check(t, c)
	})
	t.Run("state ahead of blocks", func(t *testing.T) {
		dir := t.TempDir()
		c := must(Join(dir, f.genesis, f.deps()))
		if err := c.State().Commit(statedb.NewUpdateBatch(), 5); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if c, err := Open(dir, testChannel, f.deps()); err == nil || !strings.Contains(err.Error(), "ahead") {
			if err == nil {
				c.Close()
			}
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("undecodable valid tx", func(t *testing.T) {
		dir := t.TempDir()
		c := must(Join(dir, f.genesis, f.deps()))
		storeOnly(t, c, newBlock(t, 1, f.genesis, [][]byte{[]byte("junk")}, f.orderer, 0), peer.TxValidationCode_VALID)
		c.Close()
		if c, err := Open(dir, testChannel, f.deps()); err == nil || !strings.Contains(err.Error(), "replay block 1") {
			if err == nil {
				c.Close()
			}
			t.Fatalf("open: %v", err)
		}
	})
}

func TestBundleSkipsInvalidConfigBlock(t *testing.T) {
	f := newFixture(t, 0)
	dir := t.TempDir()
	c := must(Join(dir, f.genesis, f.deps()))
	cfg := f.configTx(t, f.bundle, 3e9)
	b1 := newBlock(t, 1, f.genesis, [][]byte{cfg}, f.orderer, 1)
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	b2 := newBlock(t, 2, b1, [][]byte{tx}, f.orderer, 1)
	storeOnly(t, c, b1, peer.TxValidationCode_INVALID_CONFIG_TRANSACTION)
	storeOnly(t, c, b2, peer.TxValidationCode_VALID)
	c.Close()
	c = must(Open(dir, testChannel, f.deps()))
	if c.Bundle().Sequence() != 0 {
		t.Fatalf("bundle sequence %d, want the genesis config", c.Bundle().Sequence())
	}
	c.Close()

	dir = t.TempDir()
	c = must(Join(dir, f.genesis, f.deps()))
	storeOnly(t, c, b1, peer.TxValidationCode_VALID)
	storeOnly(t, c, b2, peer.TxValidationCode_VALID)
	c.Close()
	c = must(Open(dir, testChannel, f.deps()))
	defer c.Close()
	if c.Bundle().Sequence() != 1 || c.Bundle().BatchTimeout() != 3e9 {
		t.Fatalf("bundle sequence %d timeout %v, want the config of block 1", c.Bundle().Sequence(), c.Bundle().BatchTimeout())
	}
}

func TestTxCodeAndFilter(t *testing.T) {
	b := channelconfig.NewBlock(1, nil)
	if got := txCode(b, 0); got != peer.TxValidationCode_INVALID_OTHER_REASON {
		t.Fatalf("empty filter: %v", got)
	}
	b.Metadata.Metadata = b.Metadata.Metadata[:1]
	setFilter(b, []peer.TxValidationCode{peer.TxValidationCode_VALID, peer.TxValidationCode_DUPLICATE_TXID})
	if len(b.Metadata.Metadata) != metadataSlots {
		t.Fatalf("metadata slots %d", len(b.Metadata.Metadata))
	}
	if !bytes.Equal(b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER], []byte{0, 9}) {
		t.Fatalf("filter %v", b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER])
	}
	for i, want := range []peer.TxValidationCode{0, 9, 255, 255} {
		idx := i
		if i == 3 {
			idx = -1
		}
		if got := txCode(b, idx); got != want {
			t.Fatalf("tx %d: %v, want %v", idx, got, want)
		}
	}
	if _, err := DecodeTx(nil); err == nil {
		t.Fatal("DecodeTx(nil) succeeded")
	}
	if _, err := DecodeTxHeader([]byte("junk")); err == nil {
		t.Fatal("DecodeTxHeader(junk) succeeded")
	}
}

// dumpState renders namespace ns of the state with metadata, versions and
// the history of every key, for comparing two states.
func dumpState(t *testing.T, db *statedb.DB, ns string, keys []string) string {
	t.Helper()
	var sb strings.Builder
	it := must(db.GetRange(ns, "", ""))
	defer it.Close()
	for {
		kv := must(it.Next())
		if kv == nil {
			break
		}
		vv := must(db.Get(ns, kv.Key))
		fmt.Fprintf(&sb, "%q=%q md=%x v=%v\n", kv.Key, vv.Value, vv.Metadata, vv.Version)
	}
	for _, k := range keys {
		fmt.Fprintf(&sb, "history %q: %v\n", k, must(db.History(ns, k)))
	}
	return sb.String()
}

// TestReplayMatchesValidator commits blocks through the validator, then
// rebuilds the state from the blocks alone: both must agree exactly,
// history included.
func TestReplayMatchesValidator(t *testing.T) {
	f := newFixture(t, 0)
	dir := t.TempDir()
	c := must(Join(dir, f.genesis, f.deps()))
	md := func(key, v string) *kvrwset.KVMetadataWrite {
		var e []*kvrwset.KVMetadataEntry
		if v != "" {
			e = []*kvrwset.KVMetadataEntry{{Name: "VALIDATION_PARAMETER", Value: []byte(v)}}
		}
		return &kvrwset.KVMetadataWrite{Key: key, Entries: e}
	}
	blocks := [][]txOpts{
		{{writes: []kvWrite{{"a", []byte("1")}, {"b", []byte("1")}, {"c", []byte("1")}}}, {writes: []kvWrite{{"a", []byte("2")}}}},
		{{writes: []kvWrite{{"a", []byte("3")}}, meta: []*kvrwset.KVMetadataWrite{md("a", "pa")}}, {meta: []*kvrwset.KVMetadataWrite{md("b", "pb"), md("nokey", "x")}}},
		{{writes: []kvWrite{{"b", []byte("4")}, {"c", nil}}}, {meta: []*kvrwset.KVMetadataWrite{md("a", "")}}, {writes: []kvWrite{{"d", []byte("5")}}, badSig: true}},
	}
	prev := f.genesis
	for i, opts := range blocks {
		var envs [][]byte
		for _, o := range opts {
			env, _ := f.endorserTx(t, o)
			envs = append(envs, env)
		}
		b := newBlock(t, uint64(i+1), prev, envs, f.orderer, 0)
		if err := c.commitBlock(b); err != nil {
			t.Fatalf("block %d: %v", i+1, err)
		}
		prev = b
	}
	keys := []string{"a", "b", "c", "d", "nokey"}
	want := dumpState(t, c.State(), "basic", keys)
	if !strings.Contains(want, `"b"="4" md=`) || strings.Contains(want, `"d"=`) {
		t.Fatalf("validator produced an unexpected state:\n%s", want)
	}
	c.Close()
	if err := os.Remove(filepath.Join(dir, StateDBFile)); err != nil {
		t.Fatal(err)
	}
	c = must(Open(dir, testChannel, f.deps()))
	defer c.Close()
	if got := dumpState(t, c.State(), "basic", keys); got != want {
		t.Fatalf("replayed state differs\n got:\n%s\nwant:\n%s", got, want)
	}
}
