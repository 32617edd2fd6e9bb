package txsim

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
)

// deterministic is the marshaling every peer must use for bytes that are
// compared across peers.
var deterministic = proto.MarshalOptions{Deterministic: true}

// Results builds the transaction's read-write set: namespaces sorted, reads,
// writes and metadata writes sorted by key, range queries in the order their
// iterators were opened (duplicates dropped, as Fabric does). It may be called
// more than once; each call reflects everything recorded so far.
func (s *Simulator) Results() (*rwset.TxReadWriteSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	ranges := map[string][]*kvrwset.RangeQueryInfo{}
	type rqKey struct {
		start, end string
		exhausted  bool
	}
	seen := map[string]map[rqKey]bool{}
	for _, it := range s.iters {
		info := it.info()
		k := rqKey{info.StartKey, info.EndKey, info.ItrExhausted}
		if seen[it.ns] == nil {
			seen[it.ns] = map[rqKey]bool{}
		}
		if seen[it.ns][k] {
			continue
		}
		seen[it.ns][k] = true
		ranges[it.ns] = append(ranges[it.ns], info)
	}

	names := make([]string, 0, len(s.nss))
	for ns := range s.nss {
		names = append(names, ns)
	}
	slices.Sort(names)

	out := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV}
	for _, ns := range names {
		b := s.nss[ns]
		kv := &kvrwset.KVRWSet{
			Reads:            sortedValues(b.reads),
			RangeQueriesInfo: ranges[ns],
			Writes:           sortedValues(b.writes),
			MetadataWrites:   sortedValues(b.metaWrites),
		}
		raw, err := deterministic.Marshal(kv)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: marshal read-write set: %w", ns, err)
		}
		out.NsRwset = append(out.NsRwset, &rwset.NsReadWriteSet{Namespace: ns, Rwset: raw})
	}
	return out, nil
}

// ResultsBytes is Results marshaled deterministically, the form that goes
// into ChaincodeAction.results.
func (s *Simulator) ResultsBytes() ([]byte, error) {
	rws, err := s.Results()
	if err != nil {
		return nil, err
	}
	raw, err := deterministic.Marshal(rws)
	if err != nil {
		return nil, fmt.Errorf("marshal read-write set: %w", err)
	}
	return raw, nil
}

func sortedValues[V any](m map[string]V) []V {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
