package validator

import (
	"errors"
	"slices"

	"google.golang.org/protobuf/proto"

	"weft/policy"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// checkEndorsed does what Fabric's v2.0 validation dispatcher and default
// plugin do: parse the chaincode action and read-write set, check the
// chaincode identity, and evaluate the endorsement policy of the invoked
// chaincode and of every namespace the transaction writes to. Namespaces that
// are only read are not policy-checked, as in Fabric.
func (c *checker) checkEndorsed(info *txInfo, tx *endorserTx) {
	hdrExt := &peer.ChaincodeHeaderExtension{}
	if err := proto.Unmarshal(tx.chdr.GetExtension(), hdrExt); err != nil {
		info.code = peer.TxValidationCode_BAD_HEADER_EXTENSION
		return
	}
	action := &peer.ChaincodeAction{}
	if err := proto.Unmarshal(tx.prp.GetExtension(), action); err != nil {
		info.code = peer.TxValidationCode_BAD_RESPONSE_PAYLOAD
		return
	}
	rws, err := parseRWSet(action.GetResults())
	if err != nil {
		info.code = peer.TxValidationCode_BAD_RWSET
		return
	}
	if hdrExt.GetChaincodeId() == nil || action.GetChaincodeId() == nil {
		info.code = peer.TxValidationCode_INVALID_OTHER_REASON
		return
	}
	ccName := hdrExt.GetChaincodeId().GetName()
	if ccName == "" || ccName != action.GetChaincodeId().GetName() || action.GetChaincodeId().GetVersion() == "" {
		info.code = peer.TxValidationCode_INVALID_CHAINCODE
		return
	}
	if action.GetEvents() != nil {
		ev := &peer.ChaincodeEvent{}
		if err := proto.Unmarshal(action.GetEvents(), ev); err != nil || ev.GetChaincodeId() != ccName {
			info.code = peer.TxValidationCode_INVALID_OTHER_REASON
			return
		}
		info.event = ev
	}

	checked := map[string]*kvrwset.KVRWSet{ccName: {}}
	seen := make(map[string]bool, len(rws))
	for _, n := range rws {
		if seen[n.ns] {
			info.code = peer.TxValidationCode_ILLEGAL_WRITESET
			return
		}
		seen[n.ns] = true
		if n.ns == ccName || len(n.kv.GetWrites()) > 0 || len(n.kv.GetMetadataWrites()) > 0 {
			checked[n.ns] = n.kv
		}
	}
	names := make([]string, 0, len(checked))
	for ns := range checked {
		names = append(names, ns)
	}
	slices.Sort(names) // a stable order keeps the outcome independent of map order

	sd := c.endorsements(tx)
	for _, ns := range names {
		if err := c.in.Policies.CheckEndorsement(ns, checked[ns], sd); err != nil {
			if errors.Is(err, ErrUnknownChaincode) {
				info.code = peer.TxValidationCode_INVALID_CHAINCODE
			} else {
				info.code = peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE
			}
			return
		}
	}
	info.rws = rws
}

// endorsements turns the endorsements into signed data over
// proposal_response_payload ‖ endorser. Endorsements by identities the
// channel does not accept, or with bad signatures, are dropped: a policy
// evaluation ignores them anyway, and dropping them here keeps a checker
// that forgets to verify from counting them. The verifications are kept in a
// memo that travels with the signed data, so the endorsement policies (of
// possibly several namespaces, each possibly made of per-org sub-policies)
// do not verify the same signatures again.
func (c *checker) endorsements(tx *endorserTx) []policy.SignedData {
	prpBytes := tx.payload.GetAction().GetProposalResponsePayload()
	memo := policy.NewVerifyMemo()
	var out []policy.SignedData
	for _, e := range tx.payload.GetAction().GetEndorsements() {
		if e == nil {
			continue
		}
		data := make([]byte, 0, len(prpBytes)+len(e.GetEndorser()))
		data = append(append(data, prpBytes...), e.GetEndorser()...)
		id, err := c.identity(e.GetEndorser())
		if err != nil {
			continue
		}
		if c.in.Own.Made(e.GetEndorser(), data, e.GetSignature()) {
			memo.Vouch(id, data, e.GetSignature())
		} else if memo.Verify(id, data, e.GetSignature()) != nil {
			continue
		}
		out = append(out, policy.SignedData{Data: data, Identity: e.GetEndorser(), Signature: e.GetSignature()})
	}
	return policy.WithMemo(out, memo)
}

// parseRWSet decodes a TxReadWriteSet and each namespace's KVRWSet. Hashed
// private-data sets are refused: weft does not support private data, and
// accepting them unchecked would commit nothing while reporting VALID.
func parseRWSet(raw []byte) ([]nsRWSet, error) {
	txrw := &rwset.TxReadWriteSet{}
	if err := proto.Unmarshal(raw, txrw); err != nil {
		return nil, err
	}
	out := make([]nsRWSet, 0, len(txrw.GetNsRwset()))
	for _, n := range txrw.GetNsRwset() {
		if len(n.GetCollectionHashedRwset()) > 0 {
			return nil, errors.New("private data collections are not supported")
		}
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
			return nil, err
		}
		out = append(out, nsRWSet{ns: n.GetNamespace(), kv: kv})
	}
	return out, nil
}
