package broadcast

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/common"
)

// configEnvelope wraps the ConfigEnvelope produced from a client's update
// into the CONFIG transaction the orderer puts in a block, signed by the
// orderer itself: peers check this signature and the embedded last_update,
// not the client's outer envelope.
func configEnvelope(channel string, ce *common.ConfigEnvelope, signer *msp.SigningIdentity, now time.Time) (*common.Envelope, error) {
	data, err := deterministic.Marshal(ce)
	if err != nil {
		return nil, fmt.Errorf("config envelope: %w", err)
	}
	creator := signer.Serialize()
	if len(creator) == 0 {
		return nil, fmt.Errorf("signer: empty serialized identity")
	}
	nonce := channelconfig.NewNonce()
	ch := &common.ChannelHeader{
		Type:      int32(common.HeaderType_CONFIG),
		ChannelId: channel,
		TxId:      channelconfig.ComputeTxID(nonce, creator),
		// Whole seconds, as Fabric stamps the headers it creates.
		Timestamp: &timestamppb.Timestamp{Seconds: now.Unix()},
	}
	chBytes, err := deterministic.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	shBytes, err := deterministic.Marshal(&common.SignatureHeader{Creator: creator, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	payload, err := deterministic.Marshal(&common.Payload{
		Header: &common.Header{ChannelHeader: chBytes, SignatureHeader: shBytes},
		Data:   data,
	})
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}, nil
}
