package txsim

import (
	"fmt"

	"weft/ledger/statedb"
	"weft/wire/ledger/rwset/kvrwset"
)

// rangeIter wraps a state range scan and remembers what it returned, so the
// committer can re-run the scan and detect phantoms.
type rangeIter struct {
	s          *Simulator
	ns         string
	start, end string
	inner      statedb.Iterator

	reads     []*kvrwset.KVRead
	lastKey   string // end_key recorded while not exhausted: the last key returned
	exhausted bool
	closed    bool
}

// GetStateRange scans committed keys of ns in [start, end) ("" end = to the
// end of the namespace). The scan is recorded for phantom-read validation;
// it does not see the transaction's own writes.
func (s *Simulator) GetStateRange(ns, start, end string) (statedb.Iterator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ns); err != nil {
		return nil, err
	}
	inner, err := s.db.GetRange(ns, start, end)
	if err != nil {
		return nil, fmt.Errorf("range %s [%q, %q): %w", ns, start, end, err)
	}
	it := &rangeIter{s: s, ns: ns, start: start, end: end, inner: inner}
	s.ns(ns)
	s.iters = append(s.iters, it)
	return it, nil
}

func (it *rangeIter) Next() (*statedb.KV, error) {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	if it.closed || it.exhausted {
		return nil, nil
	}
	kv, err := it.inner.Next()
	if err != nil {
		return nil, fmt.Errorf("range %s [%q, %q): %w", it.ns, it.start, it.end, err)
	}
	if kv == nil {
		it.exhausted = true
		return nil, nil
	}
	it.reads = append(it.reads, &kvrwset.KVRead{
		Key:     kv.Key,
		Version: &kvrwset.Version{BlockNum: kv.Version.BlockNum, TxNum: kv.Version.TxNum},
	})
	it.lastKey = kv.Key
	return kv, nil
}

func (it *rangeIter) Close() {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	it.closeLocked()
}

func (it *rangeIter) closeLocked() {
	if !it.closed {
		it.closed = true
		it.inner.Close()
	}
}

// info is the RangeQueryInfo Fabric records: end_key is the requested end
// once the scan ran out, otherwise the last key returned (the committer then
// re-scans up to and including it). Raw reads are only set when there are
// any, which is what a Fabric peer emits for small ranges.
func (it *rangeIter) info() *kvrwset.RangeQueryInfo {
	rqi := &kvrwset.RangeQueryInfo{StartKey: it.start, EndKey: it.lastKey, ItrExhausted: it.exhausted}
	if it.exhausted {
		rqi.EndKey = it.end
	}
	if len(it.reads) > 0 {
		reads := make([]*kvrwset.KVRead, len(it.reads))
		copy(reads, it.reads)
		rqi.ReadsInfo = &kvrwset.RangeQueryInfo_RawReads{RawReads: &kvrwset.QueryReads{KvReads: reads}}
	}
	return rqi
}

// queryIter wraps a rich query; every key it returns joins the read set.
type queryIter struct {
	s     *Simulator
	ns    string
	inner statedb.Iterator
}

// GetQueryResult runs a rich (CouchDB-style) query over committed state. The
// keys returned are recorded as reads, but the query itself is not re-run at
// commit, so it is not protected against phantoms (as in Fabric).
func (s *Simulator) GetQueryResult(ns, query string) (statedb.Iterator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ns); err != nil {
		return nil, err
	}
	inner, err := s.db.Query(ns, query)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", ns, err)
	}
	return &queryIter{s: s, ns: ns, inner: inner}, nil
}

func (it *queryIter) Next() (*statedb.KV, error) {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	if it.s.done {
		return nil, nil
	}
	kv, err := it.inner.Next()
	if err != nil || kv == nil {
		return nil, err
	}
	b := it.s.ns(it.ns)
	if _, seen := b.reads[kv.Key]; !seen {
		vv := &statedb.VersionedValue{Version: kv.Version}
		b.reads[kv.Key] = readOf(kv.Key, vv)
	}
	return kv, nil
}

func (it *queryIter) Close() { it.inner.Close() }
