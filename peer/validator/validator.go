// Package validator decides which transactions of a block are valid and what
// they write, following the rules a Fabric v2.5/v3 committing peer applies:
// message checks (core/common/validation), the v2.0 validation dispatcher and
// default endorsement plugin, then MVCC and phantom-read checks against the
// state database (core/ledger/kvledger/txmgmt/validation).
//
// Validate is pure: it reads the state database and returns validation codes
// and an update batch, but commits nothing.
package validator

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// PolicyChecker verifies that endorsements satisfy a namespace's endorsement
// policy as of the state being validated.
type PolicyChecker interface {
	// CheckEndorsement verifies that the endorsements satisfy namespace ns's
	// endorsement policy as of the state being validated (reads the committed
	// chaincode definition, incl. _lifecycle's own rules). writes is the
	// namespace's part of the read-write set (never nil). Implementations
	// must verify the signatures themselves (policy.Policy does); the
	// validator only drops endorsements that cannot be valid.
	CheckEndorsement(ns string, writes *kvrwset.KVRWSet, signedData []policy.SignedData) error
}

// ErrUnknownChaincode may be wrapped by a PolicyChecker when ns has no
// chaincode definition; the transaction then gets INVALID_CHAINCODE, as in
// Fabric, instead of ENDORSEMENT_POLICY_FAILURE.
var ErrUnknownChaincode = errors.New("no chaincode definition for namespace")

// Input is one block to validate and the channel context to validate it in.
type Input struct {
	Block  *common.Block
	Bundle *channelconfig.Bundle
	State  *statedb.DB
	// TxExists reports whether a transaction ID is already in the ledger.
	TxExists func(txID string) (bool, error)
	Policies PolicyChecker
	// Own, if set, holds this peer's own endorsement signatures, which
	// need no verification.
	Own *OwnSignatures
}

// Result holds one entry per transaction of the block, in block order.
type Result struct {
	Codes []peer.TxValidationCode
	// Batch holds the writes of the valid transactions, each at
	// Version{block number, index in block}.
	Batch *statedb.UpdateBatch
	// TxIDs are the channel header tx_id of each transaction ("" when the
	// header could not be read).
	TxIDs []string
	// Events are the chaincode events the transactions carry (nil when none
	// or unreadable). They are reported for invalid transactions too; check
	// Codes before emitting them.
	Events []*peer.ChaincodeEvent
}

// Filter is the TRANSACTIONS_FILTER block metadata: one code byte per
// transaction.
func (r *Result) Filter() []byte {
	f := make([]byte, len(r.Codes))
	for i, c := range r.Codes {
		f[i] = byte(c)
	}
	return f
}

// txInfo is what the parallel phase learns about one transaction.
type txInfo struct {
	code  peer.TxValidationCode
	typ   common.HeaderType
	txID  string
	rws   []nsRWSet
	event *peer.ChaincodeEvent
	err   error // a ledger failure: validation of the block cannot finish
}

// nsRWSet is one namespace of a parsed read-write set.
type nsRWSet struct {
	ns string
	kv *kvrwset.KVRWSet
}

// Validate validates every transaction of in.Block. Message, signature and
// endorsement-policy checks run in parallel (at most GOMAXPROCS at a time);
// duplicate and MVCC checks then run in block order. An error means the block
// could not be validated at all (bad input or a ledger failure), never that a
// transaction is invalid.
func Validate(in Input) (*Result, error) {
	if err := checkInput(in); err != nil {
		return nil, err
	}
	data := in.Block.GetData().GetData()
	infos := make([]*txInfo, len(data))
	c := &checker{in: in, mspMgr: in.Bundle.MSPManager(), channel: in.Bundle.ChannelID()}

	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(data)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(data) {
					return
				}
				infos[i] = c.checkTx(data[i])
			}
		}()
	}
	wg.Wait()

	res := &Result{
		Codes:  make([]peer.TxValidationCode, len(data)),
		Batch:  statedb.NewUpdateBatch(),
		TxIDs:  make([]string, len(data)),
		Events: make([]*peer.ChaincodeEvent, len(data)),
	}
	for i, info := range infos {
		if info.err != nil {
			return nil, fmt.Errorf("block %d tx %d: %w", in.Block.GetHeader().GetNumber(), i, info.err)
		}
		res.TxIDs[i], res.Events[i] = info.txID, info.event
	}
	markInBlockDuplicates(infos)

	st := newBlockState(in.State, res.Batch)
	blockNum := in.Block.GetHeader().GetNumber()
	for i, info := range infos {
		if info.code == peer.TxValidationCode_VALID && info.typ == common.HeaderType_ENDORSER_TRANSACTION {
			code, err := st.validate(info.rws)
			if err != nil {
				return nil, fmt.Errorf("block %d tx %d: mvcc: %w", blockNum, i, err)
			}
			info.code = code
			if code == peer.TxValidationCode_VALID {
				if err := st.apply(info.rws, statedb.Version{BlockNum: blockNum, TxNum: uint64(i)}); err != nil {
					return nil, fmt.Errorf("block %d tx %d: apply writes: %w", blockNum, i, err)
				}
			}
		}
		res.Codes[i] = info.code
	}
	return res, nil
}

func checkInput(in Input) error {
	switch {
	case in.Block == nil:
		return errors.New("input: block is nil")
	case in.Block.GetHeader() == nil:
		return errors.New("input: block header is missing")
	case in.Block.GetData() == nil:
		return errors.New("input: block data is missing")
	case in.Bundle == nil:
		return errors.New("input: bundle is nil")
	case in.State == nil:
		return errors.New("input: state database is nil")
	case in.TxExists == nil:
		return errors.New("input: TxExists is nil")
	case in.Policies == nil:
		return errors.New("input: policy checker is nil")
	}
	return nil
}

// markInBlockDuplicates invalidates every endorser transaction whose ID an
// earlier still-valid one already uses; as in Fabric, a transaction already
// invalid for another reason does not claim its ID.
func markInBlockDuplicates(infos []*txInfo) {
	seen := make(map[string]bool, len(infos))
	for _, info := range infos {
		if info.code != peer.TxValidationCode_VALID || info.typ != common.HeaderType_ENDORSER_TRANSACTION {
			continue
		}
		if seen[info.txID] {
			info.code = peer.TxValidationCode_DUPLICATE_TXID
			continue
		}
		seen[info.txID] = true
	}
}
