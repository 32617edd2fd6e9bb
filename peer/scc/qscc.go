package scc

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"weft/ledger/blockstore"
	"weft/wire/common"
	"weft/wire/peer"
)

// QSCC function names.
const (
	GetChainInfo       = "GetChainInfo"
	GetBlockByNumber   = "GetBlockByNumber"
	GetBlockByHash     = "GetBlockByHash"
	GetTransactionByID = "GetTransactionByID"
	GetBlockByTxID     = "GetBlockByTxID"
)

// Ledgers gives the block store of a joined channel.
type Ledgers interface {
	// BlockStore returns nil for a channel the peer has not joined.
	BlockStore(channel string) *blockstore.Store
}

// LedgersFunc adapts a function to Ledgers.
type LedgersFunc func(channel string) *blockstore.Store

// BlockStore calls f.
func (f LedgersFunc) BlockStore(channel string) *blockstore.Store { return f(channel) }

// QSCC is the ledger query system chaincode.
type QSCC struct {
	Ledgers Ledgers
}

// Invoke runs one qscc function: args are [function, channel, argument].
func (q *QSCC) Invoke(ctx context.Context, stub Stub) *peer.Response {
	args := stub.Args()
	if len(args) < 2 {
		return failure(fmt.Sprintf("Incorrect number of arguments, %d", len(args)))
	}
	fn, channel := string(args[0]), string(args[1])
	if fn != GetChainInfo && len(args) < 3 {
		return failure(fmt.Sprintf("missing 3rd argument for %s", fn))
	}
	var store *blockstore.Store
	if q.Ledgers != nil {
		store = q.Ledgers.BlockStore(channel)
	}
	if store == nil {
		return failure(fmt.Sprintf("Invalid chain ID, %s", channel))
	}
	switch fn {
	case GetChainInfo:
		return chainInfo(store)
	case GetBlockByNumber:
		n, err := strconv.ParseUint(string(args[2]), 10, 64)
		if err != nil {
			return failure(fmt.Sprintf("Failed to parse block number with error %s", err))
		}
		b, err := store.Block(n)
		if err != nil {
			return failure(fmt.Sprintf("Failed to get block number %d, error %s", n, err))
		}
		return marshalResult(b)
	case GetBlockByHash:
		if len(args[2]) == 0 {
			return failure("Block hash must not be nil.")
		}
		b, err := store.BlockByHash(args[2])
		if err != nil {
			return failure(fmt.Sprintf("Failed to get block hash %x, error %s", args[2], err))
		}
		return marshalResult(b)
	case GetTransactionByID:
		txID := string(args[2])
		if txID == "" {
			return failure("Transaction ID must not be nil.")
		}
		pt, err := transactionByID(store, txID)
		if err != nil {
			return failure(fmt.Sprintf("Failed to get transaction with id %s, error %s", txID, err))
		}
		return marshalResult(pt)
	case GetBlockByTxID:
		txID := string(args[2])
		b, err := blockByTxID(store, txID)
		if err != nil {
			return failure(fmt.Sprintf("Failed to get block for txID %s, error %s", txID, err))
		}
		return marshalResult(b)
	}
	return failure(fmt.Sprintf("Requested function %s not found.", fn))
}

func chainInfo(s *blockstore.Store) *peer.Response {
	info := &common.BlockchainInfo{Height: s.Height()}
	if info.Height > 0 {
		last, err := s.Block(info.Height - 1)
		if err != nil {
			return failure(fmt.Sprintf("Failed to get block info with error %s", err))
		}
		info.CurrentBlockHash = blockstore.HeaderHash(last.GetHeader())
		info.PreviousBlockHash = last.GetHeader().GetPreviousHash()
	}
	return marshalResult(info)
}

func blockByTxID(s *blockstore.Store, txID string) (*common.Block, error) {
	if txID == "" {
		return nil, errors.New("transaction ID is empty")
	}
	num, _, err := s.TxLocation(txID)
	if err != nil {
		return nil, err
	}
	return s.Block(num)
}

func transactionByID(s *blockstore.Store, txID string) (*peer.ProcessedTransaction, error) {
	num, idx, err := s.TxLocation(txID)
	if err != nil {
		return nil, err
	}
	b, err := s.Block(num)
	if err != nil {
		return nil, err
	}
	data := b.GetData().GetData()
	if idx < 0 || idx >= len(data) {
		return nil, fmt.Errorf("block %d has no transaction %d", num, idx)
	}
	env := &common.Envelope{}
	if err := proto.Unmarshal(data[idx], env); err != nil {
		return nil, fmt.Errorf("block %d transaction %d: %w", num, idx, err)
	}
	code := peer.TxValidationCode_NOT_VALIDATED
	md := b.GetMetadata().GetMetadata()
	if f := int(common.BlockMetadataIndex_TRANSACTIONS_FILTER); f < len(md) && idx < len(md[f]) {
		code = peer.TxValidationCode(md[f][idx])
	}
	return &peer.ProcessedTransaction{TransactionEnvelope: env, ValidationCode: int32(code)}, nil
}
