package channel

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/policy"
	"weft/wire/common"
)

// BlockValidationPolicy is the policy the orderers' block signatures must
// satisfy.
const BlockValidationPolicy = "/Channel/Orderer/BlockValidation"

// ErrBadBlock marks a block the committer refused; the orderer that sent it
// is not trusted for the rest of that connection.
var ErrBadBlock = errors.New("bad block")

// verifyBlock checks that b is the next block of the chain whose last header
// hash is prevHash and that the ordering service signed it.
func verifyBlock(bundle *channelconfig.Bundle, b *common.Block, height uint64, prevHash []byte) error {
	h := b.GetHeader()
	if h == nil || b.GetData() == nil {
		return fmt.Errorf("%w: missing header or data", ErrBadBlock)
	}
	if h.GetNumber() != height {
		return fmt.Errorf("%w: number %d, want %d", ErrBadBlock, h.GetNumber(), height)
	}
	if !bytes.Equal(h.GetPreviousHash(), prevHash) {
		return fmt.Errorf("%w: block %d: previous_hash does not match block %d", ErrBadBlock, height, height-1)
	}
	if err := checkDataHash(b); err != nil {
		return fmt.Errorf("%w: block %d: %w", ErrBadBlock, height, err)
	}
	if err := checkSignatures(bundle, b); err != nil {
		return fmt.Errorf("%w: block %d: %w", ErrBadBlock, height, err)
	}
	return nil
}

func checkDataHash(b *common.Block) error {
	if len(b.GetData().GetData()) == 0 {
		return errors.New("no transactions")
	}
	if !bytes.Equal(b.GetHeader().GetDataHash(), channelconfig.BlockDataHash(b.GetData())) {
		return errors.New("data_hash does not match the data")
	}
	return nil
}

// checkSignatures evaluates the SIGNATURES metadata against the
// BlockValidation policy. Each signature covers metadata value ‖ signature
// header ‖ DER block header.
func checkSignatures(bundle *channelconfig.Bundle, b *common.Block) error {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_SIGNATURES) {
		return errors.New("no SIGNATURES metadata")
	}
	var m common.Metadata
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], &m); err != nil {
		return fmt.Errorf("SIGNATURES metadata: %w", err)
	}
	if len(m.GetSignatures()) == 0 {
		return errors.New("SIGNATURES metadata: no signatures")
	}
	header := channelconfig.BlockHeaderBytes(b.GetHeader())
	sd := make([]policy.SignedData, 0, len(m.GetSignatures()))
	for i, s := range m.GetSignatures() {
		var sh common.SignatureHeader
		if err := proto.Unmarshal(s.GetSignatureHeader(), &sh); err != nil {
			return fmt.Errorf("signature %d: signature header: %w", i, err)
		}
		data := make([]byte, 0, len(m.GetValue())+len(s.GetSignatureHeader())+len(header))
		data = append(append(append(data, m.GetValue()...), s.GetSignatureHeader()...), header...)
		sd = append(sd, policy.SignedData{Data: data, Identity: sh.GetCreator(), Signature: s.GetSignature()})
	}
	pol, ok := bundle.PolicyManager().Policy(BlockValidationPolicy)
	if !ok {
		return fmt.Errorf("channel config has no %s policy", BlockValidationPolicy)
	}
	if err := pol.EvaluateSignedData(sd); err != nil {
		return fmt.Errorf("%s: %w", BlockValidationPolicy, err)
	}
	return nil
}
