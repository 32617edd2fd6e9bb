package validator

import (
	"fmt"

	"weft/ledger/statedb"
)

// entry is one key a re-executed range query returns.
type entry struct {
	key     string
	version statedb.Version
}

// merged walks committed keys and the block's pending writes of one
// namespace in key order, pending writes shadowing committed values and
// pending deletes hiding keys, as Fabric's combined iterator does.
type merged struct {
	b          *blockState
	ns         string
	db         statedb.Iterator
	dbItem     *statedb.KV
	dbStarted  bool
	pending    []string
	endKey     string
	includeEnd bool
	endServed  bool
}

func (b *blockState) newMerged(ns, start, end string, includeEnd bool) (*merged, error) {
	it, err := b.db.GetRange(ns, start, end)
	if err != nil {
		return nil, fmt.Errorf("range %s [%q, %q): %w", ns, start, end, err)
	}
	return &merged{b: b, ns: ns, db: it, pending: b.touchedIn(ns, start, end), endKey: end, includeEnd: includeEnd}, nil
}

func (m *merged) close() { m.db.Close() }

func (m *merged) advanceDB() error {
	kv, err := m.db.Next()
	if err != nil {
		return fmt.Errorf("range %s: %w", m.ns, err)
	}
	m.dbItem = kv
	return nil
}

func (m *merged) next() (*entry, error) {
	if !m.dbStarted {
		m.dbStarted = true
		if err := m.advanceDB(); err != nil {
			return nil, err
		}
	}
	for m.dbItem != nil || len(m.pending) > 0 {
		if m.dbItem != nil && (len(m.pending) == 0 || m.dbItem.Key < m.pending[0]) {
			e := &entry{key: m.dbItem.Key, version: m.dbItem.Version}
			if err := m.advanceDB(); err != nil {
				return nil, err
			}
			return e, nil
		}
		key := m.pending[0]
		m.pending = m.pending[1:]
		if m.dbItem != nil && m.dbItem.Key == key {
			if err := m.advanceDB(); err != nil {
				return nil, err
			}
		}
		vv, deleted, ok := m.b.batch.Get(m.ns, key)
		if !ok || deleted {
			continue
		}
		return &entry{key: key, version: vv.Version}, nil
	}
	return m.serveEnd()
}

// serveEnd returns the end key itself for a scan the chaincode stopped
// early: the range [start, end) excludes it, but the chaincode saw it.
func (m *merged) serveEnd() (*entry, error) {
	if !m.includeEnd || m.endServed || m.endKey == "" {
		return nil, nil
	}
	m.endServed = true
	latest, err := m.b.latest(m.ns, m.endKey)
	if err != nil || latest == nil {
		return nil, err
	}
	return &entry{key: m.endKey, version: latest.Version}, nil
}
