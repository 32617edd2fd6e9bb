package gateway

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gp "weft/wire/gateway"
)

// Evaluate runs a proposal on one endorser, this peer unless the client
// targeted other organisations, and returns the chaincode's response without
// creating a transaction. When a peer is unavailable, the next one is
// tried: this peer's org-mates after it, or the targeted orgs' other peers.
func (g *Gateway) Evaluate(ctx context.Context, req *gp.EvaluateRequest) (*gp.EvaluateResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "an evaluate request is required")
	}
	sp := req.GetProposedTransaction()
	p, err := parseProposal(sp)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "failed to unpack transaction proposal: %s", err)
	}
	ch, ok := g.channel(p.channelHeader.ChannelId)
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "channel '%s' not found", p.channelHeader.ChannelId)
	}
	targets := g.localOrgTargets(ch)
	if orgs := req.GetTargetOrganizations(); len(orgs) > 0 && !slices.Contains(orgs, g.opts.LocalMSPID) {
		targets = nil
		for _, org := range orgs {
			targets = append(targets, g.orgTargets(ch, org)...)
		}
		if len(targets) == 0 {
			return nil, status.Errorf(codes.FailedPrecondition, "no endorsing peers found for organizations %v on channel %s", orgs, p.channelHeader.ChannelId)
		}
	}
	var details []*gp.ErrorDetail
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return nil, rpcError(codes.DeadlineExceeded, "evaluate timeout expired", details...)
		}
		pr, err := g.call(ctx, t, sp)
		code, msg, retry := responseStatus(pr, err)
		if code == codes.OK {
			res := pr.Response
			if result, err := resultOf(pr); err == nil {
				res.Payload = result
			}
			return &gp.EvaluateResponse{Result: res}, nil
		}
		g.log.Debug("evaluate failed on endorser", "address", t.address, "msp", t.mspID, "error", msg)
		details = append(details, detail(t, msg))
		if !retry {
			return nil, rpcError(code, "evaluate call to endorser returned error: "+msg, details...)
		}
	}
	return nil, rpcError(codes.Aborted, "failed to evaluate transaction, see attached details for more info", details...)
}
