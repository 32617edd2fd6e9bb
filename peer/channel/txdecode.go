package channel

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/peer/validator"
	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// DecodedTx is a transaction of a block, decoded as far as the committer and
// the event services need it.
type DecodedTx struct {
	Header *common.ChannelHeader
	// Actions are the chaincode actions of an ENDORSER_TRANSACTION (nil
	// for other types).
	Actions []*peer.ChaincodeAction
}

// DecodeTx decodes the envelope bytes raw of a block's data.
func DecodeTx(raw []byte) (*DecodedTx, error) {
	payload, chdr, err := decodePayload(raw)
	if err != nil {
		return nil, err
	}
	d := &DecodedTx{Header: chdr}
	if chdr.GetType() != int32(common.HeaderType_ENDORSER_TRANSACTION) {
		return d, nil
	}
	var tx peer.Transaction
	if err := proto.Unmarshal(payload.GetData(), &tx); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	for i, a := range tx.GetActions() {
		ca, err := chaincodeAction(a)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", i, err)
		}
		d.Actions = append(d.Actions, ca)
	}
	return d, nil
}

// DecodeTxHeader decodes only the channel header of envelope bytes raw.
func DecodeTxHeader(raw []byte) (*common.ChannelHeader, error) {
	_, chdr, err := decodePayload(raw)
	return chdr, err
}

func decodePayload(raw []byte) (*common.Payload, *common.ChannelHeader, error) {
	if len(raw) == 0 {
		return nil, nil, errors.New("empty envelope")
	}
	var env common.Envelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return nil, nil, fmt.Errorf("envelope: %w", err)
	}
	var payload common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &payload); err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	if payload.GetHeader() == nil {
		return nil, nil, errors.New("payload: missing header")
	}
	var chdr common.ChannelHeader
	if err := proto.Unmarshal(payload.GetHeader().GetChannelHeader(), &chdr); err != nil {
		return nil, nil, fmt.Errorf("channel header: %w", err)
	}
	return &payload, &chdr, nil
}

func chaincodeAction(a *peer.TransactionAction) (*peer.ChaincodeAction, error) {
	var cp peer.ChaincodeActionPayload
	if err := proto.Unmarshal(a.GetPayload(), &cp); err != nil {
		return nil, fmt.Errorf("chaincode action payload: %w", err)
	}
	if cp.GetAction() == nil {
		return nil, errors.New("chaincode action payload: missing action")
	}
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(cp.GetAction().GetProposalResponsePayload(), &prp); err != nil {
		return nil, fmt.Errorf("proposal response payload: %w", err)
	}
	var ca peer.ChaincodeAction
	if err := proto.Unmarshal(prp.GetExtension(), &ca); err != nil {
		return nil, fmt.Errorf("chaincode action: %w", err)
	}
	return &ca, nil
}

// writeSets returns the per-namespace write sets of an endorser transaction
// (none for other types).
func writeSets(raw []byte) ([]validator.NamespaceWrites, error) {
	d, err := DecodeTx(raw)
	if err != nil {
		return nil, err
	}
	var out []validator.NamespaceWrites
	for i, ca := range d.Actions {
		var txrw rwset.TxReadWriteSet
		if err := proto.Unmarshal(ca.GetResults(), &txrw); err != nil {
			return nil, fmt.Errorf("action %d: read-write set: %w", i, err)
		}
		for _, ns := range txrw.GetNsRwset() {
			var kv kvrwset.KVRWSet
			if err := proto.Unmarshal(ns.GetRwset(), &kv); err != nil {
				return nil, fmt.Errorf("action %d: namespace %q: %w", i, ns.GetNamespace(), err)
			}
			out = append(out, validator.NamespaceWrites{Namespace: ns.GetNamespace(), Set: &kv})
		}
	}
	return out, nil
}

// txCode is the validation code of tx i recorded in b's TRANSACTIONS_FILTER;
// a missing entry counts as INVALID_OTHER_REASON, as Fabric's readers do.
func txCode(b *common.Block, i int) peer.TxValidationCode {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		return peer.TxValidationCode_INVALID_OTHER_REASON
	}
	return filterCode(md[common.BlockMetadataIndex_TRANSACTIONS_FILTER], i)
}

// filterCode is the code of tx i in a TRANSACTIONS_FILTER.
func filterCode(f []byte, i int) peer.TxValidationCode {
	if i < 0 || i >= len(f) {
		return peer.TxValidationCode_INVALID_OTHER_REASON
	}
	return peer.TxValidationCode(f[i])
}

// TxCode is txCode for other packages (the event services).
func TxCode(b *common.Block, i int) peer.TxValidationCode { return txCode(b, i) }

// setFilter stores codes as b's TRANSACTIONS_FILTER, growing the metadata
// to Fabric's five slots if the orderer sent fewer.
func setFilter(b *common.Block, codes []peer.TxValidationCode) {
	if b.Metadata == nil {
		b.Metadata = &common.BlockMetadata{}
	}
	for len(b.Metadata.Metadata) < metadataSlots {
		b.Metadata.Metadata = append(b.Metadata.Metadata, nil)
	}
	f := make([]byte, len(codes))
	for i, c := range codes {
		f[i] = byte(c)
	}
	b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = f
}

// metadataSlots is the number of metadata entries Fabric blocks carry.
const metadataSlots = 5
