package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"weft/ledger/blockstore"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// stream sends blocks rng.start..rng.stop in order. It returns an error only
// when the stream broke (sending failed or the call ended).
func (h *Handler) stream(ctx context.Context, log *slog.Logger, s Stream, ledger Ledger, ac *access,
	errored <-chan struct{}, seek *orderer.SeekInfo, rng seekRange) (common.Status, error) {
	iterCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if errored != nil {
		go func() {
			select {
			case <-errored:
				cancel()
			case <-iterCtx.Done():
			}
		}()
	}
	it := ledger.Iterator(rng.start)
	defer it.Close()

	for n := rng.start; ; n++ {
		if seek.Behavior == orderer.SeekInfo_FAIL_IF_NOT_READY && n >= ledger.Height() {
			log.Debug("deliver: block not yet available", "block", n)
			return common.Status_NOT_FOUND, nil
		}
		block, err := it.Next(iterCtx)
		switch {
		case err == nil:
		case isClosed(errored):
			log.Warn("deliver: consenter errored while streaming")
			return common.Status_SERVICE_UNAVAILABLE, nil
		case ctx.Err() != nil:
			return common.Status_INTERNAL_SERVER_ERROR, fmt.Errorf("deliver: waiting for block %d: %w", n, ctx.Err())
		case errors.Is(err, blockstore.ErrClosed):
			log.Warn("deliver: ledger closed while streaming", "block", n)
			return common.Status_SERVICE_UNAVAILABLE, nil
		default:
			log.Error("deliver: reading block", "block", n, "err", err)
			return common.Status_INTERNAL_SERVER_ERROR, nil
		}
		if block.GetHeader() == nil || block.Header.Number != n {
			log.Error("deliver: ledger returned the wrong block", "want", n, "got", block.GetHeader().GetNumber())
			return common.Status_INTERNAL_SERVER_ERROR, nil
		}
		if err := ac.check(); err != nil {
			log.Warn("deliver: reader no longer authorised", "err", err)
			return common.Status_FORBIDDEN, nil
		}
		if seek.ContentType == orderer.SeekInfo_HEADER_WITH_SIG && !isConfigBlock(block) {
			block = &common.Block{Header: block.Header, Metadata: block.Metadata}
		}
		if err := s.SendBlock(block); err != nil {
			return common.Status_INTERNAL_SERVER_ERROR, fmt.Errorf("deliver: send block %d: %w", n, err)
		}
		if n == rng.stop {
			return common.Status_SUCCESS, nil
		}
	}
}

// OrdererStream adapts an orderer AtomicBroadcast/Deliver call.
func OrdererStream(srv orderer.AtomicBroadcast_DeliverServer) Stream { return ordererStream{srv} }

type ordererStream struct {
	orderer.AtomicBroadcast_DeliverServer
}

func (s ordererStream) SendBlock(b *common.Block) error {
	return s.Send(&orderer.DeliverResponse{Type: &orderer.DeliverResponse_Block{Block: b}})
}

func (s ordererStream) SendStatus(st common.Status) error {
	return s.Send(&orderer.DeliverResponse{Type: &orderer.DeliverResponse_Status{Status: st}})
}

// PeerStream adapts a peer Deliver/Deliver call (full blocks).
func PeerStream(srv peer.Deliver_DeliverServer) Stream { return peerStream{srv} }

type peerStream struct {
	peer.Deliver_DeliverServer
}

func (s peerStream) SendBlock(b *common.Block) error {
	return s.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_Block{Block: b}})
}

func (s peerStream) SendStatus(st common.Status) error {
	return s.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_Status{Status: st}})
}
