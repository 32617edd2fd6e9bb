package chain

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/orderer/etcdraft"
)

// blockSigner is what block creation needs from the orderer's identity.
type blockSigner interface {
	Sign(msg []byte) ([]byte, error)
	Serialize() []byte
}

// newSignedBlock builds block number on top of prev (nil for block 0) with
// the given envelopes and signs it the way a Fabric etcdraft orderer does,
// so that every consenter stores the same bytes.
func newSignedBlock(prev *common.BlockHeader, data [][]byte, lastConfig uint64, mem membership, signer blockSigner) (*common.Block, error) {
	var number uint64
	var prevHash []byte
	if prev != nil {
		number, prevHash = prev.Number+1, channelconfig.BlockHeaderHash(prev)
	}
	b := channelconfig.NewBlock(number, prevHash)
	b.Data = &common.BlockData{Data: data}
	b.Header.DataHash = channelconfig.BlockDataHash(b.Data)

	raftMD, err := marshal(&etcdraft.BlockMetadata{ConsenterIds: mem.ids, NextConsenterId: mem.next})
	if err != nil {
		return nil, err
	}
	consenterMD, err := marshal(&common.Metadata{Value: raftMD})
	if err != nil {
		return nil, err
	}
	value, err := marshal(&common.OrdererBlockMetadata{
		LastConfig:        &common.LastConfig{Index: lastConfig},
		ConsenterMetadata: consenterMD,
	})
	if err != nil {
		return nil, err
	}
	sigHdr, err := marshal(&common.SignatureHeader{Creator: signer.Serialize(), Nonce: channelconfig.NewNonce()})
	if err != nil {
		return nil, err
	}
	hdrBytes := channelconfig.BlockHeaderBytes(b.Header)
	msg := make([]byte, 0, len(value)+len(sigHdr)+len(hdrBytes))
	msg = append(append(append(msg, value...), sigHdr...), hdrBytes...)
	sig, err := signer.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("block %d: sign: %w", number, err)
	}
	sigMD, err := marshal(&common.Metadata{
		Value:      value,
		Signatures: []*common.MetadataSignature{{SignatureHeader: sigHdr, Signature: sig}},
	})
	if err != nil {
		return nil, err
	}
	lcMD, err := lastConfigMetadata(lastConfig)
	if err != nil {
		return nil, err
	}
	b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = sigMD
	b.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG] = lcMD
	return b, nil
}

func lastConfigMetadata(index uint64) ([]byte, error) {
	lc, err := marshal(&common.LastConfig{Index: index})
	if err != nil {
		return nil, err
	}
	return marshal(&common.Metadata{Value: lc})
}

// raftMetadata returns the etcdraft BlockMetadata recorded in b, or nil
// when b carries none (a genesis or join block written by configtxgen).
func raftMetadata(b *common.Block) (*etcdraft.BlockMetadata, error) {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_SIGNATURES) || len(md[common.BlockMetadataIndex_SIGNATURES]) == 0 {
		return nil, nil
	}
	sigs := &common.Metadata{}
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], sigs); err != nil {
		return nil, fmt.Errorf("block %d: SIGNATURES metadata: %w", b.GetHeader().GetNumber(), err)
	}
	if len(sigs.Value) == 0 {
		return nil, nil
	}
	obm := &common.OrdererBlockMetadata{}
	if err := proto.Unmarshal(sigs.Value, obm); err != nil {
		return nil, fmt.Errorf("block %d: OrdererBlockMetadata: %w", b.GetHeader().GetNumber(), err)
	}
	if len(obm.ConsenterMetadata) == 0 {
		return nil, nil
	}
	cm := &common.Metadata{}
	if err := proto.Unmarshal(obm.ConsenterMetadata, cm); err != nil {
		return nil, fmt.Errorf("block %d: consenter_metadata: %w", b.GetHeader().GetNumber(), err)
	}
	bm := &etcdraft.BlockMetadata{}
	if err := proto.Unmarshal(cm.Value, bm); err != nil {
		return nil, fmt.Errorf("block %d: etcdraft BlockMetadata: %w", b.GetHeader().GetNumber(), err)
	}
	return bm, nil
}

// isConfigBlock reports whether b holds a single CONFIG transaction.
func isConfigBlock(b *common.Block) bool {
	d := b.GetData().GetData()
	if len(d) != 1 {
		return false
	}
	env := &common.Envelope{}
	if proto.Unmarshal(d[0], env) != nil {
		return false
	}
	return isConfigEnvelope(env)
}

func isConfigEnvelope(env *common.Envelope) bool {
	_, ch, _, err := channelconfig.EnvelopeHeaders(env)
	return err == nil && ch.GetType() == int32(common.HeaderType_CONFIG)
}

// Raft entries carry one or more marshaled blocks, length-prefixed, so
// that a leader can hand everything it cut during one round trip to raft in
// a single ordered proposal. An empty entry is a leader's marker.
const entryVersion = 1

func encodeEntry(blocks [][]byte) []byte {
	n := 1
	for _, b := range blocks {
		n += 10 + len(b)
	}
	out := make([]byte, 1, n)
	out[0] = entryVersion
	for _, b := range blocks {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func decodeEntry(data []byte) ([]*common.Block, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] != entryVersion {
		return nil, fmt.Errorf("entry version %d, want %d", data[0], entryVersion)
	}
	var out []*common.Block
	rest := data[1:]
	for len(rest) > 0 {
		l, n := binary.Uvarint(rest)
		if n <= 0 || uint64(len(rest)-n) < l {
			return nil, errors.New("entry: truncated block")
		}
		b := &common.Block{}
		if err := proto.Unmarshal(rest[n:n+int(l)], b); err != nil {
			return nil, fmt.Errorf("entry: block %d: %w", len(out), err)
		}
		if b.Header == nil || b.Data == nil {
			return nil, fmt.Errorf("entry: block %d: missing header or data", len(out))
		}
		out = append(out, b)
		rest = rest[n+int(l):]
	}
	return out, nil
}

var deterministic = proto.MarshalOptions{Deterministic: true}

func marshal(m proto.Message) ([]byte, error) {
	b, err := deterministic.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", m, err)
	}
	return b, nil
}
