package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/channelconfig"
	"weft/wire/common"
)

// Order orders a normal transaction. It returns nil only once env is in a
// block committed by a raft quorum; on a follower it forwards env to the
// leader, retrying across leader changes until ctx ends. A stale
// configSeq is accepted: the envelope was valid when checked, and Fabric
// only re-validates it for filtering purposes that ordering does not need.
func (c *Chain) Order(ctx context.Context, env *common.Envelope, configSeq uint64) error {
	if env == nil {
		return errors.New("order: envelope is nil")
	}
	return c.submit(ctx, env, false)
}

// Configure orders a CONFIG transaction (built by the broadcast handler)
// in a block of its own. configSeq is the config sequence the update was
// validated against; an older one than the current config is refused with
// ErrStaleConfig, as is a CONFIG whose sequence does not follow the
// current one.
func (c *Chain) Configure(ctx context.Context, env *common.Envelope, configSeq uint64) error {
	if env == nil {
		return errors.New("configure: envelope is nil")
	}
	c.mu.Lock()
	bundle, mem := c.bundle, c.mem
	c.mu.Unlock()
	if configSeq < bundle.Sequence() {
		return fmt.Errorf("%w: update validated at sequence %d, the channel is at %d", ErrStaleConfig, configSeq, bundle.Sequence())
	}
	if _, _, err := checkConfigEnvelope(bundle, mem, env); err != nil {
		return err
	}
	return c.submit(ctx, env, true)
}

// submit routes env to the leader (itself or a remote one) until it is
// committed, a non-retriable error occurs or ctx ends.
func (c *Chain) submit(ctx context.Context, env *common.Envelope, config bool) error {
	raw, err := marshal(env)
	if err != nil {
		return err
	}
	h := envHash(raw)
	backoff := 5 * time.Millisecond
	for {
		if c.halted() {
			return ErrHalted
		}
		c.mu.Lock()
		relation, self, n := c.relation, c.selfID, c.node
		c.mu.Unlock()
		if relation == RelationFollower {
			return ErrNotConsenter
		}
		switch {
		case n == nil:
			err = fmt.Errorf("%w: the chain is still onboarding", ErrNoLeader)
		default:
			st := n.Status()
			switch {
			case st.Leader == 0:
				err = ErrNoLeader
			case st.Leader == self:
				err = c.orderLocal(ctx, &request{env: env, raw: raw, hash: h, config: config})
			default:
				err = c.transport.Submit(ctx, c.cfg.Channel, st.Leader, env)
			}
		}
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrBadConfig) || errors.Is(err, ErrStaleConfig) || errors.Is(err, ErrHalted) && c.halted() {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
		c.log.Debug("submission not ordered yet, retrying", "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-c.done:
			return ErrHalted
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// orderLocal hands a request to this node's leader loop and waits for its
// verdict.
func (c *Chain) orderLocal(ctx context.Context, r *request) error {
	r.done = make(chan error, 1)
	select {
	case c.reqc <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrHalted
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrHalted
	}
}

// Submit serves an envelope forwarded by another consenter (the
// cluster.Handler side of Order/Configure): only the leader accepts it.
func (c *Chain) Submit(ctx context.Context, from uint64, env *common.Envelope) error {
	if env == nil {
		return errors.New("submit: envelope is nil")
	}
	if c.halted() {
		return ErrHalted
	}
	n := c.raftNode()
	if n == nil {
		return fmt.Errorf("%w: not running raft", ErrNotConsenter)
	}
	if !n.Status().IsLeader {
		return fmt.Errorf("%w: this node is not the raft leader", ErrNoLeader)
	}
	raw, err := marshal(env)
	if err != nil {
		return err
	}
	return c.orderLocal(ctx, &request{env: env, raw: raw, hash: envHash(raw), config: isConfigEnvelope(env)})
}

// Step delivers a raft message from consenter `from` (the cluster.Handler
// side of the transport).
func (c *Chain) Step(ctx context.Context, from uint64, msg *raftpb.Message) error {
	if msg == nil {
		return errors.New("step: message is nil")
	}
	if msg.GetFrom() != from {
		return fmt.Errorf("step: message claims to be from %d but came from %d", msg.GetFrom(), from)
	}
	n := c.raftNode()
	if n == nil {
		return fmt.Errorf("%w: not running raft", ErrNotConsenter)
	}
	return n.Step(ctx, msg)
}

// checkConfigEnvelope validates a CONFIG transaction against the config it
// must follow and returns the membership it leads to and its bundle.
func checkConfigEnvelope(bundle *channelconfig.Bundle, mem membership, env *common.Envelope) (membership, *channelconfig.Bundle, error) {
	ce, ch, err := channelconfig.ConfigFromEnvelope(env)
	if err != nil {
		return membership{}, nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if ch.GetChannelId() != bundle.ChannelID() {
		return membership{}, nil, fmt.Errorf("%w: channel header names channel %q, not %q", ErrBadConfig, ch.GetChannelId(), bundle.ChannelID())
	}
	if seq := ce.GetConfig().GetSequence(); seq != bundle.Sequence()+1 {
		return membership{}, nil, fmt.Errorf("%w: config sequence %d, the next is %d", ErrStaleConfig, seq, bundle.Sequence()+1)
	}
	next, err := bundle.ApplyConfigEnvelope(ce)
	if err != nil {
		return membership{}, nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if next.ConsensusType() != channelconfig.OrdererTypeEtcdRaft {
		return membership{}, nil, fmt.Errorf("%w: consensus type %q, only %q is supported", ErrBadConfig, next.ConsensusType(), channelconfig.OrdererTypeEtcdRaft)
	}
	if _, err := raftTiming(next); err != nil {
		return membership{}, nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	nm, err := mem.change(next.EtcdRaftConsenters())
	if err != nil {
		return membership{}, nil, err
	}
	return nm, next, nil
}
