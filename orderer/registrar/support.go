package registrar

import (
	"context"
	"errors"
	"fmt"

	"weft/channelconfig"
	"weft/deliver"
	"weft/msp"
	"weft/orderer/broadcast"
	"weft/orderer/chain"
	"weft/policy"
	"weft/wire/common"
)

// support adapts a channel's chain to what the broadcast handler needs.
type support struct {
	ch     *channel
	signer *msp.SigningIdentity
}

func (s support) Bundle() *channelconfig.Bundle { return s.ch.chain.Bundle() }
func (s support) Signer() *msp.SigningIdentity  { return s.signer }

func (s support) Order(ctx context.Context, env *common.Envelope, seq uint64) error {
	return unavailable(s.ch.chain.Order(ctx, env, seq))
}

func (s support) Configure(ctx context.Context, env *common.Envelope, seq uint64) error {
	return unavailable(s.ch.chain.Configure(ctx, env, seq))
}

// unavailable marks chain states a client should retry elsewhere or later
// (no leader, halted, not a consenter), so broadcast answers 503.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{chain.ErrNoLeader, chain.ErrHalted, chain.ErrNotConsenter} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", broadcast.ErrUnavailable, err)
		}
	}
	return err
}

// deliverChannel adapts a channel to the deliver service; policy and MSP
// follow the chain's current config.
type deliverChannel struct{ ch *channel }

func (d deliverChannel) Ledger() deliver.Ledger         { return deliver.StoreLedger(d.ch.store) }
func (d deliverChannel) PolicyManager() *policy.Manager { return d.ch.chain.Bundle().PolicyManager() }
func (d deliverChannel) MSPManager() *msp.Manager       { return d.ch.chain.Bundle().MSPManager() }
func (d deliverChannel) Errored() <-chan struct{}       { return d.ch.chain.Errored() }
