package gateway

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	"weft/policy"
	gp "weft/wire/gateway"
)

// CommitStatus returns the validation code and block of a transaction,
// waiting for its commit if necessary, for callers that pass the channel's
// gateway/CommitStatus ACL (Readers by default) with a valid signature.
func (g *Gateway) CommitStatus(ctx context.Context, signed *gp.SignedCommitStatusRequest) (*gp.CommitStatusResponse, error) {
	if len(signed.GetRequest()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "a commit status request is required")
	}
	req := &gp.CommitStatusRequest{}
	if err := proto.Unmarshal(signed.Request, req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid status request: %v", err)
	}
	switch {
	case req.Identity == nil:
		return nil, status.Error(codes.InvalidArgument, "no identity provided")
	case req.ChannelId == "":
		return nil, status.Error(codes.InvalidArgument, "no channel ID provided")
	case req.TransactionId == "":
		return nil, status.Error(codes.InvalidArgument, "transaction ID should not be empty")
	}
	ch, ok := g.channel(req.ChannelId)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "channel '%s' not found", req.ChannelId)
	}
	acl := &endorser.ACL{}
	sd := []policy.SignedData{{Data: signed.Request, Identity: req.Identity, Signature: signed.Signature}}
	if err := acl.Check(endorser.ResourceCommitStatus, ch.Bundle(), sd); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	code, block, err := ch.WaitForTx(ctx, req.TransactionId)
	if err != nil {
		return nil, contextOr(ctx, err, codes.Aborted)
	}
	return &gp.CommitStatusResponse{Result: code, BlockNumber: block}, nil
}

// contextOr maps a context expiry to its gRPC code and anything else to
// code.
func contextOr(ctx context.Context, err error, code codes.Code) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cerr := ctx.Err()
		if cerr == nil {
			cerr = err
		}
		return status.FromContextError(cerr).Err()
	}
	return status.Error(code, err.Error())
}
