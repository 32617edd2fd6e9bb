package channelconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

func TestGenesisBlock(t *testing.T) {
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	old := genNow
	genNow = func() time.Time { return fixed }
	t.Cleanup(func() { genNow = old })

	group := btMustBuild(t, btProfile(t))
	block, err := GenesisBlock("mychannel", group)
	if err != nil {
		t.Fatal(err)
	}

	h := block.GetHeader()
	if h.GetNumber() != 0 || len(h.GetPreviousHash()) != 0 {
		t.Errorf("header number %d previous_hash %x", h.GetNumber(), h.GetPreviousHash())
	}
	data := block.GetData().GetData()
	if len(data) != 1 {
		t.Fatalf("block has %d transactions", len(data))
	}
	sum := sha256.Sum256(data[0])
	if !bytes.Equal(h.GetDataHash(), sum[:]) {
		t.Errorf("data_hash %x, want %x", h.GetDataHash(), sum)
	}
	// Block 0: empty previous hash, 32-byte data hash.
	if der := BlockHeaderBytes(h); !bytes.HasPrefix(der, []byte{0x30, 0x27, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x20}) {
		t.Errorf("header DER % x", der)
	}

	md := block.GetMetadata().GetMetadata()
	if len(md) != 5 {
		t.Fatalf("metadata slots %d, want 5", len(md))
	}
	// SIGNATURES = Metadata{value = OrdererBlockMetadata{last_config{}}}:
	// 0a 02 (value, 2 bytes) 0a 00 (last_config, empty message). LastConfig{0}
	// encodes to nothing, so the LAST_CONFIG slot is empty bytes, as in Fabric.
	if got := hex.EncodeToString(md[common.BlockMetadataIndex_SIGNATURES]); got != "0a020a00" {
		t.Errorf("SIGNATURES metadata %s, want 0a020a00", got)
	}
	for i := 1; i < 5; i++ {
		if len(md[i]) != 0 {
			t.Errorf("metadata slot %d = %x, want empty", i, md[i])
		}
	}
	var sigMD common.Metadata
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], &sigMD); err != nil || len(sigMD.GetSignatures()) != 0 {
		t.Errorf("SIGNATURES metadata: err %v, %d signatures", err, len(sigMD.GetSignatures()))
	}
	if idx, err := LastConfigIndex(block); err != nil || idx != 0 {
		t.Errorf("LastConfigIndex = %d, %v", idx, err)
	}

	var env common.Envelope
	if err := proto.Unmarshal(data[0], &env); err != nil {
		t.Fatal(err)
	}
	if len(env.GetSignature()) != 0 {
		t.Error("genesis envelope is signed")
	}
	_, ch, sh, err := EnvelopeHeaders(&env)
	if err != nil {
		t.Fatal(err)
	}
	if ch.GetType() != int32(common.HeaderType_CONFIG) || ch.GetVersion() != 1 || ch.GetChannelId() != "mychannel" || ch.GetEpoch() != 0 {
		t.Errorf("channel header type %d version %d channel %q epoch %d", ch.GetType(), ch.GetVersion(), ch.GetChannelId(), ch.GetEpoch())
	}
	if ts := ch.GetTimestamp(); ts.GetSeconds() != fixed.Unix() || ts.GetNanos() != 0 {
		t.Errorf("timestamp %v, want %d s and 0 ns", ts, fixed.Unix())
	}
	if len(sh.GetCreator()) != 0 || len(sh.GetNonce()) != NonceSize {
		t.Errorf("signature header creator %x nonce length %d", sh.GetCreator(), len(sh.GetNonce()))
	}
	txSum := sha256.Sum256(sh.GetNonce())
	if ch.GetTxId() != hex.EncodeToString(txSum[:]) {
		t.Errorf("tx_id %s, want sha256(nonce)", ch.GetTxId())
	}

	ce, channelID, err := ConfigFromBlock(block)
	if err != nil {
		t.Fatal(err)
	}
	if channelID != "mychannel" || ce.GetConfig().GetSequence() != 0 || ce.GetLastUpdate() != nil {
		t.Errorf("channel %q sequence %d last_update %v", channelID, ce.GetConfig().GetSequence(), ce.GetLastUpdate())
	}
	if !proto.Equal(ce.GetConfig().GetChannelGroup(), group) {
		t.Error("channel group in block differs from input")
	}

	again, err := GenesisBlock("mychannel", group)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.GetData().GetData()[0], data[0]) {
		t.Error("two genesis blocks share a nonce")
	}
}

func TestGenesisBlockRejects(t *testing.T) {
	group := &common.ConfigGroup{}
	for _, c := range []struct {
		channel string
		group   *common.ConfigGroup
		want    string
	}{
		{"", group, "channel ID is empty"},
		{"MyChannel", group, `"MyChannel"`},
		{"1channel", group, `"1channel"`},
		{"my_channel", group, `"my_channel"`},
		{strings.Repeat("a", 250), group, "longer than 249"},
		{"mychannel", nil, "channel group is nil"},
	} {
		b, err := GenesisBlock(c.channel, c.group)
		if err == nil || b != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("GenesisBlock(%.20q): block %v err %v, want error containing %q", c.channel, b != nil, err, c.want)
		}
	}
	for _, ok := range []string{"a", "my.channel-2", strings.Repeat("a", 249)} {
		if _, err := GenesisBlock(ok, group); err != nil {
			t.Errorf("GenesisBlock(%.20q): %v", ok, err)
		}
	}
}
