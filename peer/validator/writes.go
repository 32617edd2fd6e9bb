package validator

import (
	"fmt"

	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/ledger/rwset/kvrwset"
)

// NamespaceWrites is the write set of one namespace of a transaction.
type NamespaceWrites struct {
	Namespace string
	Set       *kvrwset.KVRWSet
}

// keyOp gathers what one transaction does to one key.
type keyOp struct {
	ns, key          string
	upsert, del      bool
	metaSet, metaDel bool
	value, meta      []byte
}

// ApplyWrites records a valid transaction's writes in batch at version v,
// combining value and metadata writes of a key the way Fabric does: one
// entry per key per transaction; a delete drops value and metadata; a
// value write keeps the latest metadata unless the transaction also sets
// it; a metadata write keeps the latest value (and is dropped for a key
// that does not exist). "Latest" is batch's pending write, else state.
// The committer's recovery replays stored blocks through this same
// function, so replayed state equals validated state. touched, if not
// nil, is called for every key written.
func ApplyWrites(state *statedb.DB, batch *statedb.UpdateBatch, writes []NamespaceWrites, v statedb.Version, touched func(ns, key string)) error {
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
	for _, n := range writes {
		for _, w := range n.Set.GetWrites() {
			o := op(n.Namespace, w.GetKey())
			if w.GetIsDelete() || len(w.GetValue()) == 0 {
				o.del = true
			} else {
				o.upsert, o.value = true, w.GetValue()
			}
		}
		for _, mw := range n.Set.GetMetadataWrites() {
			o := op(n.Namespace, mw.GetKey())
			if len(mw.GetEntries()) == 0 {
				o.metaDel = true
				continue
			}
			meta, err := txsim.MarshalMetadataEntries(mw.GetEntries())
			if err != nil {
				return fmt.Errorf("metadata of %s/%q: %w", n.Namespace, mw.GetKey(), err)
			}
			o.metaSet, o.meta = true, meta
		}
	}
	for _, o := range order {
		written, err := applyOp(state, batch, o, v)
		if err != nil {
			return err
		}
		if written && touched != nil {
			touched(o.ns, o.key)
		}
	}
	return nil
}

func applyOp(state *statedb.DB, batch *statedb.UpdateBatch, o *keyOp, v statedb.Version) (bool, error) {
	switch {
	case o.del:
		batch.Delete(o.ns, o.key, v)
	case o.upsert && (o.metaSet || o.metaDel):
		batch.Put(o.ns, o.key, o.value, o.meta, v)
	case o.upsert:
		cur, err := latest(state, batch, o.ns, o.key)
		if err != nil {
			return false, err
		}
		var meta []byte
		if cur != nil {
			meta = cur.Metadata
		}
		batch.Put(o.ns, o.key, o.value, meta, v)
	default: // metadata only
		cur, err := latest(state, batch, o.ns, o.key)
		if err != nil {
			return false, err
		}
		if cur == nil {
			return false, nil
		}
		batch.Put(o.ns, o.key, cur.Value, o.meta, v)
	}
	return true, nil
}

// latest is a key's value as of the writes collected so far: batch's
// pending write, else the committed one; nil when absent or deleted.
func latest(state *statedb.DB, batch *statedb.UpdateBatch, ns, key string) (*statedb.VersionedValue, error) {
	if vv, deleted, ok := batch.Get(ns, key); ok {
		if deleted {
			return nil, nil
		}
		return vv, nil
	}
	vv, err := state.Get(ns, key)
	if err != nil {
		return nil, fmt.Errorf("read %s/%q: %w", ns, key, err)
	}
	return vv, nil
}
