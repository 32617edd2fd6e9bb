package gateway

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	"weft/policy"
	"weft/wire/common"
	gp "weft/wire/gateway"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// ChaincodeEvents streams, block by block, the events the requested
// chaincode emitted in valid transactions, starting at the requested
// position (or just after after_transaction_id). Blocks without matching
// events are skipped; the stream only ends with the client.
func (g *Gateway) ChaincodeEvents(signed *gp.SignedChaincodeEventsRequest, stream gp.Gateway_ChaincodeEventsServer) error {
	if len(signed.GetRequest()) == 0 {
		return status.Error(codes.InvalidArgument, "a chaincode events request is required")
	}
	req := &gp.ChaincodeEventsRequest{}
	if err := proto.Unmarshal(signed.Request, req); err != nil {
		return status.Errorf(codes.InvalidArgument, "invalid chaincode events request: %v", err)
	}
	ch, ok := g.channel(req.ChannelId)
	if !ok {
		return status.Errorf(codes.NotFound, "channel '%s' not found", req.ChannelId)
	}
	acl := &endorser.ACL{}
	sd := []policy.SignedData{{Data: signed.Request, Identity: req.Identity, Signature: signed.Signature}}
	if err := acl.Check(endorser.ResourceChaincodeEvents, ch.Bundle(), sd); err != nil {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	ctx := stream.Context()
	ledger := ch.Ledger()
	start, skipUntil, err := eventsStart(ctx, ch, req)
	if err != nil {
		return err
	}
	it := ledger.Iterator(start)
	defer it.Close()
	for {
		b, err := it.Next(ctx)
		if err != nil {
			return contextOr(ctx, err, codes.Aborted)
		}
		events := blockEvents(b, req.ChaincodeId, &skipUntil)
		if len(events) == 0 {
			continue
		}
		if err := stream.Send(&gp.ChaincodeEventsResponse{Events: events, BlockNumber: b.GetHeader().GetNumber()}); err != nil {
			return err
		}
	}
}

// eventsStart picks the first block: the block of after_transaction_id when
// it is committed (then events up to and including that transaction are
// skipped), else the specified block, else the current height.
func eventsStart(ctx context.Context, ch Channel, req *gp.ChaincodeEventsRequest) (uint64, string, error) {
	if after := req.AfterTransactionId; after != "" {
		// A cancelled context makes WaitForTx answer only from what is
		// already committed.
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, block, err := ch.WaitForTx(done, after); err == nil {
			return block, after, nil
		}
	}
	switch pos := req.StartPosition.GetType().(type) {
	case nil, *orderer.SeekPosition_NextCommit:
		return ch.Ledger().Height(), "", nil
	case *orderer.SeekPosition_Specified:
		return pos.Specified.GetNumber(), "", nil
	default:
		return 0, "", status.Errorf(codes.InvalidArgument, "invalid start position type: %T", pos)
	}
}

// blockEvents returns the events of chaincode in the valid endorser
// transactions of b. While *skipUntil is set, transactions are skipped up to
// and including the one with that id.
func blockEvents(b *common.Block, chaincode string, skipUntil *string) []*peer.ChaincodeEvent {
	var out []*peer.ChaincodeEvent
	var filter []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, raw := range b.GetData().GetData() {
		chdr, ev := txEvent(raw)
		if chdr == nil {
			continue
		}
		if *skipUntil != "" {
			if chdr.TxId == *skipUntil {
				*skipUntil = ""
			}
			continue
		}
		// A missing filter entry counts as invalid, as in Fabric.
		if i >= len(filter) || peer.TxValidationCode(filter[i]) != peer.TxValidationCode_VALID {
			continue
		}
		if ev != nil && ev.ChaincodeId == chaincode {
			out = append(out, ev)
		}
	}
	return out
}

// txEvent decodes an endorser transaction's channel header and chaincode
// event; the header is nil for anything else.
func txEvent(raw []byte) (*common.ChannelHeader, *peer.ChaincodeEvent) {
	env := &common.Envelope{}
	pl := &common.Payload{}
	chdr := &common.ChannelHeader{}
	if proto.Unmarshal(raw, env) != nil || proto.Unmarshal(env.Payload, pl) != nil ||
		proto.Unmarshal(pl.GetHeader().GetChannelHeader(), chdr) != nil ||
		chdr.Type != int32(common.HeaderType_ENDORSER_TRANSACTION) {
		return nil, nil
	}
	tx := &peer.Transaction{}
	if proto.Unmarshal(pl.Data, tx) != nil {
		return chdr, nil
	}
	for _, a := range tx.Actions {
		cap := &peer.ChaincodeActionPayload{}
		prp := &peer.ProposalResponsePayload{}
		ca := &peer.ChaincodeAction{}
		ev := &peer.ChaincodeEvent{}
		if proto.Unmarshal(a.Payload, cap) != nil || proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), prp) != nil ||
			proto.Unmarshal(prp.Extension, ca) != nil || proto.Unmarshal(ca.Events, ev) != nil {
			continue
		}
		// Fabric ignores events lacking any of these.
		if ev.ChaincodeId != "" && ev.EventName != "" && ev.TxId != "" {
			return chdr, ev
		}
	}
	return chdr, nil
}
