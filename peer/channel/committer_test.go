package channel

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

func waitTx(t *testing.T, c *Channel, txID string) (peer.TxValidationCode, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, num, err := c.WaitForTx(ctx, txID)
	if err != nil {
		t.Fatalf("wait for %s: %v", txID, err)
	}
	return code, num
}

func TestCommitterPullsAndCommits(t *testing.T) {
	f := newFixture(t, 1)
	txA, idA := f.endorserTx(t, txOpts{
		writes: []kvWrite{{"k1", []byte("v1")}},
		event:  &peer.ChaincodeEvent{ChaincodeId: "basic", EventName: "created", Payload: []byte("p")},
	})
	txBad, idBad := f.endorserTx(t, txOpts{writes: []kvWrite{{"bad", []byte("x")}}, badSig: true})
	b1 := newBlock(t, 1, f.genesis, [][]byte{txA, txBad, txA}, f.orderer, 0)
	ord := f.startOrderer(t, 0, b1)

	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if code, num := waitTx(t, c, idA); code != peer.TxValidationCode_VALID || num != 1 {
		t.Fatalf("tx A: %v in block %d", code, num)
	}
	if code, _ := waitTx(t, c, idBad); code != peer.TxValidationCode_BAD_CREATOR_SIGNATURE {
		t.Fatalf("bad signature tx: %v", code)
	}
	stored := must(c.Store().Block(1))
	wantFilter := []byte{byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_BAD_CREATOR_SIGNATURE), byte(peer.TxValidationCode_DUPLICATE_TXID)}
	if got := stored.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]; !bytes.Equal(got, wantFilter) {
		t.Fatalf("filter %v, want %v", got, wantFilter)
	}

	// Blocks ordered after the committer caught up arrive on the same stream:
	// a config update, then a block with a fresh and a stale read.
	b2 := newBlock(t, 2, b1, [][]byte{f.configTx(t, f.bundle, 5*time.Second)}, f.orderer, 2)
	txC, idC := f.endorserTx(t, txOpts{
		reads:  []*kvrwset.KVRead{{Key: "k1", Version: &kvrwset.Version{BlockNum: 1, TxNum: 0}}},
		writes: []kvWrite{{"k2", []byte("v2")}},
	})
	txD, idD := f.endorserTx(t, txOpts{
		reads:  []*kvrwset.KVRead{{Key: "k1", Version: &kvrwset.Version{BlockNum: 0, TxNum: 0}}},
		writes: []kvWrite{{"k3", []byte("v3")}},
	})
	b3 := newBlock(t, 3, b2, [][]byte{txC, txD}, f.orderer, 2)
	ord.append(t, b2, b3)

	if code, num := waitTx(t, c, idC); code != peer.TxValidationCode_VALID || num != 3 {
		t.Fatalf("tx C: %v in block %d", code, num)
	}
	if code, _ := waitTx(t, c, idD); code != peer.TxValidationCode_MVCC_READ_CONFLICT {
		t.Fatalf("stale read: %v", code)
	}
	if seq, bt := c.Bundle().Sequence(), c.Bundle().BatchTimeout(); seq != 1 || bt != 5*time.Second {
		t.Fatalf("bundle after config block: sequence %d timeout %v", seq, bt)
	}
	if code := txCode(must(c.Store().Block(2)), 0); code != peer.TxValidationCode_VALID {
		t.Fatalf("config block code %v", code)
	}
	for key, want := range map[string]string{"k1": "v1", "k2": "v2", "k3": "", "bad": ""} {
		vv := must(c.State().Get("basic", key))
		if (want == "") != (vv == nil) || (vv != nil && string(vv.Value) != want) {
			t.Fatalf("state %q = %v, want %q", key, vv, want)
		}
	}
	if sp, _ := c.State().Savepoint(); sp != 3 || c.Height() != 4 {
		t.Fatalf("savepoint %d height %d", sp, c.Height())
	}
	c.Stop()
	c.Stop()
}

