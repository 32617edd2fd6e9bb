package validator

import (
	"fmt"
	"slices"

	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// blockState is the committed state plus the writes of the transactions of
// this block already found valid.
type blockState struct {
	db    *statedb.DB
	batch *statedb.UpdateBatch
	// touched lists, per namespace, the keys earlier valid transactions of
	// the block wrote; range re-execution merges them with committed state.
	touched map[string]map[string]struct{}
}

func newBlockState(db *statedb.DB, batch *statedb.UpdateBatch) *blockState {
	return &blockState{db: db, batch: batch, touched: map[string]map[string]struct{}{}}
}

// validate is Fabric's MVCC check: every read must still see the version it
// saw during simulation (a key written earlier in this block always
// conflicts), and every range query must return exactly the same keys and
// versions when re-run.
func (b *blockState) validate(rws []nsRWSet) (peer.TxValidationCode, error) {
	for _, n := range rws {
		for _, r := range n.kv.GetReads() {
			ok, err := b.readValid(n.ns, r)
			if err != nil || !ok {
				return peer.TxValidationCode_MVCC_READ_CONFLICT, err
			}
		}
		for _, rq := range n.kv.GetRangeQueriesInfo() {
			ok, err := b.rangeValid(n.ns, rq)
			if err != nil || !ok {
				return peer.TxValidationCode_PHANTOM_READ_CONFLICT, err
			}
		}
	}
	return peer.TxValidationCode_VALID, nil
}

func (b *blockState) readValid(ns string, r *kvrwset.KVRead) (bool, error) {
	if _, ok := b.touched[ns][r.GetKey()]; ok {
		return false, nil
	}
	vv, err := b.db.Get(ns, r.GetKey())
	if err != nil {
		return false, fmt.Errorf("read %s/%q: %w", ns, r.GetKey(), err)
	}
	var committed *statedb.Version
	if vv != nil {
		committed = &vv.Version
	}
	return sameVersion(committed, r.GetVersion()), nil
}

func sameVersion(committed *statedb.Version, read *kvrwset.Version) bool {
	if committed == nil || read == nil {
		return committed == nil && read == nil
	}
	return committed.BlockNum == read.GetBlockNum() && committed.TxNum == read.GetTxNum()
}

// rangeValid re-runs a recorded range query over committed state merged with
// this block's earlier writes. A scan that was not run to exhaustion covers
// its end key too (the last key the chaincode saw).
func (b *blockState) rangeValid(ns string, rq *kvrwset.RangeQueryInfo) (bool, error) {
	if rq.GetReadsMerkleHashes() != nil {
		// Only Fabric peers emit merkle summaries (for scans of thousands of
		// keys); without the tree code they cannot be checked, so be safe.
		return false, nil
	}
	it, err := b.newMerged(ns, rq.GetStartKey(), rq.GetEndKey(), !rq.GetItrExhausted())
	if err != nil {
		return false, err
	}
	defer it.close()
	for _, want := range rq.GetRawReads().GetKvReads() {
		got, err := it.next()
		if err != nil {
			return false, err
		}
		if got == nil || got.key != want.GetKey() || !sameVersion(&got.version, want.GetVersion()) {
			return false, nil
		}
	}
	extra, err := it.next()
	if err != nil {
		return false, err
	}
	return extra == nil, nil
}

// keyOp gathers what one transaction does to one key.
type keyOp struct {
	ns, key          string
	upsert, del      bool
	metaSet, metaDel bool
	value, meta      []byte
}

// apply records a valid transaction's writes at version v, combining value
// and metadata writes of a key the way Fabric does: a value write keeps the
// latest metadata unless the transaction also sets it, and a metadata write
// keeps the latest value (and is dropped for a key that does not exist).
func (b *blockState) apply(rws []nsRWSet, v statedb.Version) error {
	ops := map[[2]string]*keyOp{}
	var order []*keyOp
	op := func(ns, key string) *keyOp {
		k := [2]string{ns, key}
		o, ok := ops[k]
		if !ok {
			o = &keyOp{ns: ns, key: key}
			ops[k] = o
			order = append(order, o)
		}
		return o
	}
	for _, n := range rws {
		for _, w := range n.kv.GetWrites() {
			o := op(n.ns, w.GetKey())
			if w.GetIsDelete() || len(w.GetValue()) == 0 {
				o.del = true
			} else {
				o.upsert, o.value = true, w.GetValue()
			}
		}
		for _, mw := range n.kv.GetMetadataWrites() {
			o := op(n.ns, mw.GetKey())
			if len(mw.GetEntries()) == 0 {
				o.metaDel = true
				continue
			}
			meta, err := txsim.MarshalMetadataEntries(mw.GetEntries())
			if err != nil {
				return fmt.Errorf("metadata of %s/%q: %w", n.ns, mw.GetKey(), err)
			}
			o.metaSet, o.meta = true, meta
		}
	}
	for _, o := range order {
		if err := b.applyOp(o, v); err != nil {
			return err
		}
	}
	return nil
}

func (b *blockState) applyOp(o *keyOp, v statedb.Version) error {
	switch {
	case o.del:
		b.batch.Delete(o.ns, o.key, v)
	case o.upsert && (o.metaSet || o.metaDel):
		b.batch.Put(o.ns, o.key, o.value, o.meta, v)
	case o.upsert:
		latest, err := b.latest(o.ns, o.key)
		if err != nil {
			return err
		}
		var meta []byte
		if latest != nil {
			meta = latest.Metadata
		}
		b.batch.Put(o.ns, o.key, o.value, meta, v)
	default: // metadata only
		latest, err := b.latest(o.ns, o.key)
		if err != nil {
			return err
		}
		if latest == nil {
			return nil
		}
		b.batch.Put(o.ns, o.key, latest.Value, o.meta, v)
	}
	if b.touched[o.ns] == nil {
		b.touched[o.ns] = map[string]struct{}{}
	}
	b.touched[o.ns][o.key] = struct{}{}
	return nil
}

// latest is the key's value as of the transactions validated so far: the
// block's own pending write if any, else committed state; nil when absent.
func (b *blockState) latest(ns, key string) (*statedb.VersionedValue, error) {
	if vv, deleted, ok := b.batch.Get(ns, key); ok {
		if deleted {
			return nil, nil
		}
		return vv, nil
	}
	vv, err := b.db.Get(ns, key)
	if err != nil {
		return nil, fmt.Errorf("read %s/%q: %w", ns, key, err)
	}
	return vv, nil
}

// touchedIn lists the keys of ns written earlier in the block within
// [start, end) ("" end = unbounded), sorted.
func (b *blockState) touchedIn(ns, start, end string) []string {
	var keys []string
	for k := range b.touched[ns] {
		if k >= start && (end == "" || k < end) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
