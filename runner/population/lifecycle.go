package population

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/peer/endorser"
	"weft/policy"
	"weft/spec"
	"weft/wire/common"
	pb "weft/wire/peer"
	lcpb "weft/wire/peer/lifecycle"
)

// Definition is the lifecycle definition of a spec chaincode, with its
// endorsement policy compiled into the validation parameter.
func Definition(cc spec.Chaincode) (client.Definition, error) {
	d := client.Definition{Name: cc.Name, Version: cc.Version, Sequence: cc.Sequence, InitRequired: cc.InitRequired}
	if cc.Endorsement != "" {
		env, err := policy.FromString(cc.Endorsement)
		if err != nil {
			return d, fmt.Errorf("endorsement: %w", err)
		}
		raw, err := proto.Marshal(&pb.ApplicationPolicy{Type: &pb.ApplicationPolicy_SignaturePolicy{SignaturePolicy: env}})
		if err != nil {
			return d, err
		}
		d.ValidationParameter = raw
	}
	return d, nil
}

// CommittedDefinition returns the committed sequence of a chaincode (0
// when not defined) and which orgs approved it.
func CommittedDefinition(ctx context.Context, gw *client.Gateway, channel, name string) (int64, map[string]bool, error) {
	args, _ := proto.Marshal(&lcpb.QueryChaincodeDefinitionArgs{Name: name})
	payload, err := gw.Evaluate(ctx, channel, "_lifecycle", []byte("QueryChaincodeDefinition"), args)
	if err != nil {
		// Not defined yet is the normal case on a fresh network.
		return 0, nil, nil
	}
	var res lcpb.QueryChaincodeDefinitionResult
	if err := proto.Unmarshal(payload, &res); err != nil {
		return 0, nil, err
	}
	return res.GetSequence(), res.GetApprovals(), nil
}

// CommitReadiness reports which orgs approved definition d.
func CommitReadiness(ctx context.Context, gw *client.Gateway, channel string, d client.Definition) (map[string]bool, error) {
	args, _ := proto.Marshal(&lcpb.CheckCommitReadinessArgs{Sequence: d.Sequence, Name: d.Name, Version: d.Version,
		InitRequired: d.InitRequired, ValidationParameter: d.ValidationParameter})
	payload, err := gw.Evaluate(ctx, channel, "_lifecycle", []byte("CheckCommitReadiness"), args)
	if err != nil {
		return nil, fmt.Errorf("check commit readiness: %w", err)
	}
	var res lcpb.CheckCommitReadinessResult
	if err := proto.Unmarshal(payload, &res); err != nil {
		return nil, err
	}
	return res.GetApprovals(), nil
}

// ChainHeight is the number of blocks of channel on the gateway's peer.
func ChainHeight(ctx context.Context, gw *client.Gateway, channel string) (uint64, error) {
	payload, err := gw.Evaluate(ctx, channel, "qscc", []byte("GetChainInfo"), []byte(channel))
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(payload, &info); err != nil {
		return 0, err
	}
	return info.GetHeight(), nil
}

// SameHeights waits until every gateway's peer holds the same number of
// blocks of channel: every endorser of a commit must have seen every
// approval, or their read sets differ.
func SameHeights(ctx context.Context, gws []*client.Gateway, channel string) error {
	if len(gws) == 0 {
		return nil
	}
	for {
		var hs []uint64
		for _, g := range gws {
			h, err := ChainHeight(ctx, g, channel)
			if err != nil {
				return err
			}
			hs = append(hs, h)
		}
		if slices.Min(hs) == slices.Max(hs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("peers did not reach the same height (%v): %w", hs, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PeerChannels lists the channels a peer has joined (cscc GetChannels); the
// signer must be an admin of the peer's org.
func PeerChannels(ctx context.Context, conn grpc.ClientConnInterface, admin client.Signer) ([]string, error) {
	resp, err := client.ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{Chaincode: "cscc", Args: [][]byte{[]byte("GetChannels")}})
	if err != nil {
		return nil, err
	}
	var q pb.ChannelQueryResponse
	if err := proto.Unmarshal(resp.GetResponse().GetPayload(), &q); err != nil {
		return nil, err
	}
	var out []string
	for _, c := range q.GetChannels() {
		out = append(out, c.GetChannelId())
	}
	return out, nil
}

// InstalledPackages lists the package IDs installed on a peer
// (_lifecycle QueryInstalledChaincodes); the signer must be an admin of the
// peer's org.
func InstalledPackages(ctx context.Context, conn grpc.ClientConnInterface, admin client.Signer) ([]string, error) {
	args, _ := proto.Marshal(&lcpb.QueryInstalledChaincodesArgs{})
	resp, err := client.ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{
		Chaincode: "_lifecycle", Args: [][]byte{[]byte("QueryInstalledChaincodes"), args},
	})
	if err != nil {
		return nil, err
	}
	var res lcpb.QueryInstalledChaincodesResult
	if err := proto.Unmarshal(resp.GetResponse().GetPayload(), &res); err != nil {
		return nil, fmt.Errorf("installed chaincodes: %w", err)
	}
	var out []string
	for _, c := range res.GetInstalledChaincodes() {
		out = append(out, c.GetPackageId())
	}
	return out, nil
}
