package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/peer/gateway"
	gp "weft/wire/gateway"
	"weft/wire/peer"
)

// org2Peer starts another endorsing peer of Org2 (not an anchor) and
// returns its address and call counter.
func (f *fx) org2Peer(t *testing.T) (string, *countingEndorser) {
	t.Helper()
	l, addr, _ := listen(t)
	ce := &countingEndorser{e: &endorser.Endorser{Channels: et.Channels{et.ChannelID: f.org2Ch}, LocalMSP: f.net.Org2.LocalMSP,
		Signer: f.net.Org2.Peer, Lifecycle: et.Lifecycle{}, Executor: et.ExecFunc(et.KVChaincode)}}
	serve(t, l, func(s *grpc.Server) { peer.RegisterEndorserServer(s, ce) })
	return addr, ce
}

// deadAddress is a loopback address nothing listens on.
func deadAddress(t *testing.T) string {
	l, addr, _ := listen(t)
	l.Close()
	return addr
}

func (f *fx) anchor(t *testing.T) string {
	t.Helper()
	for _, o := range f.net.Bundle.ApplicationOrgs() {
		if o.MSPID == "Org2MSP" && len(o.AnchorPeers) == 1 {
			return fmt.Sprintf("%s:%d", o.AnchorPeers[0].Host, o.AnchorPeers[0].Port)
		}
	}
	t.Fatal("no Org2 anchor")
	return ""
}

func addresses(ds []*gp.ErrorDetail) []string {
	var out []string
	for _, d := range ds {
		if d.MspId != "Org2MSP" {
			return append(out, "unexpected org "+d.MspId)
		}
		out = append(out, d.Address)
	}
	return out
}

func TestEndorseTriesOtherPeersOfAnOrg(t *testing.T) {
	ctx := context.Background()
	t.Run("anchor down, learnt peer endorses", func(t *testing.T) {
		f := newFx(t, fxOptions{deadAnchor: true})
		addr, ce := f.org2Peer(t)
		f.members.set(gateway.Member{MSPID: "Org2MSP", Address: addr, Height: 3})
		sp, _ := f.proposal(t, "basic", "put", "k", "x")
		if _, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp}); err != nil {
			t.Fatal(err)
		}
		if ce.n() != 1 {
			t.Fatalf("learnt peer called %d times", ce.n())
		}
	})
	t.Run("learnt peer down, anchor endorses", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		dead := deadAddress(t)
		f.members.set(gateway.Member{MSPID: "Org2MSP", Address: dead, Height: 3})
		sp, _ := f.proposal(t, "basic", "put", "k", "x")
		if _, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp, EndorsingOrganizations: []string{"Org1MSP", "Org2MSP"}}); err != nil {
			t.Fatal(err)
		}
		if f.remote.n() != 1 {
			t.Fatalf("anchor called %d times", f.remote.n())
		}
	})
	t.Run("every peer down: each attempt in the details", func(t *testing.T) {
		f := newFx(t, fxOptions{deadAnchor: true})
		dead1, dead2 := deadAddress(t), deadAddress(t)
		f.members.set(gateway.Member{MSPID: "Org2MSP", Address: dead1, Height: 3}, gateway.Member{MSPID: "Org2MSP", Address: dead2, Height: 4})
		sp, _ := f.proposal(t, "basic", "put", "k", "x")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to collect enough transaction endorsements")
		// Highest ledger first, then the anchor.
		if got, want := addresses(ds), []string{dead2, dead1, f.anchor(t)}; !slices.Equal(got, want) {
			t.Fatalf("attempts %v, want %v", got, want)
		}
	})
	t.Run("peer far behind is not asked", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		addr, ce := f.org2Peer(t)
		f.members.set(gateway.Member{MSPID: "Org2MSP", Address: addr, Height: 1},
			gateway.Member{MSPID: "Org1MSP", Address: "127.0.0.1:1", Height: 1 + gateway.DefaultMaxHeightLag + 1})
		sp, _ := f.proposal(t, "basic", "put", "k", "x")
		if _, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp}); err != nil {
			t.Fatal(err)
		}
		if ce.n() != 0 || f.remote.n() != 1 {
			t.Fatalf("lagging peer called %d times, anchor %d", ce.n(), f.remote.n())
		}
	})
	t.Run("plan: learnt peers by height, then anchors, never this peer", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		anchor := f.anchor(t)
		f.members.set(
			gateway.Member{MSPID: "Org2MSP", Address: "b:1", Height: 20},
			gateway.Member{MSPID: "Org2MSP", Address: "a:1", Height: 20},
			gateway.Member{MSPID: "Org2MSP", Address: "c:1", Height: 25},
			gateway.Member{MSPID: "Org2MSP", Address: "behind:1", Height: 14},
			gateway.Member{MSPID: "Org2MSP", Address: anchor, Height: 24},
			gateway.Member{MSPID: "Org1MSP", Address: "peer0.org1:7051", Height: 25},
			gateway.Member{MSPID: "Org1MSP", Address: "peer1.org1:7051", Height: 25},
		)
		ch, _ := channels{et.ChannelID: &channel{bundle: f.net.Bundle, ledger: f.ledger}}.Channel(et.ChannelID)
		if got, want := f.gw.OrgTargetAddresses(ch, "Org2MSP"), []string{"c:1", anchor, "a:1", "b:1"}; !slices.Equal(got, want) {
			t.Fatalf("Org2 plan %v, want %v", got, want)
		}
		if got, want := f.gw.OrgTargetAddresses(ch, "Org1MSP"), []string{"peer1.org1:7051"}; !slices.Equal(got, want) {
			t.Fatalf("Org1 plan %v, want %v", got, want)
		}
		if got := f.gw.OrgTargetAddresses(ch, "Org3MSP"); len(got) != 0 {
			t.Fatalf("plan for an org outside the channel: %v", got)
		}
	})
}

func TestEvaluateTriesOtherPeersOfAnOrg(t *testing.T) {
	ctx := context.Background()
	f := newFx(t, fxOptions{})
	dead := deadAddress(t)
	f.members.set(gateway.Member{MSPID: "Org2MSP", Address: dead, Height: 9})
	sp, _ := f.proposal(t, "basic", "get", "k")
	resp, err := f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp, TargetOrganizations: []string{"Org2MSP"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.GetResult().GetPayload()) != "v" || f.remote.n() != 1 {
		t.Fatalf("result %q, anchor called %d times", resp.GetResult().GetPayload(), f.remote.n())
	}
	f.dialedMu.Lock()
	_, tried := f.dialed[dead]
	f.dialedMu.Unlock()
	if !tried {
		t.Fatal("the learnt peer was not tried first")
	}
}
