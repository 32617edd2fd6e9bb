package endorser

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/policy"
	"weft/wire/common"
	"weft/wire/peer"
)

// Proposal is a signed proposal decoded down to the parts the endorser and
// the gateway need.
type Proposal struct {
	Signed          *peer.SignedProposal
	Proposal        *peer.Proposal
	Header          *common.Header
	ChannelHeader   *common.ChannelHeader
	SignatureHeader *common.SignatureHeader
	// ChaincodeName comes from the channel header extension, which is what
	// Fabric's endorser routes on.
	ChaincodeName string
	Payload       *peer.ChaincodeProposalPayload
	Input         *peer.ChaincodeInput
	// Hash is the proposal hash every endorser puts into its response and the
	// committer recomputes.
	Hash []byte

	// memo keeps the creator's signature verified once across the creator
	// check and the ACL checks (the proposal's own and any chaincode-to-
	// chaincode calls); nil just verifies every time.
	memo *policy.VerifyMemo
}

// ChannelID is the channel the proposal targets ("" for channel-less ones).
func (p *Proposal) ChannelID() string { return p.ChannelHeader.GetChannelId() }

// TxID is the transaction id from the channel header.
func (p *Proposal) TxID() string { return p.ChannelHeader.GetTxId() }

// Unpack decodes sp. It fails on anything a Fabric endorser cannot decode,
// naming the part that is wrong.
func Unpack(sp *peer.SignedProposal) (*Proposal, error) {
	if sp == nil || len(sp.ProposalBytes) == 0 {
		return nil, errors.New("signed proposal: proposal_bytes is empty")
	}
	p := &Proposal{memo: policy.NewVerifyMemo(), Signed: sp, Proposal: &peer.Proposal{}, Header: &common.Header{},
		ChannelHeader: &common.ChannelHeader{}, SignatureHeader: &common.SignatureHeader{},
		Payload: &peer.ChaincodeProposalPayload{}}
	if err := proto.Unmarshal(sp.ProposalBytes, p.Proposal); err != nil {
		return nil, fmt.Errorf("signed proposal: proposal_bytes: %w", err)
	}
	if err := proto.Unmarshal(p.Proposal.Header, p.Header); err != nil {
		return nil, fmt.Errorf("proposal: header: %w", err)
	}
	if err := proto.Unmarshal(p.Header.ChannelHeader, p.ChannelHeader); err != nil {
		return nil, fmt.Errorf("proposal header: channel_header: %w", err)
	}
	if err := proto.Unmarshal(p.Header.SignatureHeader, p.SignatureHeader); err != nil {
		return nil, fmt.Errorf("proposal header: signature_header: %w", err)
	}
	ext := &peer.ChaincodeHeaderExtension{}
	if err := proto.Unmarshal(p.ChannelHeader.Extension, ext); err != nil {
		return nil, fmt.Errorf("channel header: extension: %w", err)
	}
	if ext.ChaincodeId == nil {
		return nil, errors.New("channel header: extension: chaincode_id is missing")
	}
	if ext.ChaincodeId.Name == "" {
		return nil, errors.New("channel header: extension: chaincode_id.name is empty")
	}
	p.ChaincodeName = ext.ChaincodeId.Name
	if err := proto.Unmarshal(p.Proposal.Payload, p.Payload); err != nil {
		return nil, fmt.Errorf("proposal: payload: %w", err)
	}
	cis := &peer.ChaincodeInvocationSpec{}
	if err := proto.Unmarshal(p.Payload.Input, cis); err != nil {
		return nil, fmt.Errorf("proposal payload: input: %w", err)
	}
	if cis.ChaincodeSpec == nil {
		return nil, errors.New("proposal payload: input: chaincode_spec is missing")
	}
	if cis.ChaincodeSpec.Input == nil {
		return nil, errors.New("proposal payload: input: chaincode_spec.input is missing")
	}
	p.Input = cis.ChaincodeSpec.Input
	h, err := ProposalHash(p.Header, p.Payload)
	if err != nil {
		return nil, err
	}
	p.Hash = h
	return p, nil
}

// ProposalHash is SHA-256(channel header ‖ signature header ‖ payload without
// its transient map). The transient map is left out so that private inputs
// never reach the ledger, yet the committer can still recompute the hash from
// the payload stored in the transaction.
func ProposalHash(h *common.Header, payload *peer.ChaincodeProposalPayload) ([]byte, error) {
	stripped, err := StripTransient(payload)
	if err != nil {
		return nil, err
	}
	d := sha256.New()
	d.Write(h.GetChannelHeader())
	d.Write(h.GetSignatureHeader())
	d.Write(stripped)
	return d.Sum(nil), nil
}

// StripTransient marshals payload with only its input: the form hashed into
// the proposal hash and stored in the transaction.
func StripTransient(payload *peer.ChaincodeProposalPayload) ([]byte, error) {
	b, err := deterministic.Marshal(&peer.ChaincodeProposalPayload{Input: payload.GetInput()})
	if err != nil {
		return nil, fmt.Errorf("marshal proposal payload without transient data: %w", err)
	}
	return b, nil
}

// deterministic marshalling keeps bytes identical across endorsers.
var deterministic = proto.MarshalOptions{Deterministic: true}
