package gateway

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/peer"
)

// proposal is what the gateway reads from a signed proposal. Unlike the
// endorser it takes the chaincode name from the invocation spec, as Fabric's
// gateway does.
type proposal struct {
	header        *common.Header
	channelHeader *common.ChannelHeader
	payload       *peer.ChaincodeProposalPayload
	chaincode     string
	hasTransient  bool
}

func parseProposal(sp *peer.SignedProposal) (*proposal, error) {
	if len(sp.GetProposalBytes()) == 0 {
		return nil, errors.New("a signed proposal is required")
	}
	prop := &peer.Proposal{}
	if err := proto.Unmarshal(sp.ProposalBytes, prop); err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	p := &proposal{header: &common.Header{}, channelHeader: &common.ChannelHeader{}, payload: &peer.ChaincodeProposalPayload{}}
	if err := proto.Unmarshal(prop.Header, p.header); err != nil {
		return nil, fmt.Errorf("proposal header: %w", err)
	}
	if err := proto.Unmarshal(p.header.ChannelHeader, p.channelHeader); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	if err := proto.Unmarshal(prop.Payload, p.payload); err != nil {
		return nil, fmt.Errorf("proposal payload: %w", err)
	}
	spec := &peer.ChaincodeInvocationSpec{}
	if err := proto.Unmarshal(p.payload.Input, spec); err != nil {
		return nil, fmt.Errorf("chaincode invocation spec: %w", err)
	}
	ch := p.channelHeader.ChannelId
	switch {
	case ch == "":
		return nil, errors.New("no channel id provided")
	case spec.ChaincodeSpec == nil:
		return nil, fmt.Errorf("no chaincode spec is provided, channel id [%s]", ch)
	case spec.ChaincodeSpec.ChaincodeId == nil:
		return nil, fmt.Errorf("no chaincode id is provided, channel id [%s]", ch)
	case spec.ChaincodeSpec.ChaincodeId.Name == "":
		return nil, fmt.Errorf("no chaincode name is provided, channel id [%s]", ch)
	}
	p.chaincode = spec.ChaincodeSpec.ChaincodeId.Name
	p.hasTransient = len(p.payload.TransientMap) > 0
	return p, nil
}

// resultOf extracts the transaction result from a proposal response: the
// response payload inside the endorsed ChaincodeAction, which is what ends up
// in the ledger.
func resultOf(pr *peer.ProposalResponse) ([]byte, error) {
	prp := &peer.ProposalResponsePayload{}
	if err := proto.Unmarshal(pr.GetPayload(), prp); err != nil {
		return nil, fmt.Errorf("proposal response payload: %w", err)
	}
	ca := &peer.ChaincodeAction{}
	if err := proto.Unmarshal(prp.Extension, ca); err != nil {
		return nil, fmt.Errorf("chaincode action: %w", err)
	}
	return ca.GetResponse().GetPayload(), nil
}
