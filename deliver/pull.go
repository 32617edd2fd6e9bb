package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/orderer"
)

// Signer signs seek requests; msp.SigningIdentity implements it.
type Signer interface {
	Sign([]byte) ([]byte, error)
	// Serialize returns the marshaled SerializedIdentity of the signer.
	Serialize() []byte
}

// StatusError is returned by Pull when the server ended the request with a
// status other than SUCCESS.
type StatusError struct {
	Status common.Status
}

func (e *StatusError) Error() string { return fmt.Sprintf("deliver: server answered %v", e.Status) }

// NewSeekEnvelope builds the signed request for seek on channel as Fabric's
// own clients do: type DELIVER_SEEK_INFO, a fresh nonce with the matching tx
// id, timestamp now and the TLS binding hash (nil without client TLS).
func NewSeekEnvelope(channel string, signer Signer, seek *orderer.SeekInfo, tlsCertHash []byte, now time.Time) (*common.Envelope, error) {
	if channel == "" {
		return nil, errors.New("seek envelope: channel: empty")
	}
	if signer == nil {
		return nil, errors.New("seek envelope: signer: nil")
	}
	if seek == nil {
		return nil, errors.New("seek envelope: seek info: nil")
	}
	creator := signer.Serialize()
	if len(creator) == 0 {
		return nil, errors.New("seek envelope: signer: empty serialized identity")
	}
	nonce := channelconfig.NewNonce()
	det := proto.MarshalOptions{Deterministic: true}
	chdr, err := det.Marshal(&common.ChannelHeader{
		Type:        int32(common.HeaderType_DELIVER_SEEK_INFO),
		ChannelId:   channel,
		TxId:        channelconfig.ComputeTxID(nonce, creator),
		Timestamp:   timestamppb.New(now),
		TlsCertHash: tlsCertHash,
	})
	if err != nil {
		return nil, fmt.Errorf("seek envelope: channel header: %w", err)
	}
	shdr, err := det.Marshal(&common.SignatureHeader{Creator: creator, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("seek envelope: signature header: %w", err)
	}
	data, err := det.Marshal(seek)
	if err != nil {
		return nil, fmt.Errorf("seek envelope: seek info: %w", err)
	}
	payload, err := det.Marshal(&common.Payload{
		Header: &common.Header{ChannelHeader: chdr, SignatureHeader: shdr},
		Data:   data,
	})
	if err != nil {
		return nil, fmt.Errorf("seek envelope: payload: %w", err)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("seek envelope: sign: %w", err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}, nil
}

func specified(n uint64) *orderer.SeekPosition {
	return &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{Specified: &orderer.SeekSpecified{Number: n}}}
}

// Pull fetches blocks start..stop of channel over orderer.AtomicBroadcast/
// Deliver on conn, waiting for blocks not yet written, and calls fn for each
// in order. It checks that the blocks are consecutive and hash-chained
// (block signatures are the caller's business). It returns nil once the
// server confirmed the stop block with SUCCESS, the first error of fn, or a
// *StatusError for any other status.
func Pull(ctx context.Context, conn grpc.ClientConnInterface, channel string, signer Signer, start, stop uint64,
	tlsCertHash []byte, fn func(*common.Block) error) error {
	if conn == nil {
		return errors.New("deliver pull: conn: nil")
	}
	if fn == nil {
		return errors.New("deliver pull: fn: nil")
	}
	if stop < start {
		return fmt.Errorf("deliver pull: stop %d is before start %d", stop, start)
	}
	env, err := NewSeekEnvelope(channel, signer, &orderer.SeekInfo{
		Start:    specified(start),
		Stop:     specified(stop),
		Behavior: orderer.SeekInfo_BLOCK_UNTIL_READY,
	}, tlsCertHash, time.Now())
	if err != nil {
		return fmt.Errorf("deliver pull: %w", err)
	}

	// Cancelling ends the call when we return early (fn failed, bad block).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := orderer.NewAtomicBroadcastClient(conn).Deliver(ctx)
	if err != nil {
		return fmt.Errorf("deliver pull: channel %q: open stream: %w", channel, err)
	}
	if err := stream.Send(env); err != nil {
		return fmt.Errorf("deliver pull: channel %q: send seek request: %w", channel, err)
	}
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("deliver pull: channel %q: close send: %w", channel, err)
	}

	next, done := start, false
	var prevHash []byte
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("deliver pull: channel %q: stream ended without status after block %d", channel, next)
		}
		if err != nil {
			return fmt.Errorf("deliver pull: channel %q: receive: %w", channel, err)
		}
		switch t := resp.Type.(type) {
		case *orderer.DeliverResponse_Status:
			if t.Status != common.Status_SUCCESS {
				return fmt.Errorf("deliver pull: channel %q, blocks %d..%d: %w", channel, start, stop, &StatusError{Status: t.Status})
			}
			if !done {
				return fmt.Errorf("deliver pull: channel %q: SUCCESS before block %d", channel, next)
			}
			return nil
		case *orderer.DeliverResponse_Block:
			if done {
				return fmt.Errorf("deliver pull: channel %q: block after stop %d", channel, stop)
			}
			b := t.Block
			if b.GetHeader() == nil {
				return fmt.Errorf("deliver pull: channel %q: block %d: missing header", channel, next)
			}
			if b.Header.Number != next {
				return fmt.Errorf("deliver pull: channel %q: got block %d, want %d", channel, b.Header.Number, next)
			}
			if prevHash != nil && !bytes.Equal(b.Header.PreviousHash, prevHash) {
				return fmt.Errorf("deliver pull: channel %q: block %d: previous_hash does not match block %d", channel, next, next-1)
			}
			prevHash = channelconfig.BlockHeaderHash(b.Header)
			if err := fn(b); err != nil {
				return fmt.Errorf("deliver pull: channel %q: block %d: %w", channel, next, err)
			}
			if next == stop {
				done = true
			} else {
				next++
			}
		default:
			return fmt.Errorf("deliver pull: channel %q: response with neither block nor status", channel)
		}
	}
}
