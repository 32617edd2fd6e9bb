package txsim

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/rwset/kvrwset"
)

// Key metadata is stored the way Fabric stores it: a marshaled KVMetadataWrite
// holding only the entries, sorted by name. The validator writes it, the
// simulator reads it back.

// MarshalMetadata encodes metadata for the state database; nil or empty
// metadata encodes as nil (no metadata).
func MarshalMetadata(m map[string][]byte) ([]byte, error) {
	return MarshalMetadataEntries(metadataEntries(m))
}

// MarshalMetadataEntries encodes entries exactly as given (already sorted in
// a read-write set); no entries encode as nil.
func MarshalMetadataEntries(entries []*kvrwset.KVMetadataEntry) ([]byte, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	raw, err := deterministic.Marshal(&kvrwset.KVMetadataWrite{Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("marshal key metadata: %w", err)
	}
	return raw, nil
}

// UnmarshalMetadata decodes stored metadata; nil input gives a nil map.
func UnmarshalMetadata(raw []byte) (map[string][]byte, error) {
	if raw == nil {
		return nil, nil
	}
	w := &kvrwset.KVMetadataWrite{}
	if err := proto.Unmarshal(raw, w); err != nil {
		return nil, fmt.Errorf("key metadata: %w", err)
	}
	m := make(map[string][]byte, len(w.GetEntries()))
	for _, e := range w.GetEntries() {
		m[e.GetName()] = e.GetValue()
	}
	return m, nil
}

// metadataEntries sorts m by name so every peer encodes it identically.
func metadataEntries(m map[string][]byte) []*kvrwset.KVMetadataEntry {
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*kvrwset.KVMetadataEntry, 0, len(names))
	for _, n := range names {
		out = append(out, &kvrwset.KVMetadataEntry{Name: n, Value: append([]byte(nil), m[n]...)})
	}
	return out
}