func TestCommitterFailsOverFromBadOrderer(t *testing.T) {
	f := newFixture(t, 2)
	tx, id := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	good := newBlock(t, 1, f.genesis, [][]byte{tx}, f.orderer, 0)
	forged := proto.Clone(good).(*common.Block)
	signBlock(t, forged, f.rogue, 0)
	bad := f.startOrderer(t, 0, forged)
	f.startOrderer(t, 1, good)

	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if code, num := waitTx(t, c, id); code != peer.TxValidationCode_VALID || num != 1 {
		t.Fatalf("tx: %v in block %d", code, num)
	}
	if bad.requests.Load() == 0 {
		t.Fatal("the first orderer was never asked")
	}
	stored := must(c.Store().Block(1))
	sigs := common.BlockMetadataIndex_SIGNATURES
	if !bytes.Equal(stored.Metadata.Metadata[sigs], good.Metadata.Metadata[sigs]) {
		t.Fatal("stored block 1 does not carry the good orderer's signature")
	}
}

func TestCommitterRetriesBadOrderer(t *testing.T) {
	f := newFixture(t, 1)
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	bad := f.startOrderer(t, 0, newBlock(t, 1, f.genesis, [][]byte{tx}, f.rogue, 0))
	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for bad.requests.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests to the orderer", bad.requests.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Stop()
	if c.Height() != 1 || c.Store().Height() != 1 {
		t.Fatalf("a block signed by a non-orderer was committed: height %d/%d", c.Height(), c.Store().Height())
	}
}

func TestCommitterNeedsTLSRootsAndSigner(t *testing.T) {
	f := newFixture(t, 0)
	deps := f.deps()
	deps.Signer = nil
	c := must(Join(t.TempDir(), f.genesis, deps))
	defer c.Close()
	if err := c.Start(); err == nil || !strings.Contains(err.Error(), "signer") {
		t.Fatalf("start without signer: %v", err)
	}
	c.Close()
	if err := c.Start(); err == nil {
		t.Fatal("start after close succeeded")
	}
}

