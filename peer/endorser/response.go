package endorser

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/ledger/rwset"
	"weft/wire/peer"
)

// respond turns the chaincode outcome into the ProposalResponse Fabric
// returns for it.
func (e *Endorser) respond(p *Proposal, out *outcome) (*peer.ProposalResponse, error) {
	var results []byte
	var interest *peer.ChaincodeInterest
	if out.sim != nil {
		rws, err := out.sim.Results()
		if err != nil {
			return nil, fmt.Errorf("error in simulation: collecting results: %w", err)
		}
		if rws != nil {
			if results, err = deterministic.Marshal(rws); err != nil {
				return nil, fmt.Errorf("marshal read-write set: %w", err)
			}
			interest = e.interest(rws.GetNsRwset())
		}
	}
	var events []byte
	if out.event != nil {
		var err error
		if events, err = deterministic.Marshal(out.event); err != nil {
			return nil, fmt.Errorf("failed to marshal chaincode event: %w", err)
		}
	}
	prp, err := ResponsePayload(p.Hash, out.res, results, events, &peer.ChaincodeID{Name: p.ChaincodeName, Version: out.version})
	if err != nil {
		return nil, fmt.Errorf("failed to create the proposal response: %w", err)
	}
	switch {
	case out.res.Status >= 500:
		// Unendorsed, but the payload lets the client see what was simulated.
		return &peer.ProposalResponse{Response: out.res, Payload: prp, Interest: interest}, nil
	case p.ChannelID() == "":
		// Channel-less invocations (install, queries) cannot become
		// transactions, so there is nothing to endorse.
		return &peer.ProposalResponse{Response: out.res}, nil
	case out.res.Status >= 400:
		return &peer.ProposalResponse{Response: out.res}, nil
	}
	if e.Signer == nil {
		return nil, fmt.Errorf("endorsing with plugin failed: no signing identity configured")
	}
	end, err := Endorse(e.Signer, prp)
	if err != nil {
		return nil, fmt.Errorf("endorsing with plugin failed: %w", err)
	}
	return &peer.ProposalResponse{
		Version:     1,
		Timestamp:   timestamppb.New(e.now()),
		Response:    out.res,
		Payload:     prp,
		Endorsement: end,
		Interest:    interest,
	}, nil
}

// ResponsePayload marshals ProposalResponsePayload{hash, ChaincodeAction}.
// These bytes must be identical on every endorser of a transaction.
func ResponsePayload(hash []byte, res *peer.Response, results, events []byte, ccid *peer.ChaincodeID) ([]byte, error) {
	action, err := deterministic.Marshal(&peer.ChaincodeAction{Results: results, Events: events, Response: res, ChaincodeId: ccid})
	if err != nil {
		return nil, fmt.Errorf("marshal chaincode action: %w", err)
	}
	b, err := deterministic.Marshal(&peer.ProposalResponsePayload{ProposalHash: hash, Extension: action})
	if err != nil {
		return nil, fmt.Errorf("marshal proposal response payload: %w", err)
	}
	return b, nil
}

// Endorse signs prp ‖ endorser identity, Fabric's default endorsement.
func Endorse(s Signer, prp []byte) (*peer.Endorsement, error) {
	endorser := s.Serialize()
	msg := make([]byte, 0, len(prp)+len(endorser))
	msg = append(append(msg, prp...), endorser...)
	sig, err := s.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("sign proposal response: %w", err)
	}
	return &peer.Endorsement{Endorser: endorser, Signature: sig}, nil
}

// interest names the user chaincodes whose state the simulation touched,
// the hint Fabric gateways use to plan further endorsements.
func (e *Endorser) interest(ns []*rwset.NsReadWriteSet) *peer.ChaincodeInterest {
	names := map[string]bool{}
	for _, n := range ns {
		if _, sys := e.SystemChaincodes[n.GetNamespace()]; sys || n.GetNamespace() == "" {
			continue
		}
		names[n.GetNamespace()] = true
	}
	if len(names) == 0 {
		return nil
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	ci := &peer.ChaincodeInterest{}
	for _, n := range sorted {
		ci.Chaincodes = append(ci.Chaincodes, &peer.ChaincodeCall{Name: n})
	}
	return ci
}
