package peerdeliver

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/peer/channel"
	"weft/wire/common"
	"weft/wire/peer"
)

func TestFilteredBlock(t *testing.T) {
	f := newFixture(t)
	txAction := func(events ...*peer.ChaincodeEvent) *peer.FilteredTransaction_TransactionActions {
		a := &peer.FilteredTransactionActions{}
		for _, ev := range events {
			a.ChaincodeActions = append(a.ChaincodeActions, &peer.FilteredChaincodeAction{ChaincodeEvent: ev})
		}
		return &peer.FilteredTransaction_TransactionActions{TransactionActions: a}
	}
	genesisTx := must(channel.DecodeTxHeader(f.blocks[0].Data.Data[0])).GetTxId()
	cases := []struct {
		block int
		want  *peer.FilteredBlock
	}{
		{0, &peer.FilteredBlock{ChannelId: testChannel, Number: 0, FilteredTransactions: []*peer.FilteredTransaction{
			{Txid: genesisTx, Type: common.HeaderType_CONFIG, TxValidationCode: peer.TxValidationCode_VALID},
		}}},
		{1, &peer.FilteredBlock{ChannelId: testChannel, Number: 1, FilteredTransactions: []*peer.FilteredTransaction{
			{Txid: f.eventTx, Type: common.HeaderType_ENDORSER_TRANSACTION, TxValidationCode: peer.TxValidationCode_VALID,
				Data: txAction(&peer.ChaincodeEvent{ChaincodeId: "basic", TxId: f.eventTx, EventName: "created"})},
			{Txid: f.plainTx, Type: common.HeaderType_ENDORSER_TRANSACTION, TxValidationCode: peer.TxValidationCode_MVCC_READ_CONFLICT,
				Data: txAction()},
		}}},
		{2, &peer.FilteredBlock{ChannelId: testChannel, Number: 2, FilteredTransactions: []*peer.FilteredTransaction{
			{Txid: f.noCCEventTx, Type: common.HeaderType_ENDORSER_TRANSACTION, TxValidationCode: peer.TxValidationCode_INVALID_OTHER_REASON,
				Data: txAction()},
		}}},
	}
	for _, tc := range cases {
		got := FilteredBlock(testChannel, f.blocks[tc.block], quiet)
		if !proto.Equal(got, tc.want) {
			t.Errorf("block %d:\n got %v\nwant %v", tc.block, got, tc.want)
		}
	}
	if got := FilteredBlock("x", &common.Block{}, nil); got.Number != 0 || len(got.FilteredTransactions) != 0 {
		t.Errorf("empty block: %v", got)
	}
}

func TestNewRejectsMissingLookup(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without channel lookup succeeded")
	}
}

// responses reads one request's responses up to its status.
func responses(t *testing.T, st peer.Deliver_DeliverClient) ([]*peer.DeliverResponse, common.Status) {
	t.Helper()
	var out []*peer.DeliverResponse
	for {
		r, err := st.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if s, ok := r.Type.(*peer.DeliverResponse_Status); ok {
			return out, s.Status
		}
		out = append(out, r)
	}
}

func TestServer(t *testing.T) {
	f := newFixture(t)
	s := must(New(Config{Logger: quiet, Channel: func(id string) (*channel.Channel, bool) {
		return f.ch, id == testChannel
	}}))
	client := serve(t, s)
	type call func(ctx context.Context) (peer.Deliver_DeliverClient, error)
	methods := map[string]call{
		"Deliver": func(ctx context.Context) (peer.Deliver_DeliverClient, error) { return client.Deliver(ctx) },
		"DeliverFiltered": func(ctx context.Context) (peer.Deliver_DeliverClient, error) {
			return client.DeliverFiltered(ctx)
		},
		"DeliverWithPrivateData": func(ctx context.Context) (peer.Deliver_DeliverClient, error) {
			return client.DeliverWithPrivateData(ctx)
		},
	}
	check := func(t *testing.T, method string, n int, r *peer.DeliverResponse) {
		t.Helper()
		want := f.blocks[n]
		var ok bool
		switch method {
		case "Deliver":
			ok = proto.Equal(r.GetBlock(), want)
		case "DeliverFiltered":
			ok = proto.Equal(r.GetFilteredBlock(), FilteredBlock(testChannel, want, nil))
		case "DeliverWithPrivateData":
			bp := r.GetBlockAndPrivateData()
			ok = bp != nil && proto.Equal(bp.Block, want) && len(bp.PrivateDataMap) == 0
		}
		if !ok {
			t.Fatalf("%s: response %d does not match block %d: %v", method, n, n, r)
		}
	}
	for name, open := range methods {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				name       string
				env        *common.Envelope
				wantBlocks int
				want       common.Status
			}{
				{"client reads all", seek(t, f.client, testChannel, 0, 2), 3, common.Status_SUCCESS},
				{"client reads one", seek(t, f.client, testChannel, 1, 1), 1, common.Status_SUCCESS},
				{"orderer is no application reader", seek(t, f.ordererNode, testChannel, 0, 2), 0, common.Status_FORBIDDEN},
				{"outsider", seek(t, f.outsider, testChannel, 0, 2), 0, common.Status_FORBIDDEN},
				{"unknown channel", seek(t, f.client, "otherchannel", 0, 0), 0, common.Status_NOT_FOUND},
				{"start beyond height", seek(t, f.client, testChannel, 9, 9), 0, common.Status_NOT_FOUND},
				{"garbage", &common.Envelope{Payload: []byte("junk")}, 0, common.Status_BAD_REQUEST},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					st := must(open(ctx))
					if err := st.Send(tc.env); err != nil {
						t.Fatal(err)
					}
					got, status := responses(t, st)
					if status != tc.want || len(got) != tc.wantBlocks {
						t.Fatalf("status %v with %d blocks, want %v with %d", status, len(got), tc.want, tc.wantBlocks)
					}
					first := int(0)
					if tc.wantBlocks == 1 {
						first = 1
					}
					for i, r := range got {
						check(t, name, first+i, r)
					}
				})
			}
		})
	}
}

func TestServerWaitsForCommittedBlocks(t *testing.T) {
	f := newFixture(t)
	s := must(New(Config{Logger: quiet, Channel: func(string) (*channel.Channel, bool) { return f.ch, true }}))
	client := serve(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st := must(client.DeliverFiltered(ctx))
	if err := st.Send(seek(t, f.client, testChannel, 3, 3)); err != nil {
		t.Fatal(err)
	}
	// Block 3 never comes: the call waits until the client gives up.
	if r, err := st.Recv(); err == nil {
		t.Fatalf("got %v before block 3 exists", r)
	}
}
