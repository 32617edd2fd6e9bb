package channelconfig

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
)

// Genesis envelopes carry message version 1 (Fabric common/genesis).
const genMsgVersion = 1

// genNow is the clock for genesis timestamps; tests replace it.
var genNow = time.Now

// GenesisBlock wraps group (the "Channel" root) into block 0 of channelID the
// way Fabric does: one unsigned CONFIG envelope with sequence 0, an empty
// creator, a fresh nonce, and metadata recording last config 0 without
// signatures.
func GenesisBlock(channelID string, group *common.ConfigGroup) (*common.Block, error) {
	// ValidateChannelID (validate_ids.go) is Fabric's configtx rule.
	if err := ValidateChannelID(channelID); err != nil {
		return nil, err
	}
	if group == nil {
		return nil, errors.New("channel group is nil")
	}
	nonce := NewNonce()
	// Fabric's genesis timestamp has whole seconds only.
	ts := timestamppb.New(genNow().Truncate(time.Second))
	chdr := &common.ChannelHeader{
		Type:      int32(common.HeaderType_CONFIG),
		Version:   genMsgVersion,
		Timestamp: ts,
		ChannelId: channelID,
		TxId:      ComputeTxID(nonce, nil),
		Epoch:     0,
	}
	chdrBytes, err := bldMarshal(chdr)
	if err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	shdrBytes, err := bldMarshal(&common.SignatureHeader{Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	cfgBytes, err := bldMarshal(&common.ConfigEnvelope{Config: &common.Config{Sequence: 0, ChannelGroup: group}})
	if err != nil {
		return nil, fmt.Errorf("config envelope: %w", err)
	}
	payloadBytes, err := bldMarshal(&common.Payload{
		Header: &common.Header{ChannelHeader: chdrBytes, SignatureHeader: shdrBytes},
		Data:   cfgBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	envBytes, err := bldMarshal(&common.Envelope{Payload: payloadBytes})
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}

	block := NewBlock(0, nil)
	block.Data.Data = [][]byte{envBytes}
	block.Header.DataHash = BlockDataHash(block.Data)

	lastCfg, err := bldMarshal(&common.LastConfig{Index: 0})
	if err != nil {
		return nil, fmt.Errorf("last config: %w", err)
	}
	lastCfgMD, err := bldMarshal(&common.Metadata{Value: lastCfg})
	if err != nil {
		return nil, fmt.Errorf("last config metadata: %w", err)
	}
	obm, err := bldMarshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: 0}})
	if err != nil {
		return nil, fmt.Errorf("orderer block metadata: %w", err)
	}
	sigMD, err := bldMarshal(&common.Metadata{Value: obm})
	if err != nil {
		return nil, fmt.Errorf("signatures metadata: %w", err)
	}
	block.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = sigMD
	block.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG] = lastCfgMD
	return block, nil
}
