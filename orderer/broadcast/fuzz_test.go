package broadcast

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
)

// FuzzProcess feeds arbitrary bytes as a wire envelope. Process must answer
// without panicking, and anything that reaches the chain must be an envelope
// an independent check accepts: canonical bytes, a correct tx id, and a
// signature by a valid channel member.
func FuzzProcess(f *testing.F) {
	fx := newFixture(f, fixtureOpts{})
	client := fx.members["client"]
	valid := must(proto.Marshal(tx(f, client, nil)))
	f.Add(valid)
	f.Add(must(proto.Marshal(tx(f, fx.members["peer"], nil))))
	f.Add(must(proto.Marshal(tx(f, client, func(p *txParts) { p.ch.Type = int32(common.HeaderType_CONFIG_UPDATE) }))))
	f.Add(must(proto.Marshal(tx(f, client, func(p *txParts) { p.ch.ChannelId = "other" }))))
	f.Add(unknownField(valid))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})

	f.Fuzz(func(t *testing.T, raw []byte) {
		s := fx.support()
		h := fx.handler(s)
		resp := h.ProcessBytes(context.Background(), raw)
		if resp == nil {
			t.Fatal("nil response")
		}
		ordered, configured := s.counts()
		if configured != 0 {
			t.Fatal("arbitrary bytes reached Configure") // no valid config update can be guessed
		}
		if (ordered == 1) != (resp.Status == common.Status_SUCCESS) {
			t.Fatalf("status %v with %d Order calls", resp.Status, ordered)
		}
		if ordered == 0 {
			return
		}
		env := s.ordered[0]
		if got := must(proto.MarshalOptions{Deterministic: true}.Marshal(env)); !bytes.Equal(got, raw) {
			t.Fatal("ordered envelope is not the bytes received")
		}
		_, ch, sh, err := channelconfig.EnvelopeHeaders(env)
		if err != nil {
			t.Fatalf("ordered envelope without headers: %v", err)
		}
		if common.HeaderType(ch.Type) != common.HeaderType_ENDORSER_TRANSACTION || ch.TxId != channelconfig.ComputeTxID(sh.Nonce, sh.Creator) {
			t.Fatalf("ordered envelope with type %d and tx id %q", ch.Type, ch.TxId)
		}
		id, err := fx.bundle.MSPManager().DeserializeIdentity(sh.Creator)
		if err != nil {
			t.Fatalf("ordered envelope from an invalid creator: %v", err)
		}
		if err := id.Verify(env.Payload, env.Signature); err != nil {
			t.Fatalf("ordered envelope with a bad signature: %v", err)
		}
	})
}
