package endorser_test

import (
	"context"
	"strings"
	"testing"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/common"
)

// TestSystemChaincodeACLRefusals: as in Fabric, where system chaincodes
// check their own ACLs, a refused system chaincode call is a status-500
// response on a successful call (no error), and the chaincode never runs.
// A refused user chaincode call stays an error.
func TestSystemChaincodeACLRefusals(t *testing.T) {
	v := newEnv(t, et.Options{})
	client := v.net.Org1.Client
	cases := []struct {
		name    string
		spec    endorser.ProposalSpec
		wantErr bool
		want    string
	}{
		{"install by a client", endorser.ProposalSpec{Chaincode: endorser.LifecycleName, Args: args("InstallChaincode", "pkg")}, false, "_lifecycle/InstallChaincode needs a local admin"},
		{"approve by a client", endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: endorser.LifecycleName, Args: args("ApproveChaincodeDefinitionForMyOrg", "x")}, false, "local admin"},
		{"join by a client", endorser.ProposalSpec{Type: common.HeaderType_CONFIG, Chaincode: endorser.CSCCName, Args: args("JoinChain", "block")}, false, "cscc/JoinChain needs a local admin"},
		{"user chaincode by a non-writer", endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")}, true, "peer/Propose"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signer := endorser.Signer(client)
			if c.wantErr {
				signer = v.net.Org1.Peer // a peer is not a channel writer
			}
			calls := len(v.calls)
			pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, signer, c.spec))
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error: %v", err, c.wantErr)
			}
			if pr.GetResponse().GetStatus() != 500 || pr.GetEndorsement() != nil || pr.GetPayload() != nil {
				t.Fatalf("response %v, want a bare status 500", pr)
			}
			if !strings.Contains(pr.GetResponse().GetMessage(), c.want) {
				t.Fatalf("message %q, want it to mention %q", pr.GetResponse().GetMessage(), c.want)
			}
			if len(v.calls) != calls {
				t.Fatal("the refused system chaincode ran")
			}
		})
	}
}
