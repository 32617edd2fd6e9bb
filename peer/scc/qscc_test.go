package scc

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/wire/common"
	"weft/wire/peer"
)

func envelope(t testing.TB, txID string) []byte {
	t.Helper()
	ch := must(proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel, TxId: txID}))(t)
	payload := must(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: []byte("tx " + txID)}))(t)
	return must(proto.Marshal(&common.Envelope{Payload: payload, Signature: []byte("sig")}))(t)
}

// ledgerWithBlocks holds the genesis block and two blocks of two
// transactions each; tx "b2t1" is marked invalid by the filter.
func ledgerWithBlocks(t testing.TB, n *net) *blockstore.Store {
	t.Helper()
	s := must(blockstore.Open(t.TempDir(), blockstore.Options{Sync: blockstore.SyncNever}))(t)
	t.Cleanup(func() { s.Close() })
	if err := s.Append(n.genesis); err != nil {
		t.Fatal(err)
	}
	for num := uint64(1); num <= 2; num++ {
		b := channelconfig.NewBlock(num, s.LastHeaderHash())
		for i := range 2 {
			b.Data.Data = append(b.Data.Data, envelope(t, fmt.Sprintf("b%dt%d", num, i)))
		}
		b.Header.DataHash = channelconfig.BlockDataHash(b.Data)
		filter := []byte{byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_VALID)}
		if num == 2 {
			filter[1] = byte(peer.TxValidationCode_MVCC_READ_CONFLICT)
		}
		b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = filter
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestQSCC(t *testing.T) {
	n := newNet(t)
	store := ledgerWithBlocks(t, n)
	q := &QSCC{Ledgers: LedgersFunc(func(ch string) *blockstore.Store {
		if ch == testChannel {
			return store
		}
		return nil
	})}
	b1 := must(store.Block(1))(t)
	b2 := must(store.Block(2))(t)

	blockNum := func(want uint64) func(*testing.T, []byte) {
		return func(t *testing.T, p []byte) {
			b := &common.Block{}
			if err := proto.Unmarshal(p, b); err != nil || b.GetHeader().GetNumber() != want {
				t.Fatalf("block %v %v, want number %d", b.GetHeader(), err, want)
			}
		}
	}
	processed := func(txID string, code peer.TxValidationCode) func(*testing.T, []byte) {
		return func(t *testing.T, p []byte) {
			pt := &peer.ProcessedTransaction{}
			if err := proto.Unmarshal(p, pt); err != nil {
				t.Fatal(err)
			}
			if pt.ValidationCode != int32(code) {
				t.Fatalf("validation code %d, want %d", pt.ValidationCode, code)
			}
			pl := &common.Payload{}
			if err := proto.Unmarshal(pt.GetTransactionEnvelope().GetPayload(), pl); err != nil || string(pl.Data) != "tx "+txID {
				t.Fatalf("envelope payload %q %v", pl.GetData(), err)
			}
		}
	}
	tests := []struct {
		name    string
		args    [][]byte
		wantMsg string
		check   func(*testing.T, []byte)
	}{
		{"chain info", strArgs("GetChainInfo", testChannel), "", func(t *testing.T, p []byte) {
			info := &common.BlockchainInfo{}
			if err := proto.Unmarshal(p, info); err != nil {
				t.Fatal(err)
			}
			if info.Height != 3 || !bytes.Equal(info.CurrentBlockHash, store.LastHeaderHash()) || !bytes.Equal(info.PreviousBlockHash, blockstore.HeaderHash(b1.Header)) {
				t.Fatalf("info %v", info)
			}
		}},
		{"block by number", strArgs("GetBlockByNumber", testChannel, "1"), "", blockNum(1)},
		{"genesis by number", strArgs("GetBlockByNumber", testChannel, "0"), "", blockNum(0)},
		{"block by hash", [][]byte{[]byte("GetBlockByHash"), []byte(testChannel), blockstore.HeaderHash(b2.Header)}, "", blockNum(2)},
		{"valid transaction", strArgs("GetTransactionByID", testChannel, "b1t0"), "", processed("b1t0", peer.TxValidationCode_VALID)},
		{"invalid transaction keeps its code", strArgs("GetTransactionByID", testChannel, "b2t1"), "", processed("b2t1", peer.TxValidationCode_MVCC_READ_CONFLICT)},
		{"block by tx id", strArgs("GetBlockByTxID", testChannel, "b2t0"), "", blockNum(2)},
		{"no args", nil, "Incorrect number of arguments, 0", nil},
		{"no channel", strArgs("GetChainInfo"), "Incorrect number of arguments, 1", nil},
		{"missing argument", strArgs("GetBlockByNumber", testChannel), "missing 3rd argument for GetBlockByNumber", nil},
		{"unknown channel", strArgs("GetChainInfo", "nope"), "Invalid chain ID, nope", nil},
		{"unknown function", strArgs("Frob", testChannel, "x"), "Requested function Frob not found.", nil},
		{"non-decimal number", strArgs("GetBlockByNumber", testChannel, "0x1"), "Failed to parse block number", nil},
		{"negative number", strArgs("GetBlockByNumber", testChannel, "-1"), "Failed to parse block number", nil},
		{"block beyond height", strArgs("GetBlockByNumber", testChannel, "3"), "Failed to get block number 3", nil},
		{"unknown hash", [][]byte{[]byte("GetBlockByHash"), []byte(testChannel), bytes.Repeat([]byte{1}, 32)}, "Failed to get block hash", nil},
		{"empty hash", [][]byte{[]byte("GetBlockByHash"), []byte(testChannel), nil}, "Block hash must not be nil", nil},
		{"unknown tx", strArgs("GetTransactionByID", testChannel, "nope"), "Failed to get transaction with id nope", nil},
		{"empty tx id", strArgs("GetTransactionByID", testChannel, ""), "Transaction ID must not be nil", nil},
		{"unknown tx for block", strArgs("GetBlockByTxID", testChannel, "nope"), "Failed to get block for txID nope", nil},
		{"empty tx id for block", strArgs("GetBlockByTxID", testChannel, ""), "transaction ID is empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := q.Invoke(t.Context(), &stub{args: tc.args, creator: n.client})
			if tc.wantMsg != "" {
				if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
					t.Fatalf("got %d %q, want 500 %q", resp.Status, resp.Message, tc.wantMsg)
				}
				return
			}
			if resp.Status != 200 {
				t.Fatalf("status %d: %s", resp.Status, resp.Message)
			}
			tc.check(t, resp.Payload)
		})
	}
}

func TestQSCCEmptyLedger(t *testing.T) {
	s := must(blockstore.Open(t.TempDir(), blockstore.Options{Sync: blockstore.SyncNever}))(t)
	defer s.Close()
	q := &QSCC{Ledgers: LedgersFunc(func(string) *blockstore.Store { return s })}
	resp := q.Invoke(t.Context(), &stub{args: strArgs("GetChainInfo", testChannel)})
	info := &common.BlockchainInfo{}
	if resp.Status != 200 || proto.Unmarshal(resp.Payload, info) != nil || info.Height != 0 || info.CurrentBlockHash != nil {
		t.Fatalf("%d %q %v", resp.Status, resp.Message, info)
	}
	if resp := (&QSCC{}).Invoke(t.Context(), &stub{args: strArgs("GetChainInfo", testChannel)}); resp.Status != 500 {
		t.Fatalf("QSCC without ledgers answered %d", resp.Status)
	}
}
