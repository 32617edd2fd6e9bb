package harness

import (
	"context"
	"crypto/sha256"
	"fmt"

	"google.golang.org/grpc"
	ordererpb "weft/wire/orderer"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/comm"
	"weft/wire/common"
)

// TLSCertHash is the SHA-256 of a PEM certificate's DER, as used for the
// TLS binding in channel headers.
func TLSCertHash(certPEM []byte) []byte { return comm.CertHash(certPEM) }

// Signer is what signs envelopes (msp.SigningIdentity fits).
type Signer interface {
	Sign([]byte) ([]byte, error)
	Serialize() []byte
}

// Envelope builds a signed ENDORSER_TRANSACTION envelope carrying data;
// the orderer does not look inside the transaction, so any bytes do.
func Envelope(channel string, s Signer, data []byte) (*common.Envelope, error) {
	nonce := channelconfig.NewNonce()
	creator := s.Serialize()
	ch, err := proto.Marshal(&common.ChannelHeader{
		Type:      int32(common.HeaderType_ENDORSER_TRANSACTION),
		ChannelId: channel,
		TxId:      channelconfig.ComputeTxID(nonce, creator),
		Timestamp: timestamppb.Now(),
	})
	if err != nil {
		return nil, err
	}
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: creator, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(payload)
	if err != nil {
		return nil, err
	}
	return &common.Envelope{Payload: payload, Signature: sig}, nil
}

// EnvelopeHash identifies an envelope by its marshaled bytes.
func EnvelopeHash(env *common.Envelope) ([32]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// BlockEnvelopes lists the hashes of a block's envelopes (its data entries).
func BlockEnvelopes(b *common.Block) [][32]byte {
	var out [][32]byte
	for _, d := range b.GetData().GetData() {
		out = append(out, sha256.Sum256(d))
	}
	return out
}

// Broadcast sends envelopes on one stream, keeping up to window in flight,
// and returns the status of each (responses come in order). A stream error
// ends the run: statuses of envelopes without an answer are left 0.
func Broadcast(ctx context.Context, conn grpc.ClientConnInterface, envs []*common.Envelope, window int) ([]common.Status, []string, error) {
	stream, err := ordererpb.NewAtomicBroadcastClient(conn).Broadcast(ctx)
	if err != nil {
		return nil, nil, err
	}
	statuses := make([]common.Status, len(envs))
	infos := make([]string, len(envs))
	sendErr := make(chan error, 1)
	credits := make(chan struct{}, window)
	go func() {
		defer stream.CloseSend()
		for _, e := range envs {
			select {
			case credits <- struct{}{}:
			case <-ctx.Done():
				sendErr <- ctx.Err()
				return
			}
			if err := stream.Send(e); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- nil
	}()
	for i := range envs {
		resp, err := stream.Recv()
		if err != nil {
			return statuses, infos, fmt.Errorf("envelope %d of %d: %w", i, len(envs), err)
		}
		statuses[i], infos[i] = resp.GetStatus(), resp.GetInfo()
		<-credits
	}
	return statuses, infos, <-sendErr
}
