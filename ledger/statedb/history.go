package statedb

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// History returns the versions of every committed write or delete of key,
// newest first. The values themselves live in the block store.
func (db *DB) History(ns, key string) ([]Version, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	p := historyPrefix(ns, key)
	var out []Version
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		// Walk backwards from just past the prefix range. Entries of longer
		// keys that extend key with "\x00…" are interleaved and skipped by
		// parseHistoryKey's length check.
		end := prefixEnd(p)
		var k []byte
		if end == nil {
			k, _ = c.Last()
		} else if k, _ = c.Seek(end); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p); k, _ = c.Prev() {
			if v, ok := parseHistoryKey(p, k); ok {
				out = append(out, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("statedb: history %s/%q: %w", ns, key, err)
	}
	return out, nil
}

// prefixEnd is the smallest key greater than every key starting with p, or
// nil when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	e := append([]byte(nil), p...)
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] < 0xff {
			e[i]++
			return e[:i+1]
		}
	}
	return nil
}
