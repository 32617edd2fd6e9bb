package endorser_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/peer/chaincode"
	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/peer/lifecycle"
	"weft/peer/txsim"
	"weft/wire/common"
	"weft/wire/peer"
	lb "weft/wire/peer/lifecycle"
)

// ledgerEnv is an endorser over a real state database, block store and the
// lifecycle state layout.
func ledgerEnv(t *testing.T, exec endorser.Executor) (*endorser.Endorser, *et.Network, *blockstore.Store) {
	t.Helper()
	n := et.NewNetwork(t, et.Options{})
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := blockstore.Open(t.TempDir(), blockstore.Options{Sync: blockstore.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Append(n.Genesis); err != nil {
		t.Fatal(err)
	}
	pol, _ := proto.Marshal(&peer.ApplicationPolicy{Type: &peer.ApplicationPolicy_ChannelConfigPolicyReference{ChannelConfigPolicyReference: lifecycle.DefaultEndorsementPolicyRef}})
	def, _ := proto.Marshal(&lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{Name: "basic", Sequence: 1, Version: "7.0", ValidationParameter: pol})
	appr, _ := proto.Marshal(&lb.ApproveChaincodeDefinitionForMyOrgArgs{Name: "basic", Sequence: 1, Version: "7.0",
		Source: &lb.ChaincodeSource{Type: &lb.ChaincodeSource_LocalPackage{LocalPackage: &lb.ChaincodeSource_Local{PackageId: "basic:feed"}}}})
	b := statedb.NewUpdateBatch()
	b.Put(lifecycle.Namespace, lifecycle.DefinitionKey("basic"), def, nil, statedb.Version{BlockNum: 1})
	b.Put(lifecycle.Namespace, lifecycle.ApprovalKey("basic", 1, "Org1MSP"), appr, nil, statedb.Version{BlockNum: 1})
	b.Put("basic", "k", []byte("committed"), nil, statedb.Version{BlockNum: 1})
	if err := db.Commit(b, 1); err != nil {
		t.Fatal(err)
	}
	ch := &endorser.LedgerChannel{Config: func() *channelconfig.Bundle { return n.Bundle }, State: db, Blocks: store}
	e := &endorser.Endorser{Channels: et.Channels{et.ChannelID: ch}, LocalMSP: n.Org1.LocalMSP, Signer: n.Org1.Peer,
		Lifecycle: endorser.LifecycleState{}, Executor: exec}
	return e, n, store
}

func TestLedgerAdapters(t *testing.T) {
	var gotPkg string
	exec := et.ExecFunc(func(ctx context.Context, pkgID string, tx *endorser.TxContext, in *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error) {
		gotPkg = pkgID
		if _, ok := tx.Simulator().(*txsim.Simulator); !ok {
			return nil, nil, errors.New("not a txsim simulator")
		}
		v, err := tx.Simulator().GetState(tx.ChaincodeName(), "k")
		if err != nil {
			return nil, nil, err
		}
		if err := tx.Simulator().PutState(tx.ChaincodeName(), "k2", v); err != nil {
			return nil, nil, err
		}
		return &peer.Response{Status: 200, Payload: v}, nil, nil
	})
	e, n, store := ledgerEnv(t, exec)
	sp := proposal(t, n.Org1.Client, endorser.ProposalSpec{Chaincode: "basic", Args: args("x")})
	pr, err := e.ProcessProposal(context.Background(), sp)
	if err != nil || pr.Endorsement == nil || string(pr.Response.Payload) != "committed" || gotPkg != "basic:feed" {
		t.Fatalf("%v %v pkg=%s", pr, err, gotPkg)
	}
	_, ca := action(t, pr.Payload)
	if ca.ChaincodeId.Version != "7.0" {
		t.Fatalf("version %q", ca.ChaincodeId.Version)
	}
	kv := nsRWSet(t, ca.Results, "basic")
	if kv == nil || len(kv.Reads) != 1 || kv.Reads[0].Version.GetBlockNum() != 1 || len(kv.Writes) != 1 {
		t.Fatalf("rwset %v", kv)
	}
	// Once the transaction is in the block store, the proposal is a duplicate.
	up, err := endorser.Unpack(sp)
	if err != nil {
		t.Fatal(err)
	}
	blk := channelconfig.NewBlock(1, store.LastHeaderHash())
	payload, _ := proto.Marshal(&common.Payload{Header: up.Header})
	raw, _ := proto.Marshal(&common.Envelope{Payload: payload, Signature: []byte("sig")})
	blk.Data.Data = [][]byte{raw}
	blk.Header.DataHash = channelconfig.BlockDataHash(blk.Data)
	if err := store.Append(blk); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ProcessProposal(context.Background(), sp); err == nil || !strings.Contains(err.Error(), "duplicate transaction found") {
		t.Fatalf("committed tx id accepted again: %v", err)
	}
}

type packages map[string]*chaincode.Package

func (p packages) Package(id string) (*chaincode.Package, error) {
	if pkg, ok := p[id]; ok {
		return pkg, nil
	}
	return nil, lifecycle.ErrPackageNotFound
}

func TestRuntimeExecutorErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		pkgs packages
		want string
	}{
		{"not installed", packages{}, "not found"},
		{"not ccaas", packages{"basic:feed": {Type: "golang", ID: "basic:feed"}}, "only chaincode-as-a-service"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, n, _ := ledgerEnv(t, &endorser.RuntimeExecutor{Packages: c.pkgs, Runtime: chaincode.NewRuntime(chaincode.Options{})})
			pr, err := e.ProcessProposal(context.Background(), proposal(t, n.Org1.Client, endorser.ProposalSpec{Chaincode: "basic", Args: args("x")}))
			if err != nil || pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, c.want) {
				t.Fatalf("%v %v", pr, err)
			}
		})
	}
}
