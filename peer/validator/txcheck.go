package validator

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/common"
	"weft/wire/peer"
)

// checker runs the per-transaction checks that need no knowledge of the
// other transactions of the block. It is shared by the worker goroutines and
// holds only read-only state.
type checker struct {
	in      Input
	mspMgr  *msp.Manager
	channel string
}

// identity deserializes and validates a creator or endorser; the MSP
// manager caches the chain checks, so repeated identities are cheap.
func (c *checker) identity(serialized []byte) (*msp.Identity, error) {
	return c.mspMgr.DeserializeIdentity(serialized)
}

// endorserTx is the parsed body of an endorser transaction.
type endorserTx struct {
	chdr    *common.ChannelHeader
	payload *peer.ChaincodeActionPayload
	prp     *peer.ProposalResponsePayload
}

func invalid(code peer.TxValidationCode) *txInfo { return &txInfo{code: code} }

// checkTx applies, in Fabric's order, the envelope and header checks, the
// creator signature, the tx id, the transaction structure and proposal hash,
// the channel, the ledger duplicate check and the endorsement checks.
func (c *checker) checkTx(data []byte) *txInfo {
	env := &common.Envelope{}
	if err := proto.Unmarshal(data, env); err != nil {
		return invalid(peer.TxValidationCode_INVALID_OTHER_REASON)
	}
	payload := &common.Payload{}
	if err := proto.Unmarshal(env.GetPayload(), payload); err != nil {
		return invalid(peer.TxValidationCode_BAD_PAYLOAD)
	}
	hdr := payload.GetHeader()
	if hdr == nil {
		return invalid(peer.TxValidationCode_BAD_COMMON_HEADER)
	}
	chdr := &common.ChannelHeader{}
	if err := proto.Unmarshal(hdr.GetChannelHeader(), chdr); err != nil {
		return invalid(peer.TxValidationCode_BAD_COMMON_HEADER)
	}
	info := &txInfo{typ: common.HeaderType(chdr.GetType()), txID: chdr.GetTxId()}
	// CONFIG transactions are checked and applied by the committer against
	// the channel config (which may differ from in.Bundle once applied);
	// genesis blocks carry no creator at all, so the generic checks below
	// would wrongly reject them.
	if info.typ == common.HeaderType_CONFIG {
		return info
	}
	shdr := &common.SignatureHeader{}
	if err := proto.Unmarshal(hdr.GetSignatureHeader(), shdr); err != nil {
		info.code = peer.TxValidationCode_BAD_COMMON_HEADER
		return info
	}
	if code := checkHeaders(chdr, shdr); code != peer.TxValidationCode_VALID {
		info.code = code
		return info
	}
	creator, err := c.identity(shdr.GetCreator())
	if err != nil || creator.Verify(env.GetPayload(), env.GetSignature()) != nil {
		info.code = peer.TxValidationCode_BAD_CREATOR_SIGNATURE
		return info
	}
	if info.typ != common.HeaderType_ENDORSER_TRANSACTION {
		// CONFIG_UPDATE passes the header checks but never belongs in a block.
		info.code = peer.TxValidationCode_UNSUPPORTED_TX_PAYLOAD
		return info
	}
	if channelconfig.ComputeTxID(shdr.GetNonce(), shdr.GetCreator()) != chdr.GetTxId() {
		info.code = peer.TxValidationCode_BAD_PROPOSAL_TXID
		return info
	}
	tx, err := parseEndorserTx(hdr.GetChannelHeader(), payload.GetData())
	if err != nil {
		info.code = peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION
		return info
	}
	tx.chdr = chdr
	if chdr.GetChannelId() != c.channel {
		info.code = peer.TxValidationCode_TARGET_CHAIN_NOT_FOUND
		return info
	}
	exists, err := c.in.TxExists(chdr.GetTxId())
	if err != nil {
		info.err = fmt.Errorf("tx id %q: ledger lookup: %w", chdr.GetTxId(), err)
		return info
	}
	if exists {
		info.code = peer.TxValidationCode_DUPLICATE_TXID
		return info
	}
	c.checkEndorsed(info, tx)
	return info
}

// checkHeaders is Fabric's common header validation: a known type, epoch 0,
// and a nonce and creator.
func checkHeaders(chdr *common.ChannelHeader, shdr *common.SignatureHeader) peer.TxValidationCode {
	switch common.HeaderType(chdr.GetType()) {
	case common.HeaderType_ENDORSER_TRANSACTION, common.HeaderType_CONFIG_UPDATE, common.HeaderType_CONFIG:
	default:
		return peer.TxValidationCode_BAD_COMMON_HEADER
	}
	if chdr.GetEpoch() != 0 || len(shdr.GetNonce()) == 0 || len(shdr.GetCreator()) == 0 {
		return peer.TxValidationCode_BAD_COMMON_HEADER
	}
	return peer.TxValidationCode_VALID
}

// parseEndorserTx checks the transaction structure: exactly one action whose
// signature header has a nonce and creator, and whose proposal response
// payload carries the hash of the proposal it answers.
func parseEndorserTx(chdrBytes, data []byte) (*endorserTx, error) {
	tx := &peer.Transaction{}
	if err := proto.Unmarshal(data, tx); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	if n := len(tx.GetActions()); n != 1 {
		return nil, fmt.Errorf("transaction: %d actions, want exactly 1", n)
	}
	act := tx.GetActions()[0]
	if act == nil {
		return nil, fmt.Errorf("transaction: action is nil")
	}
	ashdr := &common.SignatureHeader{}
	if err := proto.Unmarshal(act.GetHeader(), ashdr); err != nil {
		return nil, fmt.Errorf("action header: %w", err)
	}
	if len(ashdr.GetNonce()) == 0 || len(ashdr.GetCreator()) == 0 {
		return nil, fmt.Errorf("action header: nonce or creator missing")
	}
	cap := &peer.ChaincodeActionPayload{}
	if err := proto.Unmarshal(act.GetPayload(), cap); err != nil {
		return nil, fmt.Errorf("chaincode action payload: %w", err)
	}
	if cap.GetAction() == nil {
		return nil, fmt.Errorf("chaincode action payload: action is missing")
	}
	prp := &peer.ProposalResponsePayload{}
	if err := proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), prp); err != nil {
		return nil, fmt.Errorf("proposal response payload: %w", err)
	}
	if len(cap.GetChaincodeProposalPayload()) == 0 {
		return nil, fmt.Errorf("chaincode proposal payload is missing")
	}
	// The committer hashes the proposal payload bytes as carried in the
	// transaction; the client already stripped the transient map from them
	// (Fabric's GetProposalHash2).
	h := sha256.New()
	h.Write(chdrBytes)
	h.Write(act.GetHeader())
	h.Write(cap.GetChaincodeProposalPayload())
	if !bytes.Equal(h.Sum(nil), prp.GetProposalHash()) {
		return nil, fmt.Errorf("proposal hash does not match")
	}
	return &endorserTx{payload: cap, prp: prp}, nil
}
