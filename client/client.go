// Package client is weft's Go SDK for admins and apps: it signs proposals
// and transactions the way Fabric's clients do and talks to a peer's
// Endorser and Gateway services.
package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
	pb "weft/wire/peer"
)

// Signer is a client identity (msp.SigningIdentity fits).
type Signer interface {
	Sign([]byte) ([]byte, error)
	Serialize() []byte
}

// ProcessProposal sends a signed proposal to a peer's Endorser and
// returns the chaincode response; a status >= 400 is an error.
func ProcessProposal(ctx context.Context, conn grpc.ClientConnInterface, s Signer, spec endorser.ProposalSpec) (*pb.ProposalResponse, error) {
	sp, _, err := endorser.NewSignedProposal(s, spec)
	if err != nil {
		return nil, err
	}
	resp, err := pb.NewEndorserClient(conn).ProcessProposal(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("%s on %q: %w", spec.Chaincode, spec.ChannelID, err)
	}
	if st := resp.GetResponse().GetStatus(); st >= 400 {
		return resp, fmt.Errorf("%s on %q: status %d: %s", spec.Chaincode, spec.ChannelID, st, resp.GetResponse().GetMessage())
	}
	return resp, nil
}

// Gateway calls a peer's Gateway service as an identity.
type Gateway struct {
	Conn   grpc.ClientConnInterface
	Signer Signer
}

// Evaluate runs a query and returns the chaincode's payload.
func (g *Gateway) Evaluate(ctx context.Context, channel, chaincode string, args ...[]byte) ([]byte, error) {
	sp, txID, err := endorser.NewSignedProposal(g.Signer, endorser.ProposalSpec{ChannelID: channel, Chaincode: chaincode, Args: args})
	if err != nil {
		return nil, err
	}
	resp, err := gatewaypb.NewGatewayClient(g.Conn).Evaluate(ctx, &gatewaypb.EvaluateRequest{TransactionId: txID, ChannelId: channel, ProposedTransaction: sp})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s/%s: %w", chaincode, args0(args), err)
	}
	return resp.GetResult().GetPayload(), nil
}

// Submit endorses, orders and waits for the commit of a transaction; it
// fails unless the transaction is committed VALID. orgs, when set, are
// the organizations that must endorse (e.g. the own org for approvals).
func (g *Gateway) Submit(ctx context.Context, channel, chaincode string, orgs []string, args ...[]byte) (txID string, payload []byte, err error) {
	return g.submit(ctx, endorser.ProposalSpec{ChannelID: channel, Chaincode: chaincode, Args: args}, orgs)
}

// SubmitInit is Submit with the proposal's is_init flag set: the one call
// that initializes a chaincode whose definition requires it.
func (g *Gateway) SubmitInit(ctx context.Context, channel, chaincode string, args ...[]byte) (txID string, payload []byte, err error) {
	return g.submit(ctx, endorser.ProposalSpec{ChannelID: channel, Chaincode: chaincode, Args: args, IsInit: true}, nil)
}

func (g *Gateway) submit(ctx context.Context, spec endorser.ProposalSpec, orgs []string) (txID string, payload []byte, err error) {
	channel, chaincode, args := spec.ChannelID, spec.Chaincode, spec.Args
	sp, txID, err := endorser.NewSignedProposal(g.Signer, spec)
	if err != nil {
		return "", nil, err
	}
	gw := gatewaypb.NewGatewayClient(g.Conn)
	what := fmt.Sprintf("%s/%s tx %s", chaincode, args0(args), txID)
	er, err := gw.Endorse(ctx, &gatewaypb.EndorseRequest{TransactionId: txID, ChannelId: channel, ProposedTransaction: sp, EndorsingOrganizations: orgs})
	if err != nil {
		return txID, nil, fmt.Errorf("endorse %s: %w", what, err)
	}
	env := er.GetPreparedTransaction()
	if env.Signature, err = g.Signer.Sign(env.GetPayload()); err != nil {
		return txID, nil, err
	}
	if _, err := gw.Submit(ctx, &gatewaypb.SubmitRequest{TransactionId: txID, ChannelId: channel, PreparedTransaction: env}); err != nil {
		return txID, nil, fmt.Errorf("submit %s: %w", what, err)
	}
	req, err := proto.Marshal(&gatewaypb.CommitStatusRequest{TransactionId: txID, ChannelId: channel, Identity: g.Signer.Serialize()})
	if err != nil {
		return txID, nil, err
	}
	sig, err := g.Signer.Sign(req)
	if err != nil {
		return txID, nil, err
	}
	st, err := gw.CommitStatus(ctx, &gatewaypb.SignedCommitStatusRequest{Request: req, Signature: sig})
	if err != nil {
		return txID, nil, fmt.Errorf("commit status %s: %w", what, err)
	}
	if st.GetResult() != pb.TxValidationCode_VALID {
		return txID, nil, fmt.Errorf("%s committed as %s in block %d", what, st.GetResult(), st.GetBlockNumber())
	}
	return txID, responsePayload(env), nil
}

// responsePayload digs the chaincode response payload out of a prepared
// transaction (Transaction → ChaincodeActionPayload → ... → Response).
func responsePayload(env *common.Envelope) []byte {
	var p common.Payload
	if proto.Unmarshal(env.GetPayload(), &p) != nil {
		return nil
	}
	var tx pb.Transaction
	if proto.Unmarshal(p.GetData(), &tx) != nil || len(tx.GetActions()) == 0 {
		return nil
	}
	var cap pb.ChaincodeActionPayload
	if proto.Unmarshal(tx.GetActions()[0].GetPayload(), &cap) != nil {
		return nil
	}
	var prp pb.ProposalResponsePayload
	if proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp) != nil {
		return nil
	}
	var ca pb.ChaincodeAction
	if proto.Unmarshal(prp.GetExtension(), &ca) != nil {
		return nil
	}
	return ca.GetResponse().GetPayload()
}

func args0(args [][]byte) string {
	if len(args) == 0 {
		return ""
	}
	return string(args[0])
}
