package blockstore

import (
	"encoding/binary"
	"errors"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// A segment file is a sequence of records:
//
//	[length uint32 LE][crc32c(body) uint32 LE][body = marshaled common.Block]
//
// No segment header: an empty file is a valid empty segment, so creating the
// next segment needs no extra write to be crash safe.
const (
	recordHeaderLen = 8
	// maxRecordLen bounds a length field so a garbage length is recognised
	// as such; Fabric caps AbsoluteMaxBytes well below this.
	maxRecordLen = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeRecord(body []byte) []byte {
	rec := make([]byte, recordHeaderLen+len(body))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(body, castagnoli))
	copy(rec[recordHeaderLen:], body)
	return rec
}

// parseRecord reads the record at data[off:]. On failure it says why, for
// the log; the caller decides whether that is a torn tail or corruption.
func parseRecord(data []byte, off int) (body []byte, next int, why string) {
	rest := data[off:]
	if len(rest) < recordHeaderLen {
		return nil, 0, "short record header"
	}
	n := binary.LittleEndian.Uint32(rest[0:4])
	if n == 0 || n > maxRecordLen {
		return nil, 0, "invalid record length"
	}
	if uint64(len(rest)-recordHeaderLen) < uint64(n) {
		return nil, 0, "short record body"
	}
	body = rest[recordHeaderLen : recordHeaderLen+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(rest[4:8]) {
		return nil, 0, "record checksum mismatch"
	}
	return body, off + recordHeaderLen + int(n), ""
}

func decodeBlock(body []byte) (*common.Block, error) {
	b := new(common.Block)
	if err := proto.Unmarshal(body, b); err != nil {
		return nil, err
	}
	if b.GetHeader() == nil {
		return nil, errors.New("block record without header")
	}
	return b, nil
}

// validRecordAfter looks for any well-formed block record starting after
// off. Finding one means the bad record at off is damage in the middle of
// the log, not a torn final write, and must not be truncated away.
func validRecordAfter(data []byte, off int) (int, bool) {
	for p := off + 1; p+recordHeaderLen < len(data); p++ {
		n := binary.LittleEndian.Uint32(data[p : p+4])
		if n == 0 || uint64(n) > uint64(len(data)-p-recordHeaderLen) {
			continue
		}
		body, _, why := parseRecord(data, p)
		if why != "" {
			continue
		}
		if _, err := decodeBlock(body); err == nil {
			return p, true
		}
	}
	return 0, false
}
