package txsim

import (
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"weft/ledger/statedb"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset/kvrwset"
)

// ErrDone is returned by every call made after Done.
var ErrDone = errors.New("transaction simulator: used after Done")

// HistorySource answers GetHistoryForKey. The history of a key lives in the
// block store, which this package does not know about, so the peer supplies it.
type HistorySource func(ns, key string) ([]*queryresult.KeyModification, error)

// Option configures a Simulator.
type Option func(*Simulator)

// WithHistory makes GetHistoryForKey answer from h.
func WithHistory(h HistorySource) Option { return func(s *Simulator) { s.history = h } }

// Simulator records the reads and writes of one transaction. It is safe for
// concurrent use, although a chaincode normally issues its calls in sequence.
type Simulator struct {
	db      *statedb.DB
	txID    string
	history HistorySource

	mu    sync.Mutex
	nss   map[string]*nsBuilder
	iters []*rangeIter // in creation order, as Fabric reports range queries
	done  bool
}

// nsBuilder collects one namespace's part of the read-write set.
type nsBuilder struct {
	reads      map[string]*kvrwset.KVRead
	writes     map[string]*kvrwset.KVWrite
	metaWrites map[string]*kvrwset.KVMetadataWrite
}

// New returns a simulator for transaction txID over the committed state db.
func New(db *statedb.DB, txID string, opts ...Option) *Simulator {
	s := &Simulator{db: db, txID: txID, nss: map[string]*nsBuilder{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// TxID is the transaction being simulated.
func (s *Simulator) TxID() string { return s.txID }

func (s *Simulator) ns(ns string) *nsBuilder {
	b, ok := s.nss[ns]
	if !ok {
		b = &nsBuilder{
			reads:      map[string]*kvrwset.KVRead{},
			writes:     map[string]*kvrwset.KVWrite{},
			metaWrites: map[string]*kvrwset.KVMetadataWrite{},
		}
		s.nss[ns] = b
	}
	return b
}

// usable checks the common preconditions; the caller holds s.mu.
func (s *Simulator) usable(ns string) error {
	if s.done {
		return ErrDone
	}
	if s.db == nil {
		return errors.New("transaction simulator: no state database")
	}
	if ns == "" {
		return errors.New("namespace: must not be empty")
	}
	return nil
}

func checkWriteKey(key string) error {
	if key == "" {
		return errors.New("key: must not be empty")
	}
	// Keys travel as proto3 strings, which must be valid UTF-8.
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %q: not valid UTF-8", key)
	}
	return nil
}

// get reads key from committed state and records the read; the caller holds
// s.mu.
func (s *Simulator) get(ns, key string) (*statedb.VersionedValue, error) {
	if err := s.usable(ns); err != nil {
		return nil, err
	}
	vv, err := s.db.Get(ns, key)
	if err != nil {
		return nil, fmt.Errorf("get state %s/%q: %w", ns, key, err)
	}
	b := s.ns(ns)
	if _, seen := b.reads[key]; !seen {
		b.reads[key] = readOf(key, vv)
	}
	return vv, nil
}

func readOf(key string, vv *statedb.VersionedValue) *kvrwset.KVRead {
	r := &kvrwset.KVRead{Key: key}
	if vv != nil {
		r.Version = &kvrwset.Version{BlockNum: vv.Version.BlockNum, TxNum: vv.Version.TxNum}
	}
	return r
}

// GetState returns the committed value of key (nil when absent) and records
// the read. The transaction's own writes are not visible, as in Fabric.
func (s *Simulator) GetState(ns, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vv, err := s.get(ns, key)
	if err != nil || vv == nil {
		return nil, err
	}
	return vv.Value, nil
}

// GetStateMetadata returns the committed metadata of key (nil when absent or
// unset) and records the read, as Fabric does.
func (s *Simulator) GetStateMetadata(ns, key string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vv, err := s.get(ns, key)
	if err != nil || vv == nil {
		return nil, err
	}
	m, err := UnmarshalMetadata(vv.Metadata)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s/%q: %w", ns, key, err)
	}
	return m, nil
}

// PutState records a write of key. An empty value is a delete, as in Fabric.
func (s *Simulator) PutState(ns, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ns); err != nil {
		return err
	}
	if err := checkWriteKey(key); err != nil {
		return err
	}
	w := &kvrwset.KVWrite{Key: key, IsDelete: len(value) == 0}
	if len(value) > 0 {
		w.Value = append([]byte(nil), value...)
	}
	s.ns(ns).writes[key] = w
	return nil
}

// DelState records a delete of key.
func (s *Simulator) DelState(ns, key string) error { return s.PutState(ns, key, nil) }

// SetStateMetadata records a metadata write of key; a nil or empty map
// deletes the key's metadata.
func (s *Simulator) SetStateMetadata(ns, key string, metadata map[string][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ns); err != nil {
		return err
	}
	if err := checkWriteKey(key); err != nil {
		return err
	}
	for name := range metadata {
		if !utf8.ValidString(name) {
			return fmt.Errorf("metadata of %q: entry name %q is not valid UTF-8", key, name)
		}
	}
	s.ns(ns).metaWrites[key] = &kvrwset.KVMetadataWrite{Key: key, Entries: metadataEntries(metadata)}
	return nil
}

// GetHistoryForKey returns every committed modification of key, newest
// first. It records nothing in the read set (Fabric does not either).
func (s *Simulator) GetHistoryForKey(ns, key string) ([]*queryresult.KeyModification, error) {
	s.mu.Lock()
	if err := s.usable(ns); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	h := s.history
	s.mu.Unlock()
	if h == nil {
		return nil, errors.New("history queries are not available on this peer")
	}
	mods, err := h(ns, key)
	if err != nil {
		return nil, fmt.Errorf("history of %s/%q: %w", ns, key, err)
	}
	return mods, nil
}

// Done closes the iterators still open and makes the simulator unusable for
// further state access. Results stays available. Calling Done twice is fine.
func (s *Simulator) Done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	for _, it := range s.iters {
		it.closeLocked()
	}
}
