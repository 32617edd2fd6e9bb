package raft

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// batchSplit is the encoded size after which an entry batch is continued in
// a further record, keeping every record far below maxRecordLen.
const batchSplit = 8 << 20

// encodeEntryBatches encodes ents as one or more record payloads. Each
// payload is a sequence of [uvarint len][proto Entry].
func encodeEntryBatches(ents []*raftpb.Entry) ([][]byte, error) {
	var out [][]byte
	var cur []byte
	for _, e := range ents {
		b, err := proto.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("entry %d: marshal: %w", e.GetIndex(), err)
		}
		if len(cur) > 0 && len(cur)+len(b) > batchSplit {
			out = append(out, cur)
			cur = nil
		}
		cur = binary.AppendUvarint(cur, uint64(len(b)))
		cur = append(cur, b...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// decodeEntryBatch decodes one payload written by encodeEntryBatches and
// checks that the indexes are consecutive.
func decodeEntryBatch(data []byte) ([]*raftpb.Entry, error) {
	var ents []*raftpb.Entry
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return nil, fmt.Errorf("entry batch: bad length prefix after %d entries", len(ents))
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(data[k:k+int(n)], e); err != nil {
			return nil, fmt.Errorf("entry batch: entry %d: %w", len(ents), err)
		}
		if len(ents) > 0 && e.GetIndex() != ents[len(ents)-1].GetIndex()+1 {
			return nil, fmt.Errorf("entry batch: index %d follows %d", e.GetIndex(), ents[len(ents)-1].GetIndex())
		}
		if e.GetIndex() == 0 {
			return nil, fmt.Errorf("entry batch: entry %d has index 0", len(ents))
		}
		ents = append(ents, e)
		data = data[k+int(n):]
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("entry batch: empty")
	}
	return ents, nil
}

// appendLog appends a batch to a replayed log with raft's overwrite rule:
// a batch starting at index i replaces everything from i on.
func appendLog(log, batch []*raftpb.Entry) ([]*raftpb.Entry, error) {
	if len(log) == 0 {
		return append(log, batch...), nil
	}
	first, last := log[0].GetIndex(), log[len(log)-1].GetIndex()
	i := batch[0].GetIndex()
	switch {
	case i <= first:
		return append(log[:0], batch...), nil
	case i > last+1:
		return nil, fmt.Errorf("entry batch at index %d leaves a gap after %d", i, last)
	default:
		return append(log[:i-first], batch...), nil
	}
}
