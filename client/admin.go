package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	"weft/wire/common"
	lcpb "weft/wire/peer/lifecycle"
)

// JoinChannel asks a peer to join a channel with its genesis block (cscc
// JoinChain); the signer must be an admin of the peer's org.
func JoinChannel(ctx context.Context, conn grpc.ClientConnInterface, admin Signer, genesis *common.Block) error {
	raw, err := proto.Marshal(genesis)
	if err != nil {
		return err
	}
	_, err = ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{
		Chaincode: "cscc", Type: common.HeaderType_CONFIG, Args: [][]byte{[]byte("JoinChain"), raw},
	})
	return err
}

// InstallChaincode installs a chaincode package on a peer and returns its
// package ID; the signer must be an admin of the peer's org.
func InstallChaincode(ctx context.Context, conn grpc.ClientConnInterface, admin Signer, pkg []byte) (string, error) {
	args, err := proto.Marshal(&lcpb.InstallChaincodeArgs{ChaincodeInstallPackage: pkg})
	if err != nil {
		return "", err
	}
	resp, err := ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{
		Chaincode: "_lifecycle", Args: [][]byte{[]byte("InstallChaincode"), args},
	})
	if err != nil {
		return "", err
	}
	var res lcpb.InstallChaincodeResult
	if err := proto.Unmarshal(resp.GetResponse().GetPayload(), &res); err != nil {
		return "", fmt.Errorf("install result: %w", err)
	}
	return res.GetPackageId(), nil
}

// Definition is a chaincode definition to approve or commit.
type Definition struct {
	Name, Version string
	Sequence      int64
	InitRequired  bool
	// ValidationParameter is a marshaled ApplicationPolicy; nil means the
	// channel's /Channel/Application/Endorsement policy.
	ValidationParameter []byte
}

// Approve approves a definition for the signer's org (endorsed by that
// org's peers only) with the given installed package.
func (g *Gateway) Approve(ctx context.Context, channel, mspID string, d Definition, packageID string) error {
	args, err := proto.Marshal(&lcpb.ApproveChaincodeDefinitionForMyOrgArgs{
		Sequence: d.Sequence, Name: d.Name, Version: d.Version, InitRequired: d.InitRequired,
		ValidationParameter: d.ValidationParameter,
		Source: &lcpb.ChaincodeSource{Type: &lcpb.ChaincodeSource_LocalPackage{
			LocalPackage: &lcpb.ChaincodeSource_Local{PackageId: packageID},
		}},
	})
	if err != nil {
		return err
	}
	_, _, err = g.Submit(ctx, channel, "_lifecycle", []string{mspID}, []byte("ApproveChaincodeDefinitionForMyOrg"), args)
	return err
}

// Commit commits a definition approved by enough orgs; the gateway
// collects endorsements to satisfy LifecycleEndorsement.
func (g *Gateway) Commit(ctx context.Context, channel string, d Definition) error {
	args, err := proto.Marshal(&lcpb.CommitChaincodeDefinitionArgs{
		Sequence: d.Sequence, Name: d.Name, Version: d.Version, InitRequired: d.InitRequired,
		ValidationParameter: d.ValidationParameter,
	})
	if err != nil {
		return err
	}
	_, _, err = g.Submit(ctx, channel, "_lifecycle", nil, []byte("CommitChaincodeDefinition"), args)
	return err
}
