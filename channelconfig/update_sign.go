package channelconfig

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
)

// Signer is what the config update helpers need from an identity;
// *msp.SigningIdentity satisfies it.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
	// Serialize returns the marshaled msp.SerializedIdentity.
	Serialize() []byte
}

// deterministic makes every message we produce encode identically on every
// run, which keeps hashes and signatures reproducible.
var deterministic = proto.MarshalOptions{Deterministic: true}

func signatureHeader(signer Signer) (*common.SignatureHeader, error) {
	if signer == nil {
		return nil, fmt.Errorf("signer is nil")
	}
	creator := signer.Serialize()
	if len(creator) == 0 {
		return nil, fmt.Errorf("signer has an empty serialized identity")
	}
	return &common.SignatureHeader{Creator: creator, Nonce: NewNonce()}, nil
}

// SignConfigUpdate produces one organisation's approval of a marshaled
// ConfigUpdate: the signature covers signature_header || update.
func SignConfigUpdate(update []byte, signer Signer) (*common.ConfigSignature, error) {
	if len(update) == 0 {
		return nil, fmt.Errorf("sign config update: update is empty")
	}
	if err := proto.Unmarshal(update, &common.ConfigUpdate{}); err != nil {
		return nil, fmt.Errorf("sign config update: update is not a ConfigUpdate: %w", err)
	}
	sh, err := signatureHeader(signer)
	if err != nil {
		return nil, fmt.Errorf("sign config update: %w", err)
	}
	shBytes, err := deterministic.Marshal(sh)
	if err != nil {
		return nil, fmt.Errorf("sign config update: signature header: %w", err)
	}
	msg := make([]byte, 0, len(shBytes)+len(update))
	msg = append(append(msg, shBytes...), update...)
	sig, err := signer.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("sign config update: %w", err)
	}
	return &common.ConfigSignature{SignatureHeader: shBytes, Signature: sig}, nil
}

// NewConfigUpdateEnvelope bundles a marshaled ConfigUpdate with the
// signatures collected for it.
func NewConfigUpdateEnvelope(update []byte, sigs ...*common.ConfigSignature) (*common.ConfigUpdateEnvelope, error) {
	if len(update) == 0 {
		return nil, fmt.Errorf("config update envelope: update is empty")
	}
	for i, s := range sigs {
		if s == nil {
			return nil, fmt.Errorf("config update envelope: signature %d is nil", i)
		}
	}
	return &common.ConfigUpdateEnvelope{ConfigUpdate: update, Signatures: sigs}, nil
}

// ConfigUpdateTx wraps a ConfigUpdateEnvelope into the CONFIG_UPDATE
// transaction that is broadcast to the orderer, signed by signer.
func ConfigUpdateTx(channelID string, env *common.ConfigUpdateEnvelope, signer Signer) (*common.Envelope, error) {
	if err := ValidateChannelID(channelID); err != nil {
		return nil, fmt.Errorf("config update tx: %w", err)
	}
	if env == nil || len(env.ConfigUpdate) == 0 {
		return nil, fmt.Errorf("config update tx for channel %q: config update envelope is empty", channelID)
	}
	sh, err := signatureHeader(signer)
	if err != nil {
		return nil, fmt.Errorf("config update tx for channel %q: %w", channelID, err)
	}
	// Fabric stamps whole seconds on channel headers it creates.
	ch := &common.ChannelHeader{
		Type:      int32(common.HeaderType_CONFIG_UPDATE),
		ChannelId: channelID,
		TxId:      ComputeTxID(sh.Nonce, sh.Creator),
		Timestamp: &timestamppb.Timestamp{Seconds: time.Now().Unix()},
	}
	data, err := deterministic.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("config update tx for channel %q: config update envelope: %w", channelID, err)
	}
	payload, err := marshalPayload(ch, sh, data)
	if err != nil {
		return nil, fmt.Errorf("config update tx for channel %q: %w", channelID, err)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("config update tx for channel %q: sign: %w", channelID, err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}, nil
}

func marshalPayload(ch *common.ChannelHeader, sh *common.SignatureHeader, data []byte) ([]byte, error) {
	chBytes, err := deterministic.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	shBytes, err := deterministic.Marshal(sh)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	p := &common.Payload{
		Header: &common.Header{ChannelHeader: chBytes, SignatureHeader: shBytes},
		Data:   data,
	}
	b, err := deterministic.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return b, nil
}
