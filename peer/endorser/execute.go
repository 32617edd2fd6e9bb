package endorser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"weft/msp"
	"weft/wire/peer"
)

// InitializedKey is the reserved key in a chaincode's namespace recording the
// definition version that ran Init (Fabric's "initialized" key).
var InitializedKey = "\x00" + string(utf8.MaxRune) + "initialized"

// outcome is what running the chaincode produced.
type outcome struct {
	res     *peer.Response
	event   *peer.ChaincodeEvent
	version string
	sim     Simulator
}

// process runs the chaincode and builds the response.
func (e *Endorser) process(ctx context.Context, p *Proposal, ch Channel, creator *msp.Identity) (*peer.ProposalResponse, error) {
	out, err := e.run(ctx, p, ch, creator)
	if out != nil && out.sim != nil {
		defer out.sim.Done()
	}
	if err != nil {
		return nil, err
	}
	return e.respond(p, out)
}

func (e *Endorser) run(ctx context.Context, p *Proposal, ch Channel, creator *msp.Identity) (*outcome, error) {
	out := &outcome{}
	name := p.ChaincodeName
	// qscc and cscc read the ledger directly; like Fabric they get no
	// simulator (which would also leave an empty read-write set behind).
	if ch != nil && name != QSCCName && name != CSCCName {
		sim, err := ch.NewSimulator(p.TxID())
		if err != nil {
			return nil, fmt.Errorf("failed to create transaction simulator: %w", err)
		}
		out.sim = sim
	}
	if sys, ok := e.SystemChaincodes[name]; ok {
		stub := &SysStub{args: p.Input.Args, sim: out.sim, channelID: p.ChannelID(), txID: p.TxID(),
			creator: creator, signed: p.Signed}
		if e.LocalMSP != nil {
			stub.localMSPID = e.LocalMSP.ID()
		}
		if ch != nil {
			stub.bundle = ch.Bundle()
		}
		out.version = SysCCVersion
		out.res = sys.Invoke(ctx, stub)
		if out.res == nil {
			return out, fmt.Errorf("error in simulation: system chaincode %s returned no response", name)
		}
		return out, nil
	}
	if ch == nil {
		return out, fmt.Errorf("chaincode %s: user chaincodes can only be invoked on a channel", name)
	}
	tc := &TxContext{e: e, ch: ch, sim: out.sim, prop: p, channelID: p.ChannelID(), name: name, chain: []string{name}}
	res, ev, version, err := e.execUser(ctx, tc, name, p.Input)
	out.version = version
	if err != nil {
		return out, err
	}
	out.res = res
	if res.Status < 400 && ev != nil {
		// The peer, not the chaincode, vouches for whose event it is.
		ev.ChaincodeId = name
		ev.TxId = p.TxID()
		out.event = ev
	}
	return out, nil
}

// execUser resolves the committed definition and this org's approved
// package for name, enforces init-once semantics and runs the chaincode.
func (e *Endorser) execUser(ctx context.Context, tc *TxContext, name string, input *peer.ChaincodeInput) (*peer.Response, *peer.ChaincodeEvent, string, error) {
	if e.Lifecycle == nil || e.Executor == nil {
		return nil, nil, "", errors.New("user chaincodes are not supported by this peer (no lifecycle or executor configured)")
	}
	channelID := tc.channelID
	// Reading the definition through the simulator puts it in the read set,
	// so a definition committed meanwhile invalidates the transaction.
	def, ok, err := e.Lifecycle.Definition(tc.sim.GetState, name)
	if err != nil {
		return nil, nil, "", fmt.Errorf("make sure the chaincode %s has been successfully defined on channel %s and try again: reading definition: %w", name, channelID, err)
	}
	if !ok {
		return nil, nil, "", fmt.Errorf("make sure the chaincode %s has been successfully defined on channel %s and try again: chaincode %s not found", name, channelID, name)
	}
	mspID := ""
	if e.LocalMSP != nil {
		mspID = e.LocalMSP.ID()
	}
	pkgID, approved, err := e.Lifecycle.ApprovedPackageID(tc.ch.CommittedState, name, def.Sequence, mspID)
	if err != nil {
		return nil, nil, def.Version, fmt.Errorf("chaincode %s: reading this org's approval: %w", name, err)
	}
	if !approved {
		return nil, nil, def.Version, fmt.Errorf("chaincode definition for '%s' at sequence %d on channel '%s' has not yet been approved by this org", name, def.Sequence, channelID)
	}
	if pkgID == "" {
		return nil, nil, def.Version, fmt.Errorf("chaincode definition for '%s' exists, but chaincode is not installed", name)
	}
	isInit, err := checkInit(tc.sim, def, input)
	if err != nil {
		return nil, nil, def.Version, fmt.Errorf("invalid invocation: %w", err)
	}
	res, ev, err := e.Executor.Execute(ctx, pkgID, tc, input, isInit)
	if err != nil {
		return nil, nil, def.Version, fmt.Errorf("error in simulation: failed to execute transaction %s: %w", tc.prop.TxID(), err)
	}
	if res == nil {
		return nil, nil, def.Version, fmt.Errorf("error in simulation: nil response from transaction %s", tc.prop.TxID())
	}
	return res, ev, def.Version, nil
}

