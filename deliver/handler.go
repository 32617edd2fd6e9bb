package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"weft/wire/common"
	"weft/wire/orderer"
)

// Defaults of the Handler fields.
const (
	DefaultTimeWindow = 15 * time.Minute
	DefaultPolicy     = "/Channel/Readers"
)

// Handler serves Deliver streams for the channels of Source.
type Handler struct {
	Source Source
	// TimeWindow bounds how far a request's timestamp may be from the
	// server's clock in either direction (default 15m).
	TimeWindow time.Duration
	// Policy is the path of the policy a reader must satisfy
	// (default /Channel/Readers; a peer uses /Channel/Application/Readers).
	Policy string
	Logger *slog.Logger
	Now    func() time.Time
	// ClientCertHash returns the SHA-256 of the TLS client certificate of
	// the call in ctx, nil if there is none (comm.ClientCertHash).
	ClientCertHash func(ctx context.Context) []byte
	// MutualTLS says the server requires client certificates; then every
	// request must carry the hash of the presented certificate.
	MutualTLS bool
}

// Stream is one Deliver call, independent of the service (orderer or peer)
// whose response messages carry the blocks.
type Stream interface {
	Context() context.Context
	Recv() (*common.Envelope, error)
	SendBlock(*common.Block) error
	SendStatus(common.Status) error
}

// Serve answers the seek requests of s in turn until the client closes its
// side (nil), a request fails (its status is sent, then nil) or the stream
// breaks (that error).
func (h *Handler) Serve(s Stream) error {
	if h.Source == nil {
		return errors.New("deliver: handler has no channel source")
	}
	ctx := s.Context()
	for {
		env, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deliver: receive seek request: %w", err)
		}
		status, err := h.serveRequest(ctx, s, env)
		if err != nil {
			return err
		}
		sendErr := s.SendStatus(status)
		if status != common.Status_SUCCESS {
			// Like Fabric, a failed request ends the stream.
			return nil
		}
		if sendErr != nil {
			return fmt.Errorf("deliver: send status: %w", sendErr)
		}
	}
}

// serveRequest streams the blocks of one seek request and returns the
// status that ends it. A non-nil error means the stream itself is broken and
// no status can be sent.
func (h *Handler) serveRequest(ctx context.Context, s Stream, env *common.Envelope) (common.Status, error) {
	log := h.logger()
	req, err := h.parseRequest(ctx, env)
	if err != nil {
		log.Warn("deliver: rejected malformed seek request", "err", err)
		return common.Status_BAD_REQUEST, nil
	}
	log = log.With("channel", req.channelHeader.ChannelId)

	ch, ok := h.Source.Channel(req.channelHeader.ChannelId)
	if !ok {
		log.Debug("deliver: unknown channel")
		return common.Status_NOT_FOUND, nil
	}

	seek, err := decodeSeek(req.data)
	if err != nil {
		log.Warn("deliver: rejected malformed seek request", "err", err)
		return common.Status_BAD_REQUEST, nil
	}

	errored := erroredChan(ch)
	if seek.ErrorResponse == orderer.SeekInfo_BEST_EFFORT {
		errored = nil
	}
	if isClosed(errored) {
		log.Warn("deliver: channel cannot serve, consenter errored")
		return common.Status_SERVICE_UNAVAILABLE, nil
	}

	ac := h.newAccess(ch, env, req.signatureHeader.Creator)
	if err := ac.check(); err != nil {
		log.Warn("deliver: reader not authorised", "err", err)
		return common.Status_FORBIDDEN, nil
	}

	ledger := ch.Ledger()
	rng, status, err := resolveRange(seek, ledger.Height())
	if err != nil {
		log.Warn("deliver: rejected seek range", "err", err, "status", status)
		return status, nil
	}
	return h.stream(ctx, log, s, ledger, ac, errored, seek, rng)
}

func erroredChan(ch Channel) <-chan struct{} {
	if e, ok := ch.(Errorer); ok {
		return e.Errored()
	}
	return nil
}

func isClosed(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
