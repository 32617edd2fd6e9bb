package channelconfig

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// NonceSize is the nonce length Fabric components and the gateway client use.
const NonceSize = 24

// bluMetadataSlots is the number of BlockMetadataIndex entries; every block
// carries exactly this many metadata byte strings.
const bluMetadataSlots = 5

// bluHeaderDER is the ASN.1 shape Fabric hashes for a block header; *big.Int
// gives the minimal two's-complement INTEGER encoding Fabric relies on.
type bluHeaderDER struct {
	Number       *big.Int
	PreviousHash []byte
	DataHash     []byte
}

// BlockHeaderBytes returns the DER encoding
// SEQUENCE{INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash}
// that block hashes and block signatures cover. A nil header encodes as a
// zero header.
func BlockHeaderBytes(h *common.BlockHeader) []byte {
	der, err := asn1.Marshal(bluHeaderDER{
		Number:       new(big.Int).SetUint64(h.GetNumber()),
		PreviousHash: h.GetPreviousHash(),
		DataHash:     h.GetDataHash(),
	})
	if err != nil {
		// Unreachable: the struct holds only encodable types.
		return nil
	}
	return der
}

// BlockHeaderHash is SHA-256 of BlockHeaderBytes; block n+1 stores it as
// previous_hash.
func BlockHeaderHash(h *common.BlockHeader) []byte {
	sum := sha256.Sum256(BlockHeaderBytes(h))
	return sum[:]
}

// BlockDataHash is SHA-256 over the plain concatenation of the envelopes.
func BlockDataHash(d *common.BlockData) []byte {
	hash := sha256.New()
	for _, e := range d.GetData() {
		hash.Write(e)
	}
	return hash.Sum(nil)
}

// NewBlock returns an empty block with the given number and previous hash and
// the five (empty) metadata slots every block must have.
func NewBlock(number uint64, prevHash []byte) *common.Block {
	md := make([][]byte, bluMetadataSlots)
	for i := range md {
		md[i] = []byte{}
	}
	return &common.Block{
		Header:   &common.BlockHeader{Number: number, PreviousHash: prevHash, DataHash: []byte{}},
		Data:     &common.BlockData{},
		Metadata: &common.BlockMetadata{Metadata: md},
	}
}

// NewNonce returns NonceSize random bytes.
func NewNonce() []byte {
	n := make([]byte, NonceSize)
	// crypto/rand.Read never fails (it aborts the program if the OS source
	// is broken), so there is no error to return.
	_, _ = rand.Read(n)
	return n
}

// ComputeTxID is lowercase hex of SHA-256(nonce ‖ creator), the rule every
// Fabric endorser and committer re-checks.
func ComputeTxID(nonce, creator []byte) string {
	h := sha256.New()
	h.Write(nonce)
	h.Write(creator)
	return hex.EncodeToString(h.Sum(nil))
}

// EnvelopeHeaders decodes the payload of env and its channel and signature
// headers.
func EnvelopeHeaders(env *common.Envelope) (*common.Payload, *common.ChannelHeader, *common.SignatureHeader, error) {
	if env == nil {
		return nil, nil, nil, errors.New("envelope is nil")
	}
	payload := &common.Payload{}
	if err := proto.Unmarshal(env.GetPayload(), payload); err != nil {
		return nil, nil, nil, fmt.Errorf("envelope payload: %w", err)
	}
	if payload.GetHeader() == nil {
		return nil, nil, nil, errors.New("envelope payload: header is missing")
	}
	ch := &common.ChannelHeader{}
	if err := proto.Unmarshal(payload.GetHeader().GetChannelHeader(), ch); err != nil {
		return nil, nil, nil, fmt.Errorf("channel header: %w", err)
	}
	sh := &common.SignatureHeader{}
	if err := proto.Unmarshal(payload.GetHeader().GetSignatureHeader(), sh); err != nil {
		return nil, nil, nil, fmt.Errorf("signature header: %w", err)
	}
	return payload, ch, sh, nil
}

// ConfigFromEnvelope decodes a CONFIG transaction.
func ConfigFromEnvelope(env *common.Envelope) (*common.ConfigEnvelope, *common.ChannelHeader, error) {
	payload, ch, _, err := EnvelopeHeaders(env)
	if err != nil {
		return nil, nil, err
	}
	if ch.GetType() != int32(common.HeaderType_CONFIG) {
		return nil, nil, fmt.Errorf("channel header type is %d, not CONFIG (%d)", ch.GetType(), int32(common.HeaderType_CONFIG))
	}
	ce := &common.ConfigEnvelope{}
	if err := proto.Unmarshal(payload.GetData(), ce); err != nil {
		return nil, nil, fmt.Errorf("config envelope: %w", err)
	}
	if ce.GetConfig().GetChannelGroup() == nil {
		return nil, nil, errors.New("config envelope: config or channel group is missing")
	}
	return ce, ch, nil
}

// ConfigFromBlock extracts the config envelope and channel ID from a config
// block, which must hold exactly one CONFIG transaction.
func ConfigFromBlock(b *common.Block) (*common.ConfigEnvelope, string, error) {
	if b == nil {
		return nil, "", errors.New("block is nil")
	}
	data := b.GetData().GetData()
	if len(data) != 1 {
		return nil, "", fmt.Errorf("block %d: a config block holds exactly one transaction, found %d", b.GetHeader().GetNumber(), len(data))
	}
	env := &common.Envelope{}
	if err := proto.Unmarshal(data[0], env); err != nil {
		return nil, "", fmt.Errorf("block %d: envelope: %w", b.GetHeader().GetNumber(), err)
	}
	ce, ch, err := ConfigFromEnvelope(env)
	if err != nil {
		return nil, "", fmt.Errorf("block %d: %w", b.GetHeader().GetNumber(), err)
	}
	return ce, ch.GetChannelId(), nil
}

// LastConfigIndex returns the number of the newest config block as recorded
// in b: from the SIGNATURES metadata (OrdererBlockMetadata) when present,
// otherwise from the deprecated LAST_CONFIG slot, as Fabric readers do.
func LastConfigIndex(b *common.Block) (uint64, error) {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_LAST_CONFIG) {
		return 0, fmt.Errorf("block metadata has %d slots, want %d", len(md), bluMetadataSlots)
	}
	sig := &common.Metadata{}
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], sig); err != nil {
		return 0, fmt.Errorf("SIGNATURES metadata: %w", err)
	}
	if len(sig.GetValue()) > 0 {
		obm := &common.OrdererBlockMetadata{}
		if err := proto.Unmarshal(sig.GetValue(), obm); err != nil {
			return 0, fmt.Errorf("SIGNATURES metadata: orderer block metadata: %w", err)
		}
		return obm.GetLastConfig().GetIndex(), nil
	}
	lc := &common.Metadata{}
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_LAST_CONFIG], lc); err != nil {
		return 0, fmt.Errorf("LAST_CONFIG metadata: %w", err)
	}
	if len(lc.GetValue()) == 0 {
		return 0, errors.New("block carries no last-config index")
	}
	idx := &common.LastConfig{}
	if err := proto.Unmarshal(lc.GetValue(), idx); err != nil {
		return 0, fmt.Errorf("LAST_CONFIG metadata: %w", err)
	}
	return idx.GetIndex(), nil
}
