package channel

import (
	"fmt"

	"weft/ledger/statedb"
	"weft/peer/txsim"
)

// keyOp is what one transaction does to one key, all its writes of the key
// merged, so that the key gets a single entry in the batch (and in the
// history index) per transaction, as the validator produces.
type keyOp struct {
	ns, key         string
	del, upsert     bool
	value           []byte
	metaSet, metaDD bool
	meta            []byte
}

// applyWrites adds the writes of a valid transaction to batch at version v,
// with the validator's rules: a delete drops value and metadata, a value
// write keeps the key's metadata unless the transaction also writes it, a
// metadata write keeps the value (and is dropped for a key that does not
// exist).
func applyWrites(state *statedb.DB, batch *statedb.UpdateBatch, sets []nsWrites, v statedb.Version) error {
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
	for _, w := range sets {
		for _, kw := range w.set.GetWrites() {
			o := op(w.ns, kw.GetKey())
			if kw.GetIsDelete() || len(kw.GetValue()) == 0 {
				o.del = true
			} else {
				o.upsert, o.value = true, kw.GetValue()
			}
		}
		for _, mw := range w.set.GetMetadataWrites() {
			o := op(w.ns, mw.GetKey())
			if len(mw.GetEntries()) == 0 {
				o.metaDD = true
				continue
			}
			md, err := txsim.MarshalMetadataEntries(mw.GetEntries())
			if err != nil {
				return fmt.Errorf("namespace %q key %q: %w", w.ns, mw.GetKey(), err)
			}
			o.metaSet, o.meta = true, md
		}
	}
	for _, o := range order {
		switch {
		case o.del:
			batch.Delete(o.ns, o.key, v)
		case o.upsert && (o.metaSet || o.metaDD):
			batch.Put(o.ns, o.key, o.value, o.meta, v)
		default:
			cur, err := current(state, batch, o.ns, o.key)
			if err != nil {
				return err
			}
			switch {
			case o.upsert:
				var md []byte
				if cur != nil {
					md = cur.Metadata
				}
				batch.Put(o.ns, o.key, o.value, md, v)
			case cur != nil: // metadata only, of an existing key
				batch.Put(o.ns, o.key, cur.Value, o.meta, v)
			}
		}
	}
	return nil
}

// current is key's value as of the writes collected so far: the batch's
// pending write, else the committed one (nil when absent or deleted).
func current(state *statedb.DB, batch *statedb.UpdateBatch, ns, key string) (*statedb.VersionedValue, error) {
	if vv, deleted, ok := batch.Get(ns, key); ok {
		if deleted {
			return nil, nil
		}
		return vv, nil
	}
	vv, err := state.Get(ns, key)
	if err != nil {
		return nil, fmt.Errorf("namespace %q key %q: %w", ns, key, err)
	}
	return vv, nil
}
