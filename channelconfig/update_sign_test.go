package channelconfig

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/fabcrypto"
	"weft/wire/common"
)

type failingSigner struct{ ser []byte }

func (f failingSigner) Sign([]byte) ([]byte, error) { return nil, errors.New("hsm offline") }
func (f failingSigner) Serialize() []byte           { return f.ser }

func TestSignConfigUpdate(t *testing.T) {
	org := newTestOrg(t, "Org1MSP")
	raw := mustMarshal(t, &common.ConfigUpdate{ChannelId: testChannel, WriteSet: &common.ConfigGroup{Version: 1}})
	sig, err := SignConfigUpdate(raw, org.admin)
	if err != nil {
		t.Fatal(err)
	}
	sh := &common.SignatureHeader{}
	if err := proto.Unmarshal(sig.SignatureHeader, sh); err != nil {
		t.Fatal(err)
	}
	if string(sh.Creator) != string(org.admin.serialized) || len(sh.Nonce) != NonceSize {
		t.Fatalf("signature header creator/nonce wrong: %d-byte nonce", len(sh.Nonce))
	}
	msg := append(append([]byte{}, sig.SignatureHeader...), raw...)
	if err := fabcrypto.Verify(&org.admin.key.PublicKey, msg, sig.Signature); err != nil {
		t.Fatalf("signature over header||update does not verify: %v", err)
	}
	if fabcrypto.Verify(&org.admin.key.PublicKey, raw, sig.Signature) == nil {
		t.Fatal("signature must not cover the update alone")
	}

	cases := []struct {
		name    string
		update  []byte
		signer  Signer
		wantErr string
	}{
		{"empty update", nil, org.admin, "update is empty"},
		{"not a ConfigUpdate", []byte{0xff, 0x01}, org.admin, "not a ConfigUpdate"},
		{"nil signer", raw, nil, "signer is nil"},
		{"no identity", raw, failingSigner{}, "empty serialized identity"},
		{"signing fails", raw, failingSigner{ser: org.admin.serialized}, "hsm offline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignConfigUpdate(tc.update, tc.signer)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfigUpdateTx(t *testing.T) {
	org := newTestOrg(t, "Org1MSP")
	raw := mustMarshal(t, &common.ConfigUpdate{ChannelId: testChannel})
	cue, err := NewConfigUpdateEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	env, err := ConfigUpdateTx(testChannel, cue, org.client)
	if err != nil {
		t.Fatal(err)
	}
	if err := fabcrypto.Verify(&org.client.key.PublicKey, env.Payload, env.Signature); err != nil {
		t.Fatalf("envelope signature: %v", err)
	}
	p := &common.Payload{}
	ch := &common.ChannelHeader{}
	sh := &common.SignatureHeader{}
	got := &common.ConfigUpdateEnvelope{}
	for _, step := range []error{
		proto.Unmarshal(env.Payload, p),
		proto.Unmarshal(p.GetHeader().GetChannelHeader(), ch),
		proto.Unmarshal(p.GetHeader().GetSignatureHeader(), sh),
		proto.Unmarshal(p.GetData(), got),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	if ch.Type != int32(common.HeaderType_CONFIG_UPDATE) || ch.ChannelId != testChannel || ch.Epoch != 0 || ch.Timestamp == nil {
		t.Fatalf("channel header %v", ch)
	}
	if ch.TxId != ComputeTxID(sh.Nonce, sh.Creator) || string(sh.Creator) != string(org.client.serialized) {
		t.Fatalf("tx id %q does not match nonce/creator", ch.TxId)
	}
	if !proto.Equal(got, cue) {
		t.Fatal("payload data is not the config update envelope")
	}

	cases := []struct {
		name    string
		channel string
		env     *common.ConfigUpdateEnvelope
		signer  Signer
		wantErr string
	}{
		{"bad channel", "UPPER", cue, org.client, `channel ID "UPPER"`},
		{"nil envelope", testChannel, nil, org.client, "config update envelope is empty"},
		{"empty update", testChannel, &common.ConfigUpdateEnvelope{}, org.client, "config update envelope is empty"},
		{"nil signer", testChannel, cue, nil, "signer is nil"},
		{"signing fails", testChannel, cue, failingSigner{ser: org.client.serialized}, "hsm offline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigUpdateTx(tc.channel, tc.env, tc.signer)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := NewConfigUpdateEnvelope(nil); err == nil {
		t.Fatal("NewConfigUpdateEnvelope accepted an empty update")
	}
	if _, err := NewConfigUpdateEnvelope(raw, nil); err == nil || !strings.Contains(err.Error(), "signature 0 is nil") {
		t.Fatalf("nil signature: %v", err)
	}
}
