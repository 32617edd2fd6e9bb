package endorser_test

import (
	"strings"
	"testing"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/common"
	"weft/wire/peer"
)

// TestProposalSignatureVerifiedOnce checks that the creator check and the
// ACL check share one verification of the proposal signature, and that
// accept/deny outcomes are unchanged.
func TestProposalSignatureVerifiedOnce(t *testing.T) {
	v := newEnv(t, et.Options{})
	tests := []struct {
		name      string
		signer    endorser.Signer
		spec      endorser.ProposalSpec
		corrupt   bool
		channel   bool
		want      string
		verifying int
	}{
		{name: "client proposes on the channel", signer: v.net.Org1.Client, channel: true,
			spec: endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")}, verifying: 1},
		{name: "peer is not a channel writer", signer: v.net.Org1.Peer, channel: true,
			spec: endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")}, want: "peer/Propose", verifying: 1},
		{name: "local admin installs", signer: v.net.Org1.Admin,
			spec: endorser.ProposalSpec{Chaincode: endorser.LifecycleName, Args: args("InstallChaincode", "pkg")}, verifying: 1},
		{name: "client may not install", signer: v.net.Org1.Client,
			spec: endorser.ProposalSpec{Chaincode: endorser.LifecycleName, Args: args("InstallChaincode", "pkg")}, want: "needs a local admin", verifying: 1},
		{name: "join by a client", signer: v.net.Org1.Client,
			spec: endorser.ProposalSpec{Type: common.HeaderType_CONFIG, Chaincode: endorser.CSCCName, Args: args("JoinChain", "block")}, want: "local admin", verifying: 1},
		{name: "bad signature", signer: v.net.Org1.Client, channel: true, corrupt: true,
			spec: endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")}, want: "access denied", verifying: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := proposal(t, tc.signer, tc.spec)
			if tc.corrupt {
				sp = &peer.SignedProposal{ProposalBytes: sp.ProposalBytes, Signature: append([]byte(nil), sp.Signature...)}
				sp.Signature[len(sp.Signature)-1] ^= 1
			}
			p, err := endorser.Unpack(sp)
			if err != nil {
				t.Fatal(err)
			}
			var ch endorser.Channel
			if tc.channel {
				ch = v.ch
			}
			err = v.e1.PreProcess(p, ch)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if got := p.Memo().Verifications(); got != tc.verifying {
				t.Fatalf("%d verifications of the proposal signature, want %d", got, tc.verifying)
			}
			for _, sd := range endorser.ProposalSignedData(p) {
				if sd.Memo() != p.Memo() {
					t.Fatal("ACL signed data does not carry the proposal's memo")
				}
			}
		})
	}
}
