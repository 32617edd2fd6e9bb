package endorser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"weft/msp"
	"weft/policy"
	"weft/wire/peer"
)

// System chaincode names.
const (
	LifecycleName = "_lifecycle"
	CSCCName      = "cscc"
	QSCCName      = "qscc"
	// SysCCVersion is the version system chaincodes report in their actions.
	SysCCVersion = "syscc"
)

// Endorser serves protos.Endorser/ProcessProposal.
type Endorser struct {
	peer.UnimplementedEndorserServer

	Channels ChannelSource
	// LocalMSP is the peer's organisation; channel-less proposals and local
	// admin resources are checked against it.
	LocalMSP *msp.MSP
	Signer   Signer
	// SystemChaincodes by name (_lifecycle, cscc, qscc).
	SystemChaincodes map[string]SystemChaincode
	Lifecycle        Lifecycle
	Executor         Executor
	// TimeWindow bounds how far the proposal timestamp may be from the
	// peer's clock; 0 disables the check (Fabric's endorser has none).
	TimeWindow time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

func (e *Endorser) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Endorser) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// failure is a status-500 response carrying msg.
func failure(msg string) *peer.ProposalResponse {
	return &peer.ProposalResponse{Response: &peer.Response{Status: 500, Message: msg}}
}

// ProcessProposal endorses sp. As in Fabric, problems with the proposal
// itself (decoding, headers, creator, signature, duplicate, ACL of a user
// chaincode) come back as an error together with a status-500 response
// (gRPC drops the response; in-process callers see both), while failures to
// run the chaincode, and ACL refusals of system chaincodes (which Fabric's
// system chaincodes check themselves), come back as a status-500 response
// and a nil error.
func (e *Endorser) ProcessProposal(ctx context.Context, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	p, err := Unpack(sp)
	if err != nil {
		e.logger().Warn("failed to unpack proposal", "error", err)
		return failure(err.Error()), err
	}
	var ch Channel
	if p.ChannelID() != "" {
		var ok bool
		if e.Channels != nil {
			ch, ok = e.Channels.Channel(p.ChannelID())
		}
		if !ok {
			return failure(fmt.Sprintf("channel '%s' not found", p.ChannelID())), nil
		}
	}
	creator, err := e.preProcess(p, ch)
	var denied *sysACLError
	if errors.As(err, &denied) {
		// Fabric's system chaincodes check their own ACLs and answer a
		// refusal as a chaincode error: a status-500 response on a
		// successful call, not an RPC error.
		e.logger().Warn("system chaincode access denied", "channel", p.ChannelID(), "txID", p.TxID(), "error", err)
		return failure(err.Error()), nil
	}
	if err != nil {
		var ae *accessError
		if errors.As(err, &ae) {
			e.logger().Warn("proposal rejected", "channel", p.ChannelID(), "txID", p.TxID(), "error", err, "cause", ae.cause)
		} else {
			e.logger().Warn("proposal rejected", "channel", p.ChannelID(), "txID", p.TxID(), "error", err)
		}
		return failure(err.Error()), err
	}
	resp, err := e.process(ctx, p, ch, creator)
	if err != nil {
		e.logger().Warn("failed to invoke chaincode", "channel", p.ChannelID(), "chaincode", p.ChaincodeName, "txID", p.TxID(), "error", err)
		return failure(err.Error()), nil
	}
	return resp, nil
}

// preProcess runs the checks that reject a proposal outright.
func (e *Endorser) preProcess(p *Proposal, ch Channel) (*msp.Identity, error) {
	if err := checkHeaders(p, e.now(), e.TimeWindow); err != nil {
		return nil, fmt.Errorf("error validating proposal: %w", err)
	}
	var ids identityDeserializer
	if ch != nil {
		mg := ch.Bundle().MSPManager()
		if mg == nil {
			return nil, fmt.Errorf("error validating proposal: channel %q has no MSPs", p.ChannelID())
		}
		ids = mg
	} else {
		if e.LocalMSP == nil {
			return nil, errors.New("error validating proposal: no local MSP for channel-less proposals")
		}
		ids = localDeserializer{e.LocalMSP}
	}
	creator, err := checkCreator(p, ids)
	if err != nil {
		return nil, fmt.Errorf("error validating proposal: %w", err)
	}
	if ch != nil {
		dup, err := ch.TxExists(p.TxID())
		if err != nil {
			return nil, fmt.Errorf("checking for duplicate transaction %s: %w", p.TxID(), err)
		}
		if dup {
			return nil, fmt.Errorf("duplicate transaction found [%s]. Creator [%x]", p.TxID(), p.SignatureHeader.Creator)
		}
	}
	if err := e.checkACL(p, ch); err != nil {
		if _, sys := e.SystemChaincodes[p.ChaincodeName]; sys {
			return nil, &sysACLError{err}
		}
		return nil, err
	}
	return creator, nil
}

// sysACLError is an ACL refusal of a system chaincode call.
type sysACLError struct{ error }

func (e *sysACLError) Unwrap() error { return e.error }

// checkACL picks the resource the proposal touches: peer/Propose for user
// chaincodes, "<scc>/<function>" for system chaincodes. qscc and cscc name
// the channel they act on in args[1], and that channel's policies apply.
func (e *Endorser) checkACL(p *Proposal, ch Channel) error {
	acl := &ACL{LocalMSP: e.LocalMSP}
	sd := proposalSignedData(p)
	resource := ResourcePropose
	if _, sys := e.SystemChaincodes[p.ChaincodeName]; sys {
		fn := ""
		if len(p.Input.Args) > 0 {
			fn = string(p.Input.Args[0])
		}
		resource = p.ChaincodeName + "/" + fn
		if !IsLocalResource(resource) && (p.ChaincodeName == QSCCName || p.ChaincodeName == CSCCName) && len(p.Input.Args) > 1 {
			target := string(p.Input.Args[1])
			tch, ok := e.channel(target)
			if !ok {
				// Let the system chaincode report the unknown channel, but
				// only to identities that pass the local member check.
				return acl.Check("cscc/GetChannels", nil, sd)
			}
			ch = tch
		}
	}
	if IsLocalResource(resource) || ch == nil {
		if !IsLocalResource(resource) {
			// A channel resource without a channel: only local members get
			// through, the chaincode itself will then refuse.
			return acl.Check("cscc/GetChannels", nil, sd)
		}
		return acl.Check(resource, nil, sd)
	}
	return acl.Check(resource, ch.Bundle(), sd)
}

func (e *Endorser) channel(id string) (Channel, bool) {
	if e.Channels == nil || id == "" {
		return nil, false
	}
	return e.Channels.Channel(id)
}

// proposalSignedData is the creator's signature over the proposal, the
// signed data proposal ACLs are evaluated on. It carries the proposal's
// memo, so the signature checkCreator verified is not verified again.
func proposalSignedData(p *Proposal) []policy.SignedData {
	sd := []policy.SignedData{{Data: p.Signed.ProposalBytes, Identity: p.SignatureHeader.Creator, Signature: p.Signed.Signature}}
	return policy.WithMemo(sd, p.memo)
}
