package policy

import (
	"strings"
	"testing"

	"weft/msp/msptest"
	common "weft/wire/common"
)

func TestSignaturePolicy(t *testing.T) {
	w := newWorld(t)
	tamper := func(f func(sds []SignedData)) func([]SignedData) []SignedData {
		return func(sds []SignedData) []SignedData { f(sds); return sds }
	}
	tests := []struct {
		name    string
		policy  string
		signers []string
		mutate  func([]SignedData) []SignedData
		want    string // "" = satisfied
	}{
		{name: "member", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer"}},
		{name: "peer", policy: "OR('Org2MSP.peer')", signers: []string{"Org2MSP.peer"}},
		{name: "admin", policy: "OR('Org1MSP.admin')", signers: []string{"Org1MSP.admin"}},
		{name: "client", policy: "OR('Org3MSP.client')", signers: []string{"Org3MSP.client"}},
		{name: "peer is not client", policy: "OR('Org1MSP.client')", signers: []string{"Org1MSP.peer"},
			want: "0 of 1 required principals satisfied; Org1MSP.client not satisfied (1 valid signers of 1 signatures)"},
		{name: "client is not peer", policy: "OR('Org1MSP.peer')", signers: []string{"Org1MSP.client"}, want: "Org1MSP.peer not satisfied"},
		{name: "AND one missing", policy: "AND('Org1MSP.peer', 'Org2MSP.peer')", signers: []string{"Org1MSP.peer"},
			want: "signature policy: 1 of 2 required principals satisfied; Org2MSP.peer not satisfied"},
		{name: "AND both", policy: "AND('Org1MSP.peer', 'Org2MSP.peer')", signers: []string{"Org2MSP.peer", "Org1MSP.peer"}},
		{name: "same principal twice, one signer", policy: "AND('Org1MSP.member', 'Org1MSP.member')", signers: []string{"Org1MSP.peer"},
			want: "1 of 2 required principals satisfied; Org1MSP.member not satisfied"},
		{name: "same signer twice counted once", policy: "AND('Org1MSP.member', 'Org1MSP.member')", signers: []string{"Org1MSP.peer", "Org1MSP.peer"},
			want: "signature 1: duplicate signer"},
		{name: "same principal twice, two signers", policy: "AND('Org1MSP.member', 'Org1MSP.member')", signers: []string{"Org1MSP.peer", "Org1MSP.client"}},
		{name: "OutOf 2 of 3 met", policy: "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')", signers: []string{"Org3MSP.peer", "Org1MSP.peer"}},
		{name: "OutOf 2 of 3 short", policy: "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')", signers: []string{"Org2MSP.peer"},
			want: "1 of 2 required principals satisfied; Org1MSP.peer, Org3MSP.peer not satisfied"},
		{name: "OutOf n+1 never met", policy: "OutOf(3, 'Org1MSP.peer', 'Org2MSP.peer')", signers: []string{"Org1MSP.peer", "Org2MSP.peer"},
			want: "2 of 3 required"},
		{name: "OutOf 0 needs nobody", policy: "OutOf(0, 'Org1MSP.peer')"},
		{name: "no signatures", policy: "OR('Org1MSP.member')", want: "0 of 1 required principals satisfied; Org1MSP.member not satisfied (0 valid signers of 0 signatures)"},
		{name: "missing signature", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer"},
			mutate: tamper(func(s []SignedData) { s[0].Signature = nil }), want: "signature 0: verify signature of Org1MSP identity"},
		{name: "bad signature", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer"},
			mutate: tamper(func(s []SignedData) { s[0].Data = []byte("other bytes") }), want: "does not verify"},
		{name: "high-S signature", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer"},
			mutate: func(s []SignedData) []SignedData {
				hs, err := msptest.HighS(&w.members["Org1MSP.peer"].Key.PublicKey, s[0].Signature)
				if err != nil {
					t.Fatal(err)
				}
				s[0].Signature = hs
				return s
			}, want: "not in low-S form"},
		{name: "bad then good signature of same signer", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer", "Org1MSP.peer"},
			mutate: tamper(func(s []SignedData) { s[0].Signature = s[0].Signature[:len(s[0].Signature)-1] })},
		{name: "expired signer", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.expired"}, want: "expired at"},
		{name: "unknown MSP signer", policy: "OR('Org1MSP.member')", signers: []string{"Org9MSP.peer"}, want: `MSP "Org9MSP" is not known`},
		{name: "garbage identity", policy: "OR('Org1MSP.member')", signers: []string{"Org1MSP.peer"},
			mutate: tamper(func(s []SignedData) { s[0].Identity = []byte{0xff} }), want: "signature 0: serialized identity"},
		// Fabric's greedy matching: the member leaf takes the first signer.
		{name: "greedy order fails", policy: "AND('Org1MSP.member', 'Org1MSP.peer')", signers: []string{"Org1MSP.peer", "Org1MSP.client"},
			want: "Org1MSP.peer not satisfied"},
		{name: "greedy order succeeds", policy: "AND('Org1MSP.member', 'Org1MSP.peer')", signers: []string{"Org1MSP.client", "Org1MSP.peer"}},
		// A failing sub-gate must not consume the signers it tried.
		{name: "failed gate releases signers", policy: "OR(AND('Org1MSP.peer', 'Org2MSP.peer'), 'Org1MSP.peer')", signers: []string{"Org1MSP.peer"}},
		{name: "nested gate description", policy: "AND('Org1MSP.peer', OR('Org2MSP.admin', 'Org3MSP.admin'))", signers: []string{"Org1MSP.peer"},
			want: "1 of 2 required principals satisfied; OutOf(1, Org2MSP.admin, Org3MSP.admin) not satisfied"},
		{name: "two distinct peers of one org", policy: "AND('Org1MSP.peer', 'Org1MSP.peer')", signers: []string{"Org1MSP.peer", "Org1MSP.peer1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := FromString(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewSignaturePolicy(env, w.mg)
			if err != nil {
				t.Fatal(err)
			}
			sds := w.sign(t, tc.signers...)
			if tc.mutate != nil {
				sds = tc.mutate(sds)
			}
			err = p.EvaluateSignedData(sds)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("not satisfied: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("satisfied, want failure %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestNewSignaturePolicyErrors(t *testing.T) {
	w := newWorld(t)
	id := rolePrincipal(t, "Org1MSP", member)
	for _, tc := range []struct {
		name string
		env  *common.SignaturePolicyEnvelope
		want string
	}{
		{"nil envelope", nil, "envelope is nil"},
		{"version 1", &common.SignaturePolicyEnvelope{Version: 1, Rule: sb(0), Identities: []*common.MSPPrincipal{id}}, "version 1 is not supported"},
		{"no rule", &common.SignaturePolicyEnvelope{Identities: []*common.MSPPrincipal{id}}, "rule is empty"},
		{"index out of range", &common.SignaturePolicyEnvelope{Rule: nout(1, sb(0), sb(1)), Identities: []*common.MSPPrincipal{id}}, "n_out_of rule 1: signed_by 1 is out of range"},
		{"negative index", &common.SignaturePolicyEnvelope{Rule: sb(-1), Identities: []*common.MSPPrincipal{id}}, "signed_by -1 is out of range"},
		{"typeless rule", &common.SignaturePolicyEnvelope{Rule: &common.SignaturePolicy{}, Identities: []*common.MSPPrincipal{id}}, "rule has no type"},
		{"nil identity", &common.SignaturePolicyEnvelope{Rule: sb(0), Identities: []*common.MSPPrincipal{nil}}, "identities[0] is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSignaturePolicy(tc.env, w.mg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewSignaturePolicy(&common.SignaturePolicyEnvelope{Rule: sb(0), Identities: []*common.MSPPrincipal{id}}, nil); err == nil {
		t.Fatal("nil msp manager accepted")
	}
}
