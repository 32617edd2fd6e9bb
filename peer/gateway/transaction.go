package gateway

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/peer"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// PrepareTransaction assembles the unsigned transaction envelope from a
// proposal's header and payload and the endorsed response payload: one
// action whose header is the proposal's signature header, whose proposal
// payload has the transient map removed, and whose endorsements are the
// collected ones. The client signs the returned envelope's payload.
func PrepareTransaction(header *common.Header, payload *peer.ChaincodeProposalPayload, prp []byte, endorsements []*peer.Endorsement) (*common.Envelope, error) {
	if header == nil || payload == nil {
		return nil, errors.New("prepare transaction: proposal header and payload are required")
	}
	if len(prp) == 0 {
		return nil, errors.New("prepare transaction: proposal response payload is empty")
	}
	if len(endorsements) == 0 {
		return nil, errors.New("prepare transaction: no endorsements")
	}
	cpp, err := deterministic.Marshal(&peer.ChaincodeProposalPayload{Input: payload.Input})
	if err != nil {
		return nil, fmt.Errorf("prepare transaction: proposal payload: %w", err)
	}
	cap, err := deterministic.Marshal(&peer.ChaincodeActionPayload{ChaincodeProposalPayload: cpp,
		Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: endorsements}})
	if err != nil {
		return nil, fmt.Errorf("prepare transaction: action payload: %w", err)
	}
	tx, err := deterministic.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Header: header.SignatureHeader, Payload: cap}}})
	if err != nil {
		return nil, fmt.Errorf("prepare transaction: transaction: %w", err)
	}
	pl, err := deterministic.Marshal(&common.Payload{Header: header, Data: tx})
	if err != nil {
		return nil, fmt.Errorf("prepare transaction: payload: %w", err)
	}
	return &common.Envelope{Payload: pl}, nil
}
