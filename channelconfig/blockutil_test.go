package channelconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

func TestBlockHeaderBytesKnownAnswers(t *testing.T) {
	prev := bytes.Repeat([]byte{1}, 32)
	data := bytes.Repeat([]byte{2}, 32)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		h    *common.BlockHeader
		want []byte
	}{
		{"block 0", &common.BlockHeader{Number: 0, DataHash: data},
			cat([]byte{0x30, 0x27, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x20}, data)},
		{"number 127", &common.BlockHeader{Number: 127},
			[]byte{0x30, 0x07, 0x02, 0x01, 0x7f, 0x04, 0x00, 0x04, 0x00}},
		{"number 128 needs a sign byte", &common.BlockHeader{Number: 128, PreviousHash: prev, DataHash: data},
			cat([]byte{0x30, 0x48, 0x02, 0x02, 0x00, 0x80, 0x04, 0x20}, prev, []byte{0x04, 0x20}, data)},
		{"max uint64", &common.BlockHeader{Number: ^uint64(0)},
			[]byte{0x30, 0x0f, 0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x04, 0x00, 0x04, 0x00}},
		{"nil header", nil, []byte{0x30, 0x07, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}},
	} {
		got := BlockHeaderBytes(c.h)
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: DER\n% x\nwant\n% x", c.name, got, c.want)
		}
		sum := sha256.Sum256(c.want)
		if !bytes.Equal(BlockHeaderHash(c.h), sum[:]) {
			t.Errorf("%s: hash is not SHA-256 of the DER", c.name)
		}
	}
}

func TestBlockDataHash(t *testing.T) {
	abc := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	empty := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, c := range []struct {
		d    *common.BlockData
		want string
	}{
		{&common.BlockData{Data: [][]byte{[]byte("ab"), []byte("c")}}, abc},
		{&common.BlockData{Data: [][]byte{[]byte("a"), nil, []byte("bc")}}, abc},
		{&common.BlockData{}, empty},
		{nil, empty},
	} {
		if got := hex.EncodeToString(BlockDataHash(c.d)); got != c.want {
			t.Errorf("BlockDataHash(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}

func TestNewBlock(t *testing.T) {
	prev := []byte{9, 9}
	b := NewBlock(42, prev)
	if b.GetHeader().GetNumber() != 42 || !bytes.Equal(b.GetHeader().GetPreviousHash(), prev) || b.GetHeader().GetDataHash() == nil {
		t.Errorf("header %v", b.GetHeader())
	}
	if b.GetData() == nil || len(b.GetData().GetData()) != 0 {
		t.Errorf("data %v", b.GetData())
	}
	md := b.GetMetadata().GetMetadata()
	if len(md) != 5 {
		t.Fatalf("metadata slots %d", len(md))
	}
	for i, m := range md {
		if m == nil || len(m) != 0 {
			t.Errorf("slot %d = %v, want empty non-nil", i, m)
		}
	}
	// The five slots must survive a protobuf round trip (empty repeated
	// bytes entries are still written).
	raw, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var back common.Block
	if err := proto.Unmarshal(raw, &back); err != nil || len(back.GetMetadata().GetMetadata()) != 5 {
		t.Errorf("round trip: err %v, %d slots", err, len(back.GetMetadata().GetMetadata()))
	}
}

func TestComputeTxIDAndNonce(t *testing.T) {
	if got := ComputeTxID([]byte("ab"), []byte("c")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("ComputeTxID = %s", got)
	}
	if ComputeTxID([]byte("a"), []byte("bc")) != ComputeTxID([]byte("ab"), []byte("c")) {
		t.Error("tx id is not over the plain concatenation")
	}
	n1, n2 := NewNonce(), NewNonce()
	if len(n1) != 24 || len(n2) != 24 || bytes.Equal(n1, n2) {
		t.Errorf("nonces %x %x", n1, n2)
	}
}

func btMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func btEnvelope(t *testing.T, typ common.HeaderType, data []byte) []byte {
	t.Helper()
	ch := btMarshal(t, &common.ChannelHeader{Type: int32(typ), ChannelId: "ch"})
	payload := btMarshal(t, &common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: data})
	return btMarshal(t, &common.Envelope{Payload: payload})
}

func TestConfigFromBlockRejects(t *testing.T) {
	cfg := btMarshal(t, &common.ConfigEnvelope{Config: &common.Config{ChannelGroup: &common.ConfigGroup{}}})
	good := btEnvelope(t, common.HeaderType_CONFIG, cfg)
	mk := func(data ...[]byte) *common.Block {
		b := NewBlock(3, nil)
		b.Data.Data = data
		return b
	}
	if _, id, err := ConfigFromBlock(mk(good)); err != nil || id != "ch" {
		t.Fatalf("good block: %q %v", id, err)
	}
	for _, c := range []struct {
		name string
		b    *common.Block
		want string
	}{
		{"nil", nil, "block is nil"},
		{"empty", mk(), "exactly one transaction, found 0"},
		{"two txs", mk(good, good), "exactly one transaction, found 2"},
		{"garbage envelope", mk([]byte{0xff, 0xff}), "block 3: envelope"},
		{"no header", mk(btMarshal(t, &common.Envelope{Payload: btMarshal(t, &common.Payload{})})), "header is missing"},
		{"endorser tx", mk(btEnvelope(t, common.HeaderType_ENDORSER_TRANSACTION, cfg)), "type is 3, not CONFIG (1)"},
		{"no channel group", mk(btEnvelope(t, common.HeaderType_CONFIG, btMarshal(t, &common.ConfigEnvelope{}))), "channel group is missing"},
		{"bad config envelope", mk(btEnvelope(t, common.HeaderType_CONFIG, []byte{0x0a, 0x05})), "config envelope"},
	} {
		_, _, err := ConfigFromBlock(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLastConfigIndex(t *testing.T) {
	withSig := NewBlock(9, nil)
	withSig.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = btMarshal(t, &common.Metadata{
		Value: btMarshal(t, &common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: 7}}),
	})
	// LAST_CONFIG disagrees on purpose: SIGNATURES must win.
	withSig.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG] = btMarshal(t, &common.Metadata{
		Value: btMarshal(t, &common.LastConfig{Index: 3}),
	})
	legacy := NewBlock(9, nil)
	legacy.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG] = btMarshal(t, &common.Metadata{
		Value: btMarshal(t, &common.LastConfig{Index: 5}),
	})
	short := NewBlock(9, nil)
	short.Metadata.Metadata = short.Metadata.Metadata[:1]
	bad := NewBlock(9, nil)
	bad.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = []byte{0x0a, 0x03, 0xff}

	for _, c := range []struct {
		name    string
		b       *common.Block
		want    uint64
		wantErr string
	}{
		{"signatures", withSig, 7, ""},
		{"legacy slot", legacy, 5, ""},
		{"nothing recorded", NewBlock(1, nil), 0, "no last-config index"},
		{"short metadata", short, 0, "has 1 slots"},
		{"garbage", bad, 0, "SIGNATURES metadata"},
		{"nil block", nil, 0, "has 0 slots"},
	} {
		got, err := LastConfigIndex(c.b)
		if c.wantErr == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: %d %v, want %d", c.name, got, err, c.want)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.wantErr)
		}
	}
}
