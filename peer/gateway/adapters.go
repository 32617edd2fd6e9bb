package gateway

import (
	"context"

	"weft/channelconfig"
	"weft/deliver"
	"weft/ledger/statedb"
	"weft/peer/lifecycle"
	"weft/wire/peer"
)

// CommittedChannel is what a joined channel (weft/peer/channel.Channel)
// offers.
type CommittedChannel interface {
	Bundle() *channelconfig.Bundle
	Ledger() deliver.Ledger
	WaitForTx(ctx context.Context, txID string) (peer.TxValidationCode, uint64, error)
	State() *statedb.DB
}

// WithLifecyclePolicies turns a joined channel into a gateway Channel whose
// endorsement policies are those of the committed lifecycle definitions,
// the same rules the committer validates with.
func WithLifecyclePolicies(c CommittedChannel) Channel { return lifecycleChannel{c} }

type lifecycleChannel struct{ CommittedChannel }

func (l lifecycleChannel) Policies() PolicyChecker {
	state := l.State()
	get := func(ns, key string) ([]byte, error) {
		v, err := state.Get(ns, key)
		if err != nil || v == nil {
			return nil, err
		}
		return v.Value, nil
	}
	return lifecycle.NewPolicyChecker(get, l.Bundle())
}
