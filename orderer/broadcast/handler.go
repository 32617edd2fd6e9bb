package broadcast

import (
	"context"
	"io"
	"log/slog"
	"time"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/common"
	"weft/wire/orderer"
)

// Window is the number of envelopes of one stream processed concurrently.
const Window = 64

// Support is what the handler needs from one channel (the Raft chain).
type Support interface {
	// Bundle is the channel's current config.
	Bundle() *channelconfig.Bundle
	// Order returns nil only once env is in a committed block. configSeq is
	// the sequence of the config env was validated against.
	Order(ctx context.Context, env *common.Envelope, configSeq uint64) error
	// Configure is Order for a CONFIG envelope built by this handler.
	Configure(ctx context.Context, env *common.Envelope, configSeq uint64) error
	// Signer signs the CONFIG envelopes this orderer creates.
	Signer() *msp.SigningIdentity
}

// Registrar finds the Support of a channel this orderer serves.
type Registrar interface {
	Support(channel string) (Support, bool)
}

// Handler serves Broadcast streams. The zero value of the optional fields is
// usable: Logger defaults to slog.Default(), Now to time.Now, and a zero
// Timeout puts no deadline on Order/Configure beyond the stream's own.
type Handler struct {
	Registrar Registrar
	Logger    *slog.Logger
	Now       func() time.Time
	Timeout   time.Duration
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Broadcast serves one stream; see the package documentation for the
// pipelining design. It returns nil after the client half-closed and every
// envelope was answered, otherwise the receive or send error.
func (h *Handler) Broadcast(srv orderer.AtomicBroadcast_BroadcastServer) error {
	ctx, cancel := context.WithCancel(srv.Context())
	defer cancel()

	// One entry per envelope in flight, in arrival order. The writer holds one
	// entry outside the queue while it waits, hence Window-1.
	queue := make(chan chan *orderer.BroadcastResponse, Window-1)
	writerDone := make(chan error, 1)
	go func() {
		var sendErr error
		for res := range queue {
			resp := <-res
			if sendErr != nil {
				continue // keep draining so the reader never blocks
			}
			if err := srv.Send(resp); err != nil {
				sendErr = err
				cancel()
			}
		}
		writerDone <- sendErr
	}()

	var recvErr error
	for {
		env, err := srv.Recv()
		if err != nil {
			if err != io.EOF {
				recvErr = err
				cancel()
			}
			break
		}
		if ctx.Err() != nil {
			break // the writer failed; the stream is dead
		}
		res := make(chan *orderer.BroadcastResponse, 1)
		queue <- res
		go func() { res <- h.Process(ctx, env) }()
	}
	close(queue)
	sendErr := <-writerDone
	if recvErr != nil {
		return recvErr
	}
	return sendErr
}
