package statedb

import "sort"

// Version is the height (block, transaction within the block) of the
// transaction that last wrote a key.
type Version struct{ BlockNum, TxNum uint64 }

// Compare orders versions by block then transaction: -1, 0 or +1.
func (v Version) Compare(o Version) int {
	switch {
	case v.BlockNum < o.BlockNum:
		return -1
	case v.BlockNum > o.BlockNum:
		return 1
	case v.TxNum < o.TxNum:
		return -1
	case v.TxNum > o.TxNum:
		return 1
	}
	return 0
}

// VersionedValue is a committed (or pending) value with its metadata and the
// version that wrote it.
type VersionedValue struct {
	Value, Metadata []byte
	Version         Version
}

type batchEntry struct {
	vv      VersionedValue
	deleted bool
}

type historyEntry struct {
	ns, key string
	v       Version
}

// UpdateBatch collects the writes of one block. Later writes of a key replace
// earlier ones in the state, but every write is kept for the history index,
// so two transactions of one block writing the same key both show up there.
// An UpdateBatch is not safe for concurrent use.
type UpdateBatch struct {
	ns      map[string]map[string]*batchEntry
	history []historyEntry
}

// NewUpdateBatch returns an empty batch.
func NewUpdateBatch() *UpdateBatch {
	return &UpdateBatch{ns: map[string]map[string]*batchEntry{}}
}

func (b *UpdateBatch) set(ns, key string, e *batchEntry) {
	if b.ns == nil {
		b.ns = map[string]map[string]*batchEntry{}
	}
	m := b.ns[ns]
	if m == nil {
		m = map[string]*batchEntry{}
		b.ns[ns] = m
	}
	m[key] = e
	b.history = append(b.history, historyEntry{ns, key, e.vv.Version})
}

// Put records a write. value and metadata are copied.
func (b *UpdateBatch) Put(ns, key string, value, metadata []byte, v Version) {
	e := &batchEntry{vv: VersionedValue{Value: append([]byte{}, value...), Version: v}}
	if len(metadata) > 0 {
		e.vv.Metadata = append([]byte(nil), metadata...)
	}
	b.set(ns, key, e)
}

// Delete records a delete of key at version v.
func (b *UpdateBatch) Delete(ns, key string, v Version) {
	b.set(ns, key, &batchEntry{vv: VersionedValue{Version: v}, deleted: true})
}

// Get reports the pending write of key: ok is false when the batch does not
// touch the key; deleted is true (and the value nil) when the last write was a
// delete. The returned value must not be modified.
func (b *UpdateBatch) Get(ns, key string) (vv *VersionedValue, deleted bool, ok bool) {
	e, ok := b.ns[ns][key]
	if !ok {
		return nil, false, false
	}
	if e.deleted {
		return nil, true, true
	}
	return &e.vv, false, true
}

// Len is the number of distinct keys the batch writes or deletes.
func (b *UpdateBatch) Len() int {
	n := 0
	for _, m := range b.ns {
		n += len(m)
	}
	return n
}

// ForEach calls fn for every key the batch touches, namespaces and keys in
// byte order, with the final write of each key (vv is nil for deletes).
func (b *UpdateBatch) ForEach(fn func(ns, key string, vv *VersionedValue, deleted bool)) {
	for _, ns := range sortedKeys(b.ns) {
		m := b.ns[ns]
		for _, k := range sortedKeys(m) {
			e := m[k]
			if e.deleted {
				fn(ns, k, nil, true)
			} else {
				fn(ns, k, &e.vv, false)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
