package endorser

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/peer"
)

// ProposalSpec describes a proposal to build with NewSignedProposal.
type ProposalSpec struct {
	ChannelID string
	Chaincode string
	Args      [][]byte
	Transient map[string][]byte
	IsInit    bool
	// Type defaults to ENDORSER_TRANSACTION; cscc JoinChain uses CONFIG.
	Type common.HeaderType
	// Timestamp defaults to now.
	Timestamp time.Time
	// Nonce defaults to 24 random bytes.
	Nonce []byte
}

// NewSignedProposal builds and signs a proposal the way Fabric clients do
// (ChaincodeSpec type GOLANG, tx id = hex(SHA-256(nonce ‖ creator))).
func NewSignedProposal(s Signer, spec ProposalSpec) (*peer.SignedProposal, string, error) {
	if s == nil {
		return nil, "", errors.New("proposal: signer is nil")
	}
	if spec.Chaincode == "" {
		return nil, "", errors.New("proposal: chaincode name is empty")
	}
	typ := spec.Type
	if typ == 0 {
		typ = common.HeaderType_ENDORSER_TRANSACTION
	}
	ts := spec.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	nonce := spec.Nonce
	if nonce == nil {
		nonce = channelconfig.NewNonce()
	}
	creator := s.Serialize()
	txID := channelconfig.ComputeTxID(nonce, creator)
	ccid := &peer.ChaincodeID{Name: spec.Chaincode}
	ext, err := deterministic.Marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: ccid})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: header extension: %w", err)
	}
	chdr, err := deterministic.Marshal(&common.ChannelHeader{Type: int32(typ), ChannelId: spec.ChannelID, TxId: txID,
		Timestamp: timestamppb.New(ts), Extension: ext})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: channel header: %w", err)
	}
	shdr, err := deterministic.Marshal(&common.SignatureHeader{Creator: creator, Nonce: nonce})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: signature header: %w", err)
	}
	hdr, err := deterministic.Marshal(&common.Header{ChannelHeader: chdr, SignatureHeader: shdr})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: header: %w", err)
	}
	cis, err := deterministic.Marshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
		Type: peer.ChaincodeSpec_GOLANG, ChaincodeId: ccid,
		Input: &peer.ChaincodeInput{Args: spec.Args, IsInit: spec.IsInit}}})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: invocation spec: %w", err)
	}
	payload, err := deterministic.Marshal(&peer.ChaincodeProposalPayload{Input: cis, TransientMap: spec.Transient})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: payload: %w", err)
	}
	prop, err := deterministic.Marshal(&peer.Proposal{Header: hdr, Payload: payload})
	if err != nil {
		return nil, "", fmt.Errorf("proposal: %w", err)
	}
	sig, err := s.Sign(prop)
	if err != nil {
		return nil, "", fmt.Errorf("proposal: sign: %w", err)
	}
	return &peer.SignedProposal{ProposalBytes: prop, Signature: sig}, txID, nil
}