// checkInit enforces "Init exactly once per definition version" when the
// definition requires it, returning whether this call is the Init.
func checkInit(sim Simulator, def *Definition, input *peer.ChaincodeInput) (bool, error) {
	needsInit := false
	if def.InitRequired {
		v, err := sim.GetState(def.Name, InitializedKey)
		if err != nil {
			return false, fmt.Errorf("could not get 'initialized' key: %w", err)
		}
		needsInit = !bytes.Equal(v, []byte(def.Version))
	}
	if input.IsInit {
		if !def.InitRequired {
			return false, fmt.Errorf("chaincode '%s' does not require initialization but called as init", def.Name)
		}
		if !needsInit {
			return false, fmt.Errorf("chaincode '%s' is already initialized but called as init", def.Name)
		}
		if err := sim.PutState(def.Name, InitializedKey, []byte(def.Version)); err != nil {
			return false, fmt.Errorf("could not set 'initialized' key: %w", err)
		}
		return true, nil
	}
	if needsInit {
		return false, fmt.Errorf("chaincode '%s' has not been initialized for this version, must call as init first", def.Name)
	}
	return false, nil
}

// TxContext is one chaincode invocation's view of its transaction, handed to
// the Executor.
type TxContext struct {
	e         *Endorser
	ch        Channel
	sim       Simulator
	prop      *Proposal
	channelID string
	name      string
	// chain lists the chaincodes on the call stack, to refuse recursion.
	chain []string
}

// Simulator is the transaction's simulator.
func (t *TxContext) Simulator() Simulator { return t.sim }

// ChannelID is the channel the chaincode runs on.
func (t *TxContext) ChannelID() string { return t.channelID }

// ChaincodeName is the chaincode this context runs, its state namespace.
func (t *TxContext) ChaincodeName() string { return t.name }

// TxID is the transaction id.
func (t *TxContext) TxID() string { return t.prop.TxID() }

// SignedProposal is the client's proposal, passed on to the chaincode.
func (t *TxContext) SignedProposal() *peer.SignedProposal { return t.prop.Signed }

// Proposal is the decoded proposal.
func (t *TxContext) Proposal() *Proposal { return t.prop }

// InvokeChaincode runs chaincode name from within this transaction.
// On the same channel it shares the simulator, so its reads and writes join
// this transaction; on another channel it runs on a throw-away simulator
// whose writes are discarded (Fabric's read-only cross-channel calls).
// The callee's event is dropped, as in Fabric.
func (t *TxContext) InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*peer.Response, error) {
	if name == "" {
		return nil, errors.New("invoke chaincode: name is empty")
	}
	if _, sys := t.e.SystemChaincodes[name]; sys {
		return nil, fmt.Errorf("invoke chaincode: system chaincode %s cannot be called from a chaincode", name)
	}
	if slices.Contains(t.chain, name) {
		return nil, fmt.Errorf("invoke chaincode: %s is already on the call stack %v", name, t.chain)
	}
	if channel == "" {
		channel = t.channelID
	}
	child := &TxContext{e: t.e, ch: t.ch, sim: t.sim, prop: t.prop, channelID: channel, name: name, chain: append(slices.Clone(t.chain), name)}
	if channel != t.channelID {
		ch, ok := t.e.channel(channel)
		if !ok {
			return nil, fmt.Errorf("invoke chaincode %s: channel '%s' not found", name, channel)
		}
		sim, err := ch.NewSimulator(t.prop.TxID())
		if err != nil {
			return nil, fmt.Errorf("invoke chaincode %s on channel %s: %w", name, channel, err)
		}
		defer sim.Done()
		child.ch, child.sim = ch, sim
	}
	acl := &ACL{LocalMSP: t.e.LocalMSP}
	if err := acl.Check(ResourceChaincodeToCC, child.ch.Bundle(), proposalSignedData(t.prop)); err != nil {
		return nil, fmt.Errorf("invoke chaincode %s: %w", name, err)
	}
	res, _, _, err := t.e.execUser(ctx, child, name, &peer.ChaincodeInput{Args: args})
	return res, err
}
