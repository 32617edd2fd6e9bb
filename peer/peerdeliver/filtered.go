package peerdeliver

import (
	"context"
	"log/slog"
	"sync"

	"google.golang.org/protobuf/proto"

	"weft/peer/channel"
	"weft/wire/common"
	"weft/wire/peer"
)

// filteredStream sends each block as a FilteredBlock. The channel id of the
// filtered blocks is taken from the seek request being served.
type filteredStream struct {
	srv peer.Deliver_DeliverFilteredServer
	log *slog.Logger

	mu        sync.Mutex
	channelID string
}

func (s *filteredStream) Context() context.Context { return s.srv.Context() }

func (s *filteredStream) Recv() (*common.Envelope, error) {
	env, err := s.srv.Recv()
	if err != nil {
		return nil, err
	}
	// A request that does not decode is rejected by the handler; the
	// channel id only matters for the ones it serves.
	var payload common.Payload
	var chdr common.ChannelHeader
	if proto.Unmarshal(env.GetPayload(), &payload) == nil &&
		proto.Unmarshal(payload.GetHeader().GetChannelHeader(), &chdr) == nil {
		s.mu.Lock()
		s.channelID = chdr.GetChannelId()
		s.mu.Unlock()
	}
	return env, nil
}

func (s *filteredStream) SendBlock(b *common.Block) error {
	s.mu.Lock()
	id := s.channelID
	s.mu.Unlock()
	fb := FilteredBlock(id, b, s.log)
	return s.srv.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_FilteredBlock{FilteredBlock: fb}})
}

func (s *filteredStream) SendStatus(st common.Status) error {
	return s.srv.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_Status{Status: st}})
}

// FilteredBlock summarises committed block b of channelID: per transaction
// its id, type and validation code and, for endorser transactions, the
// chaincode events without their payloads. Transactions that do not decode
// are left out, as Fabric does; log may be nil.
func FilteredBlock(channelID string, b *common.Block, log *slog.Logger) *peer.FilteredBlock {
	fb := &peer.FilteredBlock{ChannelId: channelID, Number: b.GetHeader().GetNumber()}
	for i, raw := range b.GetData().GetData() {
		tx, err := channel.DecodeTx(raw)
		if err != nil {
			if log != nil {
				log.Warn("filtered block: skipping undecodable transaction", "block", fb.Number, "tx", i, "err", err)
			}
			continue
		}
		ft := &peer.FilteredTransaction{
			Txid:             tx.Header.GetTxId(),
			Type:             common.HeaderType(tx.Header.GetType()),
			TxValidationCode: channel.TxCode(b, i),
		}
		if ft.Type == common.HeaderType_ENDORSER_TRANSACTION {
			actions := &peer.FilteredTransactionActions{}
			for _, a := range tx.Actions {
				ev, err := event(a.GetEvents())
				if err != nil {
					if log != nil {
						log.Warn("filtered block: undecodable chaincode event", "block", fb.Number, "tx", i, "err", err)
					}
					continue
				}
				if ev.GetChaincodeId() == "" {
					continue
				}
				actions.ChaincodeActions = append(actions.ChaincodeActions, &peer.FilteredChaincodeAction{
					ChaincodeEvent: &peer.ChaincodeEvent{ChaincodeId: ev.GetChaincodeId(), TxId: ev.GetTxId(), EventName: ev.GetEventName()},
				})
			}
			ft.Data = &peer.FilteredTransaction_TransactionActions{TransactionActions: actions}
		}
		fb.FilteredTransactions = append(fb.FilteredTransactions, ft)
	}
	return fb
}

func event(raw []byte) (*peer.ChaincodeEvent, error) {
	var ev peer.ChaincodeEvent
	if err := proto.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// privateDataStream wraps each block into a BlockAndPrivateData.
type privateDataStream struct {
	peer.Deliver_DeliverWithPrivateDataServer
}

func (s privateDataStream) SendBlock(b *common.Block) error {
	return s.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_BlockAndPrivateData{
		BlockAndPrivateData: &peer.BlockAndPrivateData{Block: b},
	}})
}

func (s privateDataStream) SendStatus(st common.Status) error {
	return s.Send(&peer.DeliverResponse{Type: &peer.DeliverResponse_Status{Status: st}})
}
