// Package blockcutter groups ordered envelopes into batches the way
// Fabric's orderer does, so that a weft orderer cuts the same blocks a Fabric
// orderer would for the same stream and batch configuration.
//
// The cutter is pure: it starts no goroutines and never reads the clock.
// The caller passes the current time in and owns the timer; Deadline says
// when Timeout must next be called.
//
// Config transactions must be cut alone: the caller hands them to Isolated
// instead of Ordered, which cuts any pending batch first.
package blockcutter

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"weft/wire/orderer"
)

// Config is the channel's BatchSize and BatchTimeout.
type Config struct {
	MaxMessageCount   uint32
	AbsoluteMaxBytes  uint32
	PreferredMaxBytes uint32
	BatchTimeout      time.Duration
}

// ConfigFromBatchSize converts the channel config's BatchSize message.
func ConfigFromBatchSize(bs *orderer.BatchSize, timeout time.Duration) Config {
	return Config{
		MaxMessageCount:   bs.GetMaxMessageCount(),
		AbsoluteMaxBytes:  bs.GetAbsoluteMaxBytes(),
		PreferredMaxBytes: bs.GetPreferredMaxBytes(),
		BatchTimeout:      timeout,
	}
}

// Validate applies the same bounds Fabric's config validation does: every
// limit positive and the preferred size within the absolute one.
func (c Config) Validate() error {
	var errs []error
	if c.MaxMessageCount == 0 {
		errs = append(errs, errors.New("MaxMessageCount: must be > 0"))
	}
	if c.AbsoluteMaxBytes == 0 {
		errs = append(errs, errors.New("AbsoluteMaxBytes: must be > 0"))
	}
	if c.PreferredMaxBytes == 0 {
		errs = append(errs, errors.New("PreferredMaxBytes: must be > 0"))
	} else if c.PreferredMaxBytes > c.AbsoluteMaxBytes && c.AbsoluteMaxBytes != 0 {
		errs = append(errs, fmt.Errorf("PreferredMaxBytes: %d exceeds AbsoluteMaxBytes %d", c.PreferredMaxBytes, c.AbsoluteMaxBytes))
	}
	if c.BatchTimeout <= 0 {
		errs = append(errs, fmt.Errorf("BatchTimeout: must be > 0, got %v", c.BatchTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("blockcutter config: %w", errors.Join(errs...))
	}
	return nil
}

// Cutter holds the pending batch. It is not safe for concurrent use; the
// orderer's single consensus loop owns it.
type Cutter struct {
	cfg          Config
	pending      [][]byte
	pendingBytes uint64 // uint64: a pending batch plus one message can exceed uint32
	firstAt      time.Time
}

// New returns a cutter with an empty pending batch.
func New(cfg Config) (*Cutter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Cutter{cfg: cfg}, nil
}

// Config returns the configuration in force.
func (c *Cutter) Config() Config { return c.cfg }

// MessageSize is the size the batching rules count for an envelope: its
// payload plus signature lengths, as Fabric counts it (the protobuf framing
// is not included). Bytes that do not parse as an Envelope count in full.
func MessageSize(env []byte) uint32 {
	var payload, sig int
	b := env
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return clampLen(len(env))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return clampLen(len(env))
		}
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, _ := protowire.ConsumeBytes(b)
			// proto3 semantics: a repeated scalar field keeps the last value.
			if num == 1 {
				payload = len(v)
			} else {
				sig = len(v)
			}
		}
		b = b[n:]
	}
	return clampLen(payload + sig)
}

func clampLen(n int) uint32 {
	if uint64(n) > uint64(^uint32(0)) {
		return ^uint32(0)
	}
	return uint32(n)
}

// CheckSize rejects an envelope larger than AbsoluteMaxBytes; the broadcast
// path applies it before ordering, as Fabric's size filter does, and again
// after a reconfiguration.
func (c *Cutter) CheckSize(env []byte) error {
	if uint64(len(env)) > uint64(c.cfg.AbsoluteMaxBytes) {
		return fmt.Errorf("envelope: %d bytes exceeds AbsoluteMaxBytes %d", len(env), c.cfg.AbsoluteMaxBytes)
	}
	return nil
}

// Ordered adds one envelope (already validated and ordered) received at now.
// It returns zero, one or two batches to turn into blocks, in order, and
// whether a pending batch remains. The rules, from Fabric's receiver:
//   - a message larger than PreferredMaxBytes goes into a batch of its own,
//     after the pending batch (if any) is cut;
//   - if adding the message would take the pending batch over
//     PreferredMaxBytes, the pending batch is cut first;
//   - once the pending batch holds MaxMessageCount messages it is cut.
//
// The caller must not modify env afterwards; batches alias it.
func (c *Cutter) Ordered(env []byte, now time.Time) (batches [][][]byte, pending bool) {
	size := uint64(MessageSize(env))
	if size > uint64(c.cfg.PreferredMaxBytes) {
		if len(c.pending) > 0 {
			batches = append(batches, c.Cut())
		}
		return append(batches, [][]byte{env}), false
	}
	if c.pendingBytes+size > uint64(c.cfg.PreferredMaxBytes) {
		batches = append(batches, c.Cut())
	}
	if len(c.pending) == 0 {
		c.firstAt = now
	}
	c.pending = append(c.pending, env)
	c.pendingBytes += size
	if uint32(len(c.pending)) >= c.cfg.MaxMessageCount {
		batches = append(batches, c.Cut())
	}
	return batches, len(c.pending) > 0
}

// Isolated returns the batches for a message that must sit alone in its
// block (a config transaction): the pending batch, if any, then the message.
func (c *Cutter) Isolated(env []byte) [][][]byte {
	var batches [][][]byte
	if len(c.pending) > 0 {
		batches = append(batches, c.Cut())
	}
	return append(batches, [][]byte{env})
}

// Cut returns the pending batch (nil if empty) and starts a new one.
func (c *Cutter) Cut() [][]byte {
	batch := c.pending
	c.pending = nil
	c.pendingBytes = 0
	c.firstAt = time.Time{}
	return batch
}

// Pending reports how many messages and counted bytes wait in the batch.
func (c *Cutter) Pending() (messages int, bytes uint64) {
	return len(c.pending), c.pendingBytes
}

// Deadline is when the pending batch must be cut by timeout: BatchTimeout
// after its first message arrived. ok is false when nothing is pending.
func (c *Cutter) Deadline() (deadline time.Time, ok bool) {
	if len(c.pending) == 0 {
		return time.Time{}, false
	}
	return c.firstAt.Add(c.cfg.BatchTimeout), true
}

// Timeout cuts and returns the pending batch if its deadline is at or
// before now, and returns nil otherwise.
func (c *Cutter) Timeout(now time.Time) [][]byte {
	d, ok := c.Deadline()
	if !ok || now.Before(d) {
		return nil
	}
	return c.Cut()
}

// Reconfigure installs a new configuration. Config changes reach the cutter
// through an isolated config message, so the pending batch is normally
// empty; if it is not and no longer fits the new limits, it is cut and
// returned so no batch ever exceeds the limits in force.
func (c *Cutter) Reconfigure(cfg Config) ([][]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c.cfg = cfg
	if len(c.pending) > 0 && (uint32(len(c.pending)) >= cfg.MaxMessageCount || c.pendingBytes > uint64(cfg.PreferredMaxBytes)) {
		return c.Cut(), nil
	}
	return nil, nil
}
