package endorser

import (
	"context"
	"errors"
	"fmt"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/peer/chaincode"
	"weft/peer/lifecycle"
	"weft/peer/scc"
	"weft/peer/txsim"
	"weft/wire/peer"
)

// LedgerChannel adapts a channel's state database and block store to Channel.
type LedgerChannel struct {
	// Config returns the current channel config.
	Config  func() *channelconfig.Bundle
	State   *statedb.DB
	Blocks  *blockstore.Store
	History txsim.HistorySource
}

// Bundle returns the current config.
func (c *LedgerChannel) Bundle() *channelconfig.Bundle { return c.Config() }

// TxExists looks txID up in the block store.
func (c *LedgerChannel) TxExists(txID string) (bool, error) {
	_, _, err := c.Blocks.TxLocation(txID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, blockstore.ErrNotFound):
		return false, nil
	}
	return false, err
}

// NewSimulator starts a txsim simulation.
func (c *LedgerChannel) NewSimulator(txID string) (Simulator, error) {
	var opts []txsim.Option
	if c.History != nil {
		opts = append(opts, txsim.WithHistory(c.History))
	}
	return txsim.New(c.State, txID, opts...), nil
}

// CommittedState reads the state database.
func (c *LedgerChannel) CommittedState(ns, key string) ([]byte, error) {
	v, err := c.State.Get(ns, key)
	if err != nil || v == nil {
		return nil, err
	}
	return v.Value, nil
}

// LifecycleState reads definitions and approvals with weft/peer/lifecycle.
type LifecycleState struct{}

// Definition reads the committed definition of name.
func (LifecycleState) Definition(get StateGetter, name string) (*Definition, bool, error) {
	d, ok, err := lifecycle.Definition(get, name)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &Definition{Name: d.Name, Version: d.Version, Sequence: d.Sequence, InitRequired: d.InitRequired}, true, nil
}

// ApprovedPackageID reads this org's approved package.
func (LifecycleState) ApprovedPackageID(get StateGetter, name string, seq int64, mspID string) (string, bool, error) {
	return lifecycle.ApprovedPackageID(get, name, seq, mspID)
}

// PackageSource finds installed packages (lifecycle.Store).
type PackageSource interface {
	Package(id string) (*chaincode.Package, error)
}

// RuntimeExecutor runs installed CCaaS packages on a chaincode.Runtime.
type RuntimeExecutor struct {
	Packages PackageSource
	Runtime  *chaincode.Runtime
}

// Execute resolves packageID to its connection and runs the transaction.
func (r *RuntimeExecutor) Execute(ctx context.Context, packageID string, tx *TxContext, input *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error) {
	pkg, err := r.Packages.Package(packageID)
	if err != nil {
		return nil, nil, fmt.Errorf("chaincode %s: installed package %s: %w", tx.ChaincodeName(), packageID, err)
	}
	if pkg.Connection == nil {
		return nil, nil, fmt.Errorf("chaincode %s: package %s of type %q cannot be run (only chaincode-as-a-service packages are supported)", tx.ChaincodeName(), packageID, pkg.Type)
	}
	sim, ok := tx.Simulator().(*txsim.Simulator)
	if !ok {
		return nil, nil, fmt.Errorf("chaincode %s: simulator %T is not a txsim.Simulator", tx.ChaincodeName(), tx.Simulator())
	}
	return r.Runtime.Execute(ctx, packageID, pkg.Connection, runtimeTx{tx, sim}, input, isInit)
}

// runtimeTx presents a TxContext as chaincode.TxContext.
type runtimeTx struct {
	*TxContext
	sim *txsim.Simulator
}

func (r runtimeTx) Simulator() *txsim.Simulator { return r.sim }

func (r runtimeTx) InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*peer.Response, *peer.ChaincodeEvent, error) {
	res, err := r.TxContext.InvokeChaincode(ctx, name, args, channel)
	return res, nil, err
}

// LifecycleSystemChaincode adapts the _lifecycle system chaincode.
func LifecycleSystemChaincode(s *lifecycle.SCC) SystemChaincode {
	return SystemChaincodeFunc(func(ctx context.Context, stub *SysStub) *peer.Response {
		var sim *txsim.Simulator
		if stub.Simulator() != nil {
			var ok bool
			if sim, ok = stub.Simulator().(*txsim.Simulator); !ok {
				return &peer.Response{Status: 500, Message: fmt.Sprintf("simulator %T is not a txsim.Simulator", stub.Simulator())}
			}
		}
		return s.Invoke(ctx, lifecycleStub{stub, sim})
	})
}

type lifecycleStub struct {
	*SysStub
	sim *txsim.Simulator
}

func (l lifecycleStub) Simulator() *txsim.Simulator { return l.sim }

// StubSystemChaincode adapts system chaincodes taking an scc.Stub (cscc,
// qscc), e.g. StubSystemChaincode(cscc.Invoke).
func StubSystemChaincode(invoke func(context.Context, scc.Stub) *peer.Response) SystemChaincode {
	return SystemChaincodeFunc(func(ctx context.Context, stub *SysStub) *peer.Response { return invoke(ctx, stub) })
}

// Compile-time checks that the adapters fit the real interfaces.
var (
	_ chaincode.TxContext = runtimeTx{}
	_ lifecycle.SysStub   = lifecycleStub{}
	_ scc.Stub            = (*SysStub)(nil)
	_ Simulator           = (*txsim.Simulator)(nil)
	_ Channel             = (*LedgerChannel)(nil)
	_ Lifecycle           = LifecycleState{}
	_ PackageSource       = (*lifecycle.Store)(nil)
)
