package validator

import (
	"slices"
	"testing"

	"weft/msp/msptest"
	"weft/peer/txsim"
	"weft/wire/peer"
)

// TestEndorsementsVerifiedOnce checks that the signatures the validator
// verifies while collecting endorsements reach the policy checks with their
// outcomes, so no namespace's policy verifies them again, and that the
// validation codes are unchanged.
func TestEndorsementsVerifiedOnce(t *testing.T) {
	twoNamespaces := func(s *txsim.Simulator) error {
		if err := s.PutState("cc", "k", []byte("v")); err != nil {
			return err
		}
		return s.PutState("other", "x", []byte("1"))
	}
	tests := []struct {
		name     string
		spec     func(t *testing.T, f *fixture) txSpec
		want     peer.TxValidationCode
		signers  int // signatures handed to the policies
		verified int // verifications made while collecting them
		wantAsks []string
	}{
		{name: "two orgs, two namespaces", want: VALID, signers: 2, verified: 2, wantAsks: []string{"cc", "other"},
			spec: func(t *testing.T, f *fixture) txSpec {
				return txSpec{results: f.simulate(t, twoNamespaces), endorsers: []*msptest.Member{f.peer1, f.peer2}}
			}},
		{name: "bad second signature", want: EPF, signers: 1, verified: 2, wantAsks: []string{"cc", "other"},
			spec: func(t *testing.T, f *fixture) txSpec {
				return txSpec{results: f.simulate(t, twoNamespaces), endorsers: []*msptest.Member{f.peer1, f.peer2},
					endorsements: func(es []*peer.Endorsement) []*peer.Endorsement {
						es[1].Signature = must(f.peer2.Sign([]byte("something else")))(t)
						return es
					}}
			}},
		{name: "identity outside the channel is not verified", want: VALID, signers: 1, verified: 1, wantAsks: []string{"cc"},
			spec: func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsers: []*msptest.Member{f.outsider, f.peer1}}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			res, err := Validate(f.input(block(2, f.envelope(t, tc.spec(t, f)))))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Codes, []peer.TxValidationCode{tc.want}) {
				t.Fatalf("codes %v, want [%v]", res.Codes, tc.want)
			}
			if !slices.Equal(f.pols.asks, tc.wantAsks) {
				t.Fatalf("policy checks %v, want %v", f.pols.asks, tc.wantAsks)
			}
			if len(f.pols.evals) != len(tc.wantAsks) {
				t.Fatalf("%d evaluations, want %d", len(f.pols.evals), len(tc.wantAsks))
			}
			for _, e := range f.pols.evals {
				if e.memo == nil || e.memo != f.pols.evals[0].memo {
					t.Fatalf("namespace %s: signed data carries memo %p, want the transaction's shared memo", e.ns, e.memo)
				}
				if e.signers != tc.signers {
					t.Errorf("namespace %s: %d signatures, want %d", e.ns, e.signers, tc.signers)
				}
				if e.before != tc.verified || e.after != tc.verified {
					t.Errorf("namespace %s: %d verifications before the policy, %d after, want %d and no more", e.ns, e.before, e.after, tc.verified)
				}
			}
		})
	}
}
