package endorser

import (
	"context"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/ledger/rwset"
	"weft/wire/peer"
)

// Simulator is the part of a transaction simulator (txsim.Simulator) the
// endorser drives itself; chaincodes get the full simulator through the
// executor.
type Simulator interface {
	GetState(ns, key string) ([]byte, error)
	PutState(ns, key string, value []byte) error
	Results() (*rwset.TxReadWriteSet, error)
	Done()
}

// Channel is the peer's view of one joined channel.
type Channel interface {
	// Bundle is the current channel config.
	Bundle() *channelconfig.Bundle
	// TxExists reports whether txID is already in the ledger.
	TxExists(txID string) (bool, error)
	// NewSimulator starts a simulation on the committed state.
	NewSimulator(txID string) (Simulator, error)
	// CommittedState reads the committed state without recording a read;
	// used for this org's own approvals, which must not show up in the
	// read set (they differ between orgs and would break the byte-identical
	// payloads the gateway demands).
	CommittedState(ns, key string) ([]byte, error)
}

// ChannelSource finds joined channels.
type ChannelSource interface {
	Channel(id string) (Channel, bool)
}

// Definition is what the endorser needs from a committed chaincode
// definition.
type Definition struct {
	Name         string
	Version      string
	Sequence     int64
	InitRequired bool
}

// StateGetter reads one key of the state, nil when absent.
type StateGetter func(ns, key string) ([]byte, error)

// Lifecycle reads chaincode definitions and this org's approvals from state
// (the functions of weft/peer/lifecycle).
type Lifecycle interface {
	Definition(get StateGetter, name string) (*Definition, bool, error)
	ApprovedPackageID(get StateGetter, name string, sequence int64, mspID string) (string, bool, error)
}

// Executor runs one invocation of an installed user chaincode (the
// chaincode runtime). packageID is the package this org approved.
type Executor interface {
	Execute(ctx context.Context, packageID string, tx *TxContext, input *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error)
}

// SystemChaincode is a chaincode built into the peer (_lifecycle, cscc,
// qscc).
type SystemChaincode interface {
	Invoke(ctx context.Context, stub *SysStub) *peer.Response
}

// SystemChaincodeFunc adapts a function to SystemChaincode.
type SystemChaincodeFunc func(ctx context.Context, stub *SysStub) *peer.Response

// Invoke calls f.
func (f SystemChaincodeFunc) Invoke(ctx context.Context, stub *SysStub) *peer.Response {
	return f(ctx, stub)
}

// Signer is the peer's own signing identity.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
	// Serialize returns the marshaled SerializedIdentity.
	Serialize() []byte
}

// SysStub is what a system chaincode gets for one invocation.
type SysStub struct {
	args       [][]byte
	sim        Simulator
	channelID  string
	txID       string
	creator    *msp.Identity
	localMSPID string
	bundle     *channelconfig.Bundle
	signed     *peer.SignedProposal
}

// Args are the invocation arguments; args[0] is the function name.
func (s *SysStub) Args() [][]byte { return s.args }

// Simulator is the transaction simulator, nil for channel-less proposals and
// for qscc/cscc (which read the ledger directly, as in Fabric).
func (s *SysStub) Simulator() Simulator { return s.sim }

// ChannelID is the proposal's channel ("" for channel-less proposals).
func (s *SysStub) ChannelID() string { return s.channelID }

// TxID is the proposal's transaction id.
func (s *SysStub) TxID() string { return s.txID }

// Creator is the validated identity that signed the proposal.
func (s *SysStub) Creator() *msp.Identity { return s.creator }

// LocalMSPID is the MSP ID of this peer's organisation.
func (s *SysStub) LocalMSPID() string { return s.localMSPID }

// Bundle is the channel config, nil for channel-less proposals.
func (s *SysStub) Bundle() *channelconfig.Bundle { return s.bundle }

// SignedProposal is the proposal as received.
func (s *SysStub) SignedProposal() *peer.SignedProposal { return s.signed }
