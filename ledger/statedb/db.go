package statedb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketState   = []byte("state")
	bucketHistory = []byte("history")
	bucketMeta    = []byte("meta")
	keySavepoint  = []byte("savepoint")
)

// openTimeout bounds the wait for bbolt's file lock, so a second process
// opening the same channel fails instead of hanging.
const openTimeout = 2 * time.Second

// DB is the state database of one channel. All methods are safe for
// concurrent use; readers see the state before or after each Commit, never
// part of one.
type DB struct {
	bolt *bolt.DB

	mu           sync.Mutex // serialises Commit and guards the savepoint cache
	savepoint    uint64
	hasSavepoint bool
}

// Open opens (creating if needed) the state database file at path.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("statedb %s: file is locked by another process", path)
		}
		return nil, fmt.Errorf("statedb %s: open: %w", path, err)
	}
	db := &DB{bolt: b}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketState, bucketHistory, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		sp := tx.Bucket(bucketMeta).Get(keySavepoint)
		switch {
		case sp == nil:
		case len(sp) != 8:
			return fmt.Errorf("savepoint: %d bytes, want 8", len(sp))
		default:
			db.savepoint, db.hasSavepoint = binary.BigEndian.Uint64(sp), true
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("statedb %s: %w", path, err)
	}
	return db, nil
}

// Close closes the file. It waits for in-flight reads and commits.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("statedb: close: %w", err)
	}
	return nil
}

// Get returns the committed value of key in ns, or nil, nil when absent.
func (db *DB) Get(ns, key string) (*VersionedValue, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	var vv *VersionedValue
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketState).Get(stateKey(ns, key))
		if raw == nil {
			return nil
		}
		var err error
		vv, err = decodeValue(raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("statedb: get %s/%q: %w", ns, key, err)
	}
	return vv, nil
}

// Savepoint is the number of the last block whose Commit completed; ok is
// false before the first Commit.
func (db *DB) Savepoint() (blockNum uint64, ok bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.savepoint, db.hasSavepoint
}

// Commit applies b (nil means no writes) as block blockNum: state, history
// entries and the savepoint go into one bbolt transaction, durable on return.
// blockNum must be above the current savepoint, so a block is never applied
// twice.
func (db *DB) Commit(b *UpdateBatch, blockNum uint64) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.hasSavepoint && blockNum <= db.savepoint {
		return fmt.Errorf("statedb: commit block %d: already at savepoint %d", blockNum, db.savepoint)
	}
	if b == nil {
		b = NewUpdateBatch()
	}
	if err := b.check(); err != nil {
		return fmt.Errorf("statedb: commit block %d: %w", blockNum, err)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		state := tx.Bucket(bucketState)
		var err error
		b.ForEach(func(ns, key string, vv *VersionedValue, deleted bool) {
			if err != nil {
				return
			}
			k := stateKey(ns, key)
			if deleted {
				err = state.Delete(k)
			} else {
				err = state.Put(k, encodeValue(vv))
			}
			if err != nil {
				err = fmt.Errorf("state %s/%q: %w", ns, key, err)
			}
		})
		if err != nil {
			return err
		}
		hist := tx.Bucket(bucketHistory)
		for _, h := range b.history {
			if err := hist.Put(historyKey(h.ns, h.key, h.v), nil); err != nil {
				return fmt.Errorf("history %s/%q: %w", h.ns, h.key, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keySavepoint, binary.BigEndian.AppendUint64(nil, blockNum))
	})
	if err != nil {
		return fmt.Errorf("statedb: commit block %d: %w", blockNum, err)
	}
	db.savepoint, db.hasSavepoint = blockNum, true
	return nil
}

// check rejects writes bbolt would refuse mid-transaction, naming the key.
func (b *UpdateBatch) check() error {
	for ns, m := range b.ns {
		if err := checkNamespace(ns); err != nil {
			return err
		}
		for k := range m {
			if n := len(ns) + 1 + len(k) + historySuffixLen; n > bolt.MaxKeySize {
				return fmt.Errorf("key %s/%q: %d bytes with namespace, max %d", ns, k, n, bolt.MaxKeySize)
			}
		}
	}
	return nil
}
