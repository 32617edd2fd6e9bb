package statedb

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// KV is one result of a range scan or query.
type KV struct {
	Namespace, Key string
	Value          []byte
	Version        Version
}

// Iterator walks results. Next returns nil, nil after the last one. Close
// releases nothing that would otherwise leak (see the package comment) but
// makes later Next calls return nil, nil.
type Iterator interface {
	Next() (*KV, error)
	Close()
}

// pageSize is how many entries one read transaction fetches: big enough to
// amortise the transaction, small enough to bound memory per iterator.
const pageSize = 256

// rangeIter pages through [start, end) of one namespace. end nil means to
// the end of the namespace.
type rangeIter struct {
	db       *DB
	ns       string
	prefix   []byte // ns \x00
	next     []byte // first state key of the next page
	end      []byte // exclusive upper bound (full state key)
	page     []*KV
	pos      int
	done     bool // no pages left after the current one
	closed   bool
	pageSize int
}

// GetRange iterates keys of ns in [startKey, endKey) in raw byte order; an
// empty endKey means up to the end of the namespace.
func (db *DB) GetRange(ns, startKey, endKey string) (Iterator, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	return db.newRangeIter(ns, startKey, endKey, pageSize), nil
}

func (db *DB) newRangeIter(ns, startKey, endKey string, size int) *rangeIter {
	it := &rangeIter{db: db, ns: ns, prefix: nsPrefix(ns), next: stateKey(ns, startKey), pageSize: size}
	if endKey != "" {
		it.end = stateKey(ns, endKey)
		if bytes.Compare(it.next, it.end) >= 0 {
			it.done = true
		}
	}
	return it
}

func (it *rangeIter) Next() (*KV, error) {
	if it.closed {
		return nil, nil
	}
	if it.pos == len(it.page) {
		if it.done {
			return nil, nil
		}
		if err := it.fill(); err != nil {
			return nil, err
		}
		if len(it.page) == 0 {
			return nil, nil
		}
	}
	kv := it.page[it.pos]
	it.page[it.pos] = nil
	it.pos++
	return kv, nil
}

func (it *rangeIter) Close() { it.closed, it.page = true, nil }

// fill reads the next page in its own read transaction.
func (it *rangeIter) fill() error {
	it.page, it.pos = it.page[:0], 0
	err := it.db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketState).Cursor()
		k, v := c.Seek(it.next)
		for ; k != nil; k, v = c.Next() {
			if !bytes.HasPrefix(k, it.prefix) || (it.end != nil && bytes.Compare(k, it.end) >= 0) {
				it.done = true
				return nil
			}
			if len(it.page) == it.pageSize {
				it.next = append(it.next[:0], k...)
				return nil
			}
			vv, err := decodeValue(v)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			it.page = append(it.page, &KV{Namespace: it.ns, Key: splitStateKey(it.prefix, k), Value: vv.Value, Version: vv.Version})
		}
		it.done = true
		return nil
	})
	if err != nil {
		it.done = true
		return fmt.Errorf("statedb: range %s: %w", it.ns, err)
	}
	return nil
}
