// Package orderer measures a running ordering service from the outside, as
// a client sees it: envelopes pushed over several concurrent Broadcast
// streams, each counted only when the orderer acknowledged it (weft
// acknowledges after the block holding it is committed), plus the blocks
// cut meanwhile. It is shared by `weft bench orderer` and the process-level
// benchmark in test/orderer, so both report the same figures.
package orderer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/wire/common"
	ab "weft/wire/orderer"
)

// DefaultWindow is how many envelopes one stream keeps in flight: the
// orderer's own per-stream pipeline depth, so neither side idles.
const DefaultWindow = 64

// Signer signs envelopes (msp.SigningIdentity fits).
type Signer interface {
	Sign([]byte) ([]byte, error)
	Serialize() []byte
}

// Envelopes builds n signed ENDORSER_TRANSACTION envelopes for channel,
// each carrying size bytes of data. The orderer does not look inside the
// transaction, so the data is filler, distinct per envelope. Building and
// signing happen before a run so they do not count against the orderer.
func Envelopes(channel string, s Signer, n, size int) ([]*common.Envelope, error) {
	if n <= 0 {
		return nil, fmt.Errorf("envelopes: count %d must be positive", n)
	}
	if size < 0 {
		return nil, fmt.Errorf("envelopes: size %d must not be negative", size)
	}
	if s == nil {
		return nil, errors.New("envelopes: signer is nil")
	}
	creator := s.Serialize()
	out := make([]*common.Envelope, n)
	for i := range out {
		nonce := channelconfig.NewNonce()
		ch, err := proto.Marshal(&common.ChannelHeader{
			Type:      int32(common.HeaderType_ENDORSER_TRANSACTION),
			ChannelId: channel,
			TxId:      channelconfig.ComputeTxID(nonce, creator),
			Timestamp: timestamppb.Now(),
		})
		if err != nil {
			return nil, fmt.Errorf("envelope %d: channel header: %w", i, err)
		}
		sh, err := proto.Marshal(&common.SignatureHeader{Creator: creator, Nonce: nonce})
		if err != nil {
			return nil, fmt.Errorf("envelope %d: signature header: %w", i, err)
		}
		data := make([]byte, size)
		for k := range data {
			data[k] = byte(i + k)
		}
		payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
		if err != nil {
			return nil, fmt.Errorf("envelope %d: payload: %w", i, err)
		}
		sig, err := s.Sign(payload)
		if err != nil {
			return nil, fmt.Errorf("envelope %d: sign: %w", i, err)
		}
		out[i] = &common.Envelope{Payload: payload, Signature: sig}
	}
	return out, nil
}

// Run is one measurement.
type Run struct {
	// Targets are connections to the orderers; stream c goes to
	// Targets[c % len(Targets)].
	Targets []grpc.ClientConnInterface
	// Streams is the number of concurrent Broadcast streams (> 0); the
	// envelopes are split evenly over them.
	Streams int
	// Window is the envelopes in flight per stream; 0 means DefaultWindow.
	Window int
	// Height reports the channel's block height; it is read before and after
	// the run to count blocks. Nil leaves the block figures zero.
	Height func(context.Context) (uint64, error)
}

// Result is what a run measured. Latency is from handing an envelope to
// the stream to reading its SUCCESS, so it includes waiting in the window.
type Result struct {
	Envelopes       int           `json:"envelopes"`
	Streams         int           `json:"streams"`
	EnvelopeBytes   int           `json:"envelopeBytes"`
	Elapsed         time.Duration `json:"elapsedNanos"`
	EnvelopesPerSec float64       `json:"envelopesPerSec"`
	Blocks          uint64        `json:"blocks"`
	BlocksPerSec    float64       `json:"blocksPerSec"`
	P50             time.Duration `json:"p50Nanos"`
	P99             time.Duration `json:"p99Nanos"`
	Max             time.Duration `json:"maxNanos"`
}