func TestVerifyBlock(t *testing.T) {
	f := newFixture(t, 0)
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	prev := channelconfig.BlockHeaderHash(f.genesis.Header)
	good := newBlock(t, 1, f.genesis, [][]byte{tx}, f.orderer, 0)
	if err := verifyBlock(f.bundle, good, 1, prev); err != nil {
		t.Fatalf("good block: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(b *common.Block)
		want   string
	}{
		{"wrong number", func(b *common.Block) { b.Header.Number = 2; signBlock(t, b, f.orderer, 0) }, "number 2"},
		{"wrong previous hash", func(b *common.Block) { b.Header.PreviousHash = []byte("x"); signBlock(t, b, f.orderer, 0) }, "previous_hash"},
		{"data changed", func(b *common.Block) { b.Data.Data[0] = []byte("other") }, "data_hash"},
		{"no transactions", func(b *common.Block) { b.Data.Data = nil; signBlock(t, b, f.orderer, 0) }, "no transactions"},
		{"no signatures", func(b *common.Block) {
			b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = must(proto.Marshal(&common.Metadata{}))
		}, "no signatures"},
		{"junk signatures metadata", func(b *common.Block) { b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = []byte{0xff} }, "SIGNATURES"},
		{"short metadata", func(b *common.Block) { b.Metadata.Metadata = nil }, "no SIGNATURES"},
		{"signed by a peer", func(b *common.Block) { signBlock(t, b, f.rogue, 0) }, "BlockValidation"},
		{"signature over other header", func(b *common.Block) {
			other := proto.Clone(b).(*common.Block)
			other.Header.Number = 7
			signBlock(t, other, f.orderer, 0)
			b.Metadata = other.Metadata
		}, "BlockValidation"},
		{"missing header", func(b *common.Block) { b.Header = nil }, "missing header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := proto.Clone(good).(*common.Block)
			tc.mutate(b)
			err := verifyBlock(f.bundle, b, 1, prev)
			if err == nil || !errors.Is(err, ErrBadBlock) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrBadBlock mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCommitBlockConfig(t *testing.T) {
	f := newFixture(t, 0)
	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	stale := f.configTx(t, f.bundle, 4*time.Second)
	b1 := newBlock(t, 1, f.genesis, [][]byte{f.configTx(t, f.bundle, 3*time.Second)}, f.orderer, 1)
	// Authorised against the genesis config, so out of date after block 1.
	b2 := newBlock(t, 2, b1, [][]byte{stale}, f.orderer, 2)
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	b3 := newBlock(t, 3, b2, [][]byte{tx, stale}, f.orderer, 2)
	for _, b := range []*common.Block{b1, b2, b3} {
		if err := c.commitBlock(b); err != nil {
			t.Fatalf("block %d: %v", b.Header.Number, err)
		}
	}
	codes := func(n uint64) []byte {
		return must(c.Store().Block(n)).Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	if got := codes(1); !bytes.Equal(got, []byte{0}) {
		t.Fatalf("valid config block: %v", got)
	}
	if got := codes(2); !bytes.Equal(got, []byte{byte(peer.TxValidationCode_INVALID_CONFIG_TRANSACTION)}) {
		t.Fatalf("stale config block: %v", got)
	}
	if got := codes(3); !bytes.Equal(got, []byte{0, byte(peer.TxValidationCode_INVALID_CONFIG_TRANSACTION)}) {
		t.Fatalf("config tx among others: %v", got)
	}
	if c.Bundle().Sequence() != 1 || c.Bundle().BatchTimeout() != 3*time.Second {
		t.Fatalf("bundle sequence %d timeout %v", c.Bundle().Sequence(), c.Bundle().BatchTimeout())
	}
	// A block that is not the next one is refused without changing anything.
	if err := c.commitBlock(b2); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("replayed block: %v", err)
	}
	if c.Height() != 4 {
		t.Fatalf("height %d", c.Height())
	}
}

func TestWaitForTx(t *testing.T) {
	f := newFixture(t, 0)
	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	tx, id := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})

	if _, _, err := c.WaitForTx(context.Background(), ""); err == nil {
		t.Fatal("empty tx id accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.WaitForTx(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unknown tx: %v", err)
	}

	type result struct {
		code peer.TxValidationCode
		num  uint64
		err  error
	}
	waiting := make(chan result, 1)
	go func() {
		code, num, err := c.WaitForTx(context.Background(), id)
		waiting <- result{code, num, err}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.commitBlock(newBlock(t, 1, f.genesis, [][]byte{tx}, f.orderer, 0)); err != nil {
		t.Fatal(err)
	}
	if r := <-waiting; r.err != nil || r.code != peer.TxValidationCode_VALID || r.num != 1 {
		t.Fatalf("waiter: %+v", r)
	}
	if code, num := waitTx(t, c, id); code != peer.TxValidationCode_VALID || num != 1 {
		t.Fatalf("committed tx: %v %d", code, num)
	}

	go func() {
		_, _, err := c.WaitForTx(context.Background(), "never")
		waiting <- result{err: err}
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if r := <-waiting; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("waiter at close: %v", r.err)
	}
}

func TestCommittedLedger(t *testing.T) {
	f := newFixture(t, 0)
	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	tx, _ := f.endorserTx(t, txOpts{writes: []kvWrite{{"k", []byte("v")}}})
	b1 := newBlock(t, 1, f.genesis, [][]byte{tx}, f.orderer, 0)
	l := c.Ledger()
	// Stored but not yet in the state: not visible.
	storeOnly(t, c, b1, peer.TxValidationCode_VALID)
	if l.Height() != 1 {
		t.Fatalf("height %d", l.Height())
	}
	if _, err := l.Block(1); err == nil {
		t.Fatal("uncommitted block visible")
	}
	it := l.Iterator(0)
	defer it.Close()
	if b := must(it.Next(context.Background())); b.Header.Number != 0 {
		t.Fatalf("first block %d", b.Header.Number)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := it.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next before commit: %v", err)
	}
	c.commitMu.Lock()
	err := c.catchUpState()
	c.commitMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c.markCommitted(2)
	if b := must(it.Next(context.Background())); b.Header.Number != 1 {
		t.Fatalf("second block %d", b.Header.Number)
	}
}
