package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// WAL record framing: [len uint32 LE][crc32c uint32 LE][type byte][data].
// len counts data only. The CRC covers the length field, the type and the
// data, so an in-place corruption of any byte of a complete record is
// detected.
const (
	recHeaderLen = 9
	// maxRecordLen bounds a single record so a corrupted length field cannot
	// make the reader allocate absurd amounts; entry batches are split well
	// below it.
	maxRecordLen = 128 << 20
)

type recType byte

const (
	recHardState recType = 1 // proto raftpb.HardState
	recEntries   recType = 2 // entry batch, see encodeEntries
	recSnapshot  recType = 3 // proto raftpb.SnapshotMetadata
)

func (t recType) valid() bool { return t >= recHardState && t <= recSnapshot }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func recordCRC(lenField []byte, t recType, data []byte) uint32 {
	c := crc32.Update(0, castagnoli, lenField)
	c = crc32.Update(c, castagnoli, []byte{byte(t)})
	return crc32.Update(c, castagnoli, data)
}

// appendRecord frames data as one record and appends it to buf.
func appendRecord(buf []byte, t recType, data []byte) ([]byte, error) {
	if len(data) > maxRecordLen {
		return buf, fmt.Errorf("wal record of type %d: %d bytes exceeds the %d byte limit", t, len(data), maxRecordLen)
	}
	var hdr [recHeaderLen]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(data)))
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(hdr[0:4], t, data))
	hdr[8] = byte(t)
	buf = append(buf, hdr[:]...)
	return append(buf, data...), nil
}

type record struct {
	typ  recType
	data []byte // aliases the segment buffer
	off  int    // offset of the record header in the segment
}

var (
	errTruncated = errors.New("record extends past end of file")
	errBadCRC    = errors.New("record checksum mismatch")
	errBadType   = errors.New("unknown record type")
)

// parseRecord decodes the record starting at b[0].
func parseRecord(b []byte) (recType, []byte, int, error) {
	if len(b) < recHeaderLen {
		return 0, nil, 0, errTruncated
	}
	n := binary.LittleEndian.Uint32(b[0:4])
	if n > maxRecordLen || int(n) > len(b)-recHeaderLen {
		return 0, nil, 0, errTruncated
	}
	t := recType(b[8])
	data := b[recHeaderLen : recHeaderLen+int(n)]
	if binary.LittleEndian.Uint32(b[4:8]) != recordCRC(b[0:4], t, data) {
		return 0, nil, 0, errBadCRC
	}
	if !t.valid() {
		return 0, nil, 0, errBadType
	}
	return t, data, recHeaderLen + int(n), nil
}

// scanRecords splits a segment into records. When allowTornTail is set (the
// newest segment) a bad record is accepted as the torn remains of a write
// that was interrupted by a crash, provided nothing that looks like a valid
// record follows it: a torn write can only be the last thing in the file,
// whereas damage in the middle leaves intact records behind it. It returns
// the records and the length of the valid prefix.
func scanRecords(b []byte, allowTornTail bool) ([]record, int, error) {
	var recs []record
	off := 0
	for off < len(b) {
		t, data, n, err := parseRecord(b[off:])
		if err != nil {
			if allowTornTail && !validRecordAfter(b, off+1) {
				return recs, off, nil
			}
			return nil, 0, fmt.Errorf("offset %d: %w", off, err)
		}
		recs = append(recs, record{typ: t, data: data, off: off})
		off += n
	}
	return recs, off, nil
}

// validRecordAfter reports whether a well-formed record starts at any offset
// >= from. It only runs when a segment ends badly, so its quadratic worst
// case is paid on the recovery path alone.
func validRecordAfter(b []byte, from int) bool {
	for p := from; p+recHeaderLen <= len(b); p++ {
		if _, _, _, err := parseRecord(b[p:]); err == nil {
			return true
		}
	}
	return false
}
