package gateway

import (
	"context"
	"fmt"
	"math/rand/v2"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"weft/channelconfig"
	"weft/wire/common"
	gp "weft/wire/gateway"
	"weft/wire/orderer"
)

// Submit broadcasts the client-signed transaction to the channel's orderers,
// one at a time in random order, and returns once one accepted it. A 4xx
// answer is final (the transaction itself is bad); other failures move on to
// the next orderer.
func (g *Gateway) Submit(ctx context.Context, req *gp.SubmitRequest) (*gp.SubmitResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "a submit request is required")
	}
	txn := req.GetPreparedTransaction()
	if txn == nil {
		return nil, status.Error(codes.InvalidArgument, "a prepared transaction is required")
	}
	if len(txn.Signature) == 0 {
		return nil, status.Error(codes.InvalidArgument, "prepared transaction must be signed")
	}
	ch, ok := g.channel(req.GetChannelId())
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "channel '%s' not found", req.GetChannelId())
	}
	orderers := ordererTargets(ch.Bundle())
	if len(orderers) == 0 {
		return nil, status.Error(codes.Unavailable, "no orderer nodes available")
	}
	var details []*gp.ErrorDetail
	for _, i := range rand.Perm(len(orderers)) {
		o := orderers[i]
		if ctx.Err() != nil {
			return nil, rpcError(codes.DeadlineExceeded, "submit timeout expired while broadcasting to ordering service", details...)
		}
		resp, err := g.broadcast(ctx, o, txn)
		if err != nil {
			g.log.Warn("error sending transaction to orderer", "address", o.address, "error", err)
			details = append(details, detail(o, err.Error()))
			continue
		}
		st := resp.GetStatus()
		if st == common.Status_SUCCESS {
			return &gp.SubmitResponse{}, nil
		}
		msg := fmt.Sprintf("received unsuccessful response from orderer: status=%s, info=%s", st, resp.GetInfo())
		g.log.Warn("orderer refused transaction", "address", o.address, "status", st, "info", resp.GetInfo())
		if st >= 400 && st < 500 {
			return nil, rpcError(codes.Aborted, msg)
		}
		details = append(details, detail(o, msg))
	}
	return nil, rpcError(codes.Unavailable, "no orderers could successfully process transaction", details...)
}

// ordererTargets lists the orderer endpoints with the TLS roots of the org
// that publishes them; the legacy global addresses trust every orderer org.
func ordererTargets(b *channelconfig.Bundle) []target {
	var out []target
	var all [][]byte
	for _, o := range b.OrdererOrgs() {
		roots := tlsRoots(b, o.MSPID)
		all = append(all, roots...)
		for _, ep := range o.Endpoints {
			out = append(out, target{mspID: o.MSPID, address: ep, roots: roots})
		}
	}
	if len(out) == 0 {
		for _, ep := range b.OrdererAddresses() {
			out = append(out, target{address: ep, roots: all})
		}
	}
	return out
}

func (g *Gateway) broadcast(ctx context.Context, o target, env *common.Envelope) (*orderer.BroadcastResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.BroadcastTimeout)
	defer cancel()
	c, err := g.conn(ctx, o.address, o.roots)
	if err != nil {
		return nil, err
	}
	stream, err := orderer.NewAtomicBroadcastClient(c).Broadcast(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(env); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	_ = stream.CloseSend()
	return resp, nil
}
