package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/policy"
	gp "weft/wire/gateway"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// Endorse collects endorsements for a proposal and returns the prepared,
// unsigned transaction. Without endorsing_organizations this peer endorses
// first; if that alone does not satisfy the chaincode's endorsement policy,
// one peer of every other organisation of the channel is asked, and the
// policy must hold for the endorsements that came back. With
// endorsing_organizations the client chose: each named org must endorse and
// no policy check is made (as in Fabric).
func (g *Gateway) Endorse(ctx context.Context, req *gp.EndorseRequest) (*gp.EndorseResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "an endorse request is required")
	}
	sp := req.GetProposedTransaction()
	if len(sp.GetProposalBytes()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "the proposed transaction must contain a signed proposal")
	}
	p, err := parseProposal(sp)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	ch, ok := g.channel(p.channelHeader.ChannelId)
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "channel '%s' not found", p.channelHeader.ChannelId)
	}
	col := &collector{}
	if orgs := req.GetEndorsingOrganizations(); len(orgs) > 0 {
		if err := g.endorseByOrgs(ctx, ch, sp, orgs, col); err != nil {
			return nil, err
		}
	} else {
		first, err := g.call(ctx, g.localTarget(), sp)
		if code, msg, _ := responseStatus(first, err); code != codes.OK {
			return nil, rpcError(codes.Aborted, "failed to endorse transaction, see attached details for more info", detail(g.localTarget(), msg))
		}
		col.add(g.localTarget(), first)
		if err := checkPolicy(ch, p.chaincode, col.payload, col.endorsements); err != nil {
			var others []string
			for _, o := range ch.Bundle().ApplicationOrgs() {
				if o.MSPID != g.opts.LocalMSPID {
					others = append(others, o.MSPID)
				}
			}
			g.collect(ctx, ch, sp, others, col)
			if err := ctx.Err(); err != nil {
				return nil, rpcError(codes.DeadlineExceeded, "endorsement timeout expired while collecting endorsements", col.details...)
			}
			if err := checkPolicy(ch, p.chaincode, col.payload, col.endorsements); err != nil {
				return nil, rpcError(codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info: "+err.Error(), col.details...)
			}
		}
	}
	env, err := PrepareTransaction(p.header, p.payload, col.payload, col.endorsements)
	if err != nil {
		return nil, status.Errorf(codes.Aborted, "failed to assemble transaction: %s", err)
	}
	return &gp.EndorseResponse{PreparedTransaction: env}, nil
}

// endorseByOrgs needs an endorsement from every org in orgs.
func (g *Gateway) endorseByOrgs(ctx context.Context, ch Channel, sp *peer.SignedProposal, orgs []string, col *collector) error {
	for _, org := range orgs {
		if org != g.opts.LocalMSPID && len(g.orgTargets(ch, org)) == 0 {
			return status.Errorf(codes.Unavailable, "no endorsing peers found for organization %s on channel %s", org, ch.Bundle().ChannelID())
		}
	}
	got := g.collect(ctx, ch, sp, orgs, col)
	if err := ctx.Err(); err != nil {
		return rpcError(codes.DeadlineExceeded, "endorsement timeout expired while collecting endorsements", col.details...)
	}
	for _, org := range orgs {
		if !got[org] {
			return rpcError(codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info", col.details...)
		}
	}
	return nil
}

// collect asks one peer of each org in parallel and records the results;
// it reports which orgs endorsed. Within an org the peers are tried in
// turn until one endorses, so every failed attempt ends up in the details.
func (g *Gateway) collect(ctx context.Context, ch Channel, sp *peer.SignedProposal, orgs []string, col *collector) map[string]bool {
	got := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, org := range slices.Compact(slices.Sorted(slices.Values(orgs))) {
		targets := g.orgTargets(ch, org)
		if org == g.opts.LocalMSPID {
			targets = g.localOrgTargets(ch)
		}
		if len(targets) == 0 {
			col.fail(target{mspID: org}, "no endorsing peers known for this organization (no anchor peers in the channel config)")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, t := range targets {
				pr, err := g.call(ctx, t, sp)
				if code, msg, _ := responseStatus(pr, err); code != codes.OK {
					g.log.Warn("endorse call to endorser failed", "address", t.address, "msp", t.mspID, "error", msg)
					col.fail(t, msg)
					continue
				}
				if col.add(t, pr) {
					mu.Lock()
					got[org] = true
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return got
}

// collector gathers endorsements whose payloads are byte-identical.
type collector struct {
	mu           sync.Mutex
	payload      []byte
	endorsements []*peer.Endorsement
	details      []*gp.ErrorDetail
}

func (c *collector) add(t target, pr *peer.ProposalResponse) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pr.Endorsement == nil {
		c.details = append(c.details, detail(t, "endorser returned no endorsement"))
		return false
	}
	if c.payload == nil {
		c.payload = pr.Payload
	} else if !bytes.Equal(c.payload, pr.Payload) {
		c.details = append(c.details, detail(t, "ProposalResponsePayloads do not match"))
		return false
	}
	for _, e := range c.endorsements {
		if bytes.Equal(e.Endorser, pr.Endorsement.Endorser) {
			return true
		}
	}
	c.endorsements = append(c.endorsements, pr.Endorsement)
	return true
}

func (c *collector) fail(t target, msg string) {
	c.mu.Lock()
	c.details = append(c.details, detail(t, msg))
	c.mu.Unlock()
}

// checkPolicy applies the committer's rule: the invoked chaincode's
// namespace and every namespace the transaction writes must have its
// endorsement policy satisfied by the endorsements.
func checkPolicy(ch Channel, chaincode string, prp []byte, endorsements []*peer.Endorsement) error {
	pc := ch.Policies()
	if pc == nil {
		return errors.New("no endorsement policy checker for this channel")
	}
	resp := &peer.ProposalResponsePayload{}
	if err := proto.Unmarshal(prp, resp); err != nil {
		return fmt.Errorf("proposal response payload: %w", err)
	}
	action := &peer.ChaincodeAction{}
	if err := proto.Unmarshal(resp.Extension, action); err != nil {
		return fmt.Errorf("chaincode action: %w", err)
	}
	rws := &rwset.TxReadWriteSet{}
	if err := proto.Unmarshal(action.Results, rws); err != nil {
		return fmt.Errorf("read-write set: %w", err)
	}
	checked := map[string]*kvrwset.KVRWSet{chaincode: {}}
	for _, n := range rws.NsRwset {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.Rwset, kv); err != nil {
			return fmt.Errorf("read-write set of %s: %w", n.Namespace, err)
		}
		if n.Namespace == chaincode || len(kv.Writes) > 0 || len(kv.MetadataWrites) > 0 {
			checked[n.Namespace] = kv
		}
	}
	sd := make([]policy.SignedData, 0, len(endorsements))
	for _, e := range endorsements {
		data := make([]byte, 0, len(prp)+len(e.Endorser))
		sd = append(sd, policy.SignedData{Data: append(append(data, prp...), e.Endorser...), Identity: e.Endorser, Signature: e.Signature})
	}
	for _, ns := range slices.Sorted(maps.Keys(checked)) {
		if err := pc.CheckEndorsement(ns, checked[ns], sd); err != nil {
			return err
		}
	}
	return nil
}