// Do sends envs and waits until every one is acknowledged. Any status other
// than SUCCESS, or a broken stream, fails the run: a benchmark that quietly
// drops envelopes measures nothing.
func (r Run) Do(ctx context.Context, envs []*common.Envelope) (*Result, error) {
	switch {
	case len(r.Targets) == 0:
		return nil, errors.New("run: no targets")
	case r.Streams <= 0:
		return nil, fmt.Errorf("run: streams %d must be positive", r.Streams)
	case r.Window < 0:
		return nil, fmt.Errorf("run: window %d must not be negative", r.Window)
	case len(envs) == 0:
		return nil, errors.New("run: no envelopes")
	}
	window := r.Window
	if window == 0 {
		window = DefaultWindow
	}
	streams := min(r.Streams, len(envs))
	var before uint64
	if r.Height != nil {
		h, err := r.Height(ctx)
		if err != nil {
			return nil, fmt.Errorf("run: height before: %w", err)
		}
		before = h
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	latencies := make([]time.Duration, len(envs))
	errs := make([]error, streams)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < streams; c++ {
		lo, hi := c*len(envs)/streams, (c+1)*len(envs)/streams
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			if err := stream(ctx, r.Targets[c%len(r.Targets)], envs[lo:hi], window, latencies[lo:hi]); err != nil {
				errs[c] = fmt.Errorf("stream %d (target %d): %w", c, c%len(r.Targets), err)
				cancel() // the run has failed; stop the others
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	res := &Result{
		Envelopes: len(envs), Streams: streams, EnvelopeBytes: proto.Size(envs[0]),
		Elapsed: elapsed, EnvelopesPerSec: float64(len(envs)) / elapsed.Seconds(),
	}
	res.P50, res.P99, res.Max = percentiles(latencies)
	if r.Height != nil {
		after, err := r.Height(ctx)
		if err != nil {
			return nil, fmt.Errorf("run: height after: %w", err)
		}
		if after < before {
			return nil, fmt.Errorf("run: height went down from %d to %d", before, after)
		}
		res.Blocks = after - before
		res.BlocksPerSec = float64(res.Blocks) / elapsed.Seconds()
	}
	return res, nil
}

// stream pushes envs over one Broadcast stream with up to window in flight
// and records each envelope's acknowledgement latency.
func stream(ctx context.Context, conn grpc.ClientConnInterface, envs []*common.Envelope, window int, lat []time.Duration) error {
	s, err := ab.NewAtomicBroadcastClient(conn).Broadcast(ctx)
	if err != nil {
		return fmt.Errorf("open broadcast stream: %w", err)
	}
	// Each in-flight envelope holds a slot carrying its send time; responses
	// come in order, so the reader takes the slots back in order too.
	inflight := make(chan time.Time, window)
	sendErr := make(chan error, 1)
	go func() {
		for i, e := range envs {
			select {
			case inflight <- time.Now():
			case <-ctx.Done():
				sendErr <- ctx.Err()
				return
			}
			if err := s.Send(e); err != nil {
				sendErr <- fmt.Errorf("send envelope %d: %w", i, err)
				return
			}
		}
		sendErr <- s.CloseSend()
	}()
	for i := range envs {
		resp, err := s.Recv()
		if err != nil {
			// A send failure explains a receive failure better.
			select {
			case se := <-sendErr:
				if se != nil {
					return se
				}
			default:
			}
			return fmt.Errorf("receive response %d of %d: %w", i, len(envs), err)
		}
		var sentAt time.Time
		select {
		case sentAt = <-inflight:
		default:
			return fmt.Errorf("response %d arrived before its envelope was sent", i)
		}
		lat[i] = time.Since(sentAt)
		if resp.GetStatus() != common.Status_SUCCESS {
			return fmt.Errorf("envelope %d: status %v: %s", i, resp.GetStatus(), resp.GetInfo())
		}
	}
	return <-sendErr
}

// percentiles returns the nearest-rank 50th and 99th percentiles and the
// maximum of d (zeros when empty); d is reordered.
func percentiles(d []time.Duration) (p50, p99, top time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return rank(0.50), rank(0.99), d[len(d)-1]
}
