package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
	pb "weft/wire/peer"
)

// The calls below split Gateway.Submit into its three steps so that a load
// generator can keep many transactions in flight and time each step.

// Transaction is an endorsed transaction signed by the client, ready to be
// submitted.
type Transaction struct {
	ID, Channel string
	Envelope    *common.Envelope
}

// Endorse builds and signs a proposal, has the gateway collect endorsements
// (from orgs when set, otherwise as the chaincode's policy needs) and signs
// the prepared transaction.
func (g *Gateway) Endorse(ctx context.Context, channel, chaincode string, orgs []string, args ...[]byte) (*Transaction, error) {
	if g == nil || g.Conn == nil || g.Signer == nil {
		return nil, errors.New("endorse: gateway connection and signer are required")
	}
	sp, txID, err := endorser.NewSignedProposal(g.Signer, endorser.ProposalSpec{ChannelID: channel, Chaincode: chaincode, Args: args})
	if err != nil {
		return nil, err
	}
	er, err := gatewaypb.NewGatewayClient(g.Conn).Endorse(ctx, &gatewaypb.EndorseRequest{
		TransactionId: txID, ChannelId: channel, ProposedTransaction: sp, EndorsingOrganizations: orgs,
	})
	if err != nil {
		return nil, fmt.Errorf("endorse %s/%s tx %s: %w", chaincode, args0(args), txID, err)
	}
	env := er.GetPreparedTransaction()
	if len(env.GetPayload()) == 0 {
		return nil, fmt.Errorf("endorse %s/%s tx %s: the gateway returned no prepared transaction", chaincode, args0(args), txID)
	}
	env = &common.Envelope{Payload: env.GetPayload()}
	if env.Signature, err = g.Signer.Sign(env.Payload); err != nil {
		return nil, fmt.Errorf("endorse tx %s: sign transaction: %w", txID, err)
	}
	return &Transaction{ID: txID, Channel: channel, Envelope: env}, nil
}

// SubmitAsync hands a signed transaction to the ordering service through
// the gateway. It returns once the orderer accepted it, before the commit;
// CommitStatus then waits for the outcome.
func (g *Gateway) SubmitAsync(ctx context.Context, tx *Transaction) error {
	if tx == nil || tx.Envelope == nil || tx.ID == "" || tx.Channel == "" {
		return errors.New("submit: transaction with id, channel and envelope is required")
	}
	if g == nil || g.Conn == nil {
		return errors.New("submit: gateway connection is required")
	}
	_, err := gatewaypb.NewGatewayClient(g.Conn).Submit(ctx, &gatewaypb.SubmitRequest{
		TransactionId: tx.ID, ChannelId: tx.Channel, PreparedTransaction: tx.Envelope,
	})
	if err != nil {
		return fmt.Errorf("submit tx %s: %w", tx.ID, err)
	}
	return nil
}

// CommitStatus is how a transaction was committed.
type CommitStatus struct {
	Code  pb.TxValidationCode
	Block uint64
}

// Valid says whether the transaction's writes were applied.
func (s CommitStatus) Valid() bool { return s.Code == pb.TxValidationCode_VALID }

// CommitStatus asks the gateway, as the signer, how transaction txID was
// committed, waiting until it is.
func (g *Gateway) CommitStatus(ctx context.Context, channel, txID string) (CommitStatus, error) {
	if g == nil || g.Conn == nil || g.Signer == nil {
		return CommitStatus{}, errors.New("commit status: gateway connection and signer are required")
	}
	if channel == "" || txID == "" {
		return CommitStatus{}, fmt.Errorf("commit status: channel %q and transaction id %q must not be empty", channel, txID)
	}
	req, err := proto.Marshal(&gatewaypb.CommitStatusRequest{TransactionId: txID, ChannelId: channel, Identity: g.Signer.Serialize()})
	if err != nil {
		return CommitStatus{}, err
	}
	sig, err := g.Signer.Sign(req)
	if err != nil {
		return CommitStatus{}, fmt.Errorf("commit status tx %s: sign request: %w", txID, err)
	}
	st, err := gatewaypb.NewGatewayClient(g.Conn).CommitStatus(ctx, &gatewaypb.SignedCommitStatusRequest{Request: req, Signature: sig})
	if err != nil {
		return CommitStatus{}, fmt.Errorf("commit status tx %s: %w", txID, err)
	}
	return CommitStatus{Code: st.GetResult(), Block: st.GetBlockNumber()}, nil
}
