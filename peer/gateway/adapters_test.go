package gateway_test

import (
	"context"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/deliver"
	"weft/ledger/statedb"
	peerchannel "weft/peer/channel"
	et "weft/peer/endorser/endorsertest"
	"weft/peer/gateway"
	"weft/peer/lifecycle"
	"weft/policy"
	"weft/wire/peer"
	lb "weft/wire/peer/lifecycle"
)

// The real joined channel fits the adapter.
var _ gateway.CommittedChannel = (*peerchannel.Channel)(nil)

type committed struct {
	bundle *channelconfig.Bundle
	db     *statedb.DB
}

func (c committed) Bundle() *channelconfig.Bundle { return c.bundle }
func (c committed) Ledger() deliver.Ledger        { return nil }
func (c committed) State() *statedb.DB            { return c.db }
func (c committed) WaitForTx(context.Context, string) (peer.TxValidationCode, uint64, error) {
	return 0, 0, nil
}

func TestWithLifecyclePolicies(t *testing.T) {
	n := et.NewNetwork(t, et.Options{})
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	env, err := policy.FromString("OR('Org1MSP.peer')")
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := proto.Marshal(&peer.ApplicationPolicy{Type: &peer.ApplicationPolicy_SignaturePolicy{SignaturePolicy: env}})
	def, _ := proto.Marshal(&lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{Name: "basic", Sequence: 1, Version: "1", ValidationParameter: pol})
	b := statedb.NewUpdateBatch()
	b.Put(lifecycle.Namespace, lifecycle.DefinitionKey("basic"), def, nil, statedb.Version{BlockNum: 1})
	if err := db.Commit(b, 1); err != nil {
		t.Fatal(err)
	}
	pc := gateway.WithLifecyclePolicies(committed{n.Bundle, db}).Policies()
	sign := func(m et.Member) []policy.SignedData {
		sig, err := m.Sign([]byte("data"))
		if err != nil {
			t.Fatal(err)
		}
		return []policy.SignedData{{Data: []byte("data"), Identity: m.Serialize(), Signature: sig}}
	}
	if err := pc.CheckEndorsement("basic", nil, sign(n.Org1.Peer)); err != nil {
		t.Fatalf("Org1 peer: %v", err)
	}
	if err := pc.CheckEndorsement("basic", nil, sign(n.Org2.Peer)); err == nil {
		t.Fatal("Org2 peer satisfied OR('Org1MSP.peer')")
	}
	if err := pc.CheckEndorsement("undefined", nil, sign(n.Org1.Peer)); err == nil {
		t.Fatal("undefined chaincode passed")
	}
}
