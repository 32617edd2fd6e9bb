package blockstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// asn1Header mirrors the DER structure Fabric hashes for a block header.
// The store keeps its own copy so it depends on nothing above the wire layer.
type asn1Header struct {
	Number       *big.Int
	PreviousHash []byte
	DataHash     []byte
}

// HeaderHash is SHA-256 over DER SEQUENCE{INTEGER number, OCTET STRING
// previous_hash, OCTET STRING data_hash}: the value the next block carries
// as previous_hash.
func HeaderHash(h *common.BlockHeader) []byte {
	der, err := asn1.Marshal(asn1Header{
		Number:       new(big.Int).SetUint64(h.GetNumber()),
		PreviousHash: h.GetPreviousHash(),
		DataHash:     h.GetDataHash(),
	})
	if err != nil {
		// Only unsupported Go types make asn1.Marshal fail; these are fixed.
		panic("blockstore: DER encoding of block header: " + err.Error())
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

// DataHash is SHA-256 over the plain concatenation of the block's data
// entries, Fabric's block data hash.
func DataHash(d *common.BlockData) []byte {
	h := sha256.New()
	for _, e := range d.GetData() {
		h.Write(e)
	}
	return h.Sum(nil)
}

// txID digs the transaction id out of an envelope (envelope.payload →
// payload.header → header.channel_header → channel_header.tx_id). Blocks
// store whatever they were given, so anything that does not decode simply
// has no id. The outer layers are walked in wire format rather than
// unmarshalled, which would copy every payload on each append and open.
func txID(env []byte) string {
	payload, ok := bytesField(env, 1)
	if !ok {
		return ""
	}
	header, ok := messageField(payload, 1)
	if !ok {
		return ""
	}
	ch, ok := bytesField(header, 1)
	if !ok {
		return ""
	}
	// The channel header is small and holds strings whose UTF-8 validity
	// decides whether it decodes at all, so it is decoded for real.
	var hdr common.ChannelHeader
	if proto.Unmarshal(ch, &hdr) != nil {
		return ""
	}
	return hdr.GetTxId()
}

// messageField returns embedded message field num of msg. Protobuf merges
// repeated occurrences of a message field, and concatenated encodings
// decode as exactly that merge.
func messageField(msg []byte, num protowire.Number) (val []byte, ok bool) {
	var parts [][]byte
	if !walkBytes(msg, num, func(v []byte) { parts = append(parts, v) }) {
		return nil, false
	}
	if len(parts) == 1 {
		return parts[0], true
	}
	return bytes.Join(parts, nil), true
}

// bytesField returns the last value of length-delimited field num in msg,
// as protobuf decoding would, and ok=false if msg is malformed.
func bytesField(msg []byte, num protowire.Number) (val []byte, ok bool) {
	ok = walkBytes(msg, num, func(v []byte) { val = v })
	return val, ok
}

// walkBytes calls fn for each length-delimited occurrence of field num and
// reports whether msg is well-formed wire format.
func walkBytes(msg []byte, num protowire.Number, fn func([]byte)) bool {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return false
		}
		msg = msg[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return false
			}
			fn(v)
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return false
		}
		msg = msg[l:]
	}
	return true
}

// checkLink verifies b may follow a chain of height h whose last header
// hash is prev.
func checkLink(b *common.Block, h uint64, prev []byte) error {
	if b == nil {
		return invalidf("block: nil")
	}
	hdr := b.GetHeader()
	if hdr == nil {
		return invalidf("block: header: missing")
	}
	if hdr.GetNumber() != h {
		return invalidf("block %d: header.number: expected %d (the store's height)", hdr.GetNumber(), h)
	}
	if !bytes.Equal(hdr.GetPreviousHash(), prev) {
		return invalidf("block %d: header.previous_hash: %x does not match the hash of block %d's header %x",
			h, hdr.GetPreviousHash(), int64(h)-1, prev)
	}
	if want := DataHash(b.GetData()); !bytes.Equal(hdr.GetDataHash(), want) {
		return invalidf("block %d: header.data_hash: %x does not match the hash of the block's data %x", h, hdr.GetDataHash(), want)
	}
	return nil
}
