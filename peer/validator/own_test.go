package validator

import (
	"fmt"
	"slices"
	"testing"

	"weft/msp/msptest"
	"weft/wire/peer"
)

func TestOwnSignaturesRing(t *testing.T) {
	o := NewOwnSignatures(2)
	id, data := []byte("id"), []byte("data")
	sig := func(i int) []byte { return []byte(fmt.Sprint("sig", i)) }
	o.Record(id, data, sig(1))
	o.Record(id, data, sig(1)) // a repeat takes no second slot
	o.Record(id, data, sig(2))
	for _, tc := range []struct {
		name          string
		id, data, sig []byte
		want          bool
	}{
		{"recorded", id, data, sig(1), true},
		{"other signature", id, data, sig(3), false},
		{"other data", id, []byte("datb"), sig(1), false},
		{"other identity", []byte("ie"), data, sig(1), false},
		{"parts shifted across the boundary", []byte("idd"), []byte("ata"), sig(1), false},
	} {
		if got := o.Made(tc.id, tc.data, tc.sig); got != tc.want {
			t.Errorf("%s: Made = %v, want %v", tc.name, got, tc.want)
		}
	}
	o.Record(id, data, sig(3)) // forgets sig1, the oldest
	if o.Made(id, data, sig(1)) || !o.Made(id, data, sig(2)) || !o.Made(id, data, sig(3)) {
		t.Fatalf("after overflow: sig1 %v sig2 %v sig3 %v, want false true true", o.Made(id, data, sig(1)), o.Made(id, data, sig(2)), o.Made(id, data, sig(3)))
	}
	var none *OwnSignatures
	none.Record(id, data, sig(1))
	if none.Made(id, data, sig(1)) {
		t.Fatal("nil OwnSignatures knows a signature")
	}
}

// TestOwnEndorsementsNotVerified checks that endorsements the peer recorded
// as its own reach the policies as valid without a verification, and that
// anything else — another signature, or an identity the channel refuses —
// is treated as before.
func TestOwnEndorsementsNotVerified(t *testing.T) {
	tests := []struct {
		name     string
		endorse  func(f *fixture) []*msptest.Member
		record   func(es []*peer.Endorsement) []*peer.Endorsement // what the peer signed itself
		tamper   func(t *testing.T, f *fixture, es []*peer.Endorsement)
		want     peer.TxValidationCode
		signers  int
		verified int
	}{
		{name: "own endorsement skipped", want: VALID, signers: 2, verified: 1,
			endorse: func(f *fixture) []*msptest.Member { return []*msptest.Member{f.peer1, f.peer2} },
			record:  func(es []*peer.Endorsement) []*peer.Endorsement { return es[:1] }},
		{name: "nothing recorded", want: VALID, signers: 2, verified: 2,
			endorse: func(f *fixture) []*msptest.Member { return []*msptest.Member{f.peer1, f.peer2} },
			record:  func(es []*peer.Endorsement) []*peer.Endorsement { return nil }},
		{name: "recorded signature replaced by a bad one", want: EPF, signers: 1, verified: 2,
			endorse: func(f *fixture) []*msptest.Member { return []*msptest.Member{f.peer1, f.peer2} },
			record:  func(es []*peer.Endorsement) []*peer.Endorsement { return es[:1] },
			tamper: func(t *testing.T, f *fixture, es []*peer.Endorsement) {
				es[0].Signature = must(f.peer1.Sign([]byte("something else")))(t)
			}},
		{name: "recorded but outside the channel", want: VALID, signers: 1, verified: 0,
			endorse: func(f *fixture) []*msptest.Member { return []*msptest.Member{f.outsider, f.peer1} },
			record:  func(es []*peer.Endorsement) []*peer.Endorsement { return es }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			own := NewOwnSignatures(16)
			env := f.envelope(t, txSpec{endorsers: tc.endorse(f),
				signed: func(prp []byte, es []*peer.Endorsement) {
					for _, e := range tc.record(es) {
						own.Record(e.Endorser, append(append([]byte{}, prp...), e.Endorser...), e.Signature)
					}
				},
				endorsements: func(es []*peer.Endorsement) []*peer.Endorsement {
					if tc.tamper != nil {
						tc.tamper(t, f, es)
					}
					return es
				}})
			in := f.input(block(2, env))
			in.Own = own
			res, err := Validate(in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Codes, []peer.TxValidationCode{tc.want}) {
				t.Fatalf("codes %v, want [%v]", res.Codes, tc.want)
			}
			if len(f.pols.evals) == 0 {
				t.Fatal("no policy evaluated")
			}
			for _, e := range f.pols.evals {
				if e.signers != tc.signers || e.before != tc.verified || e.after != tc.verified {
					t.Errorf("namespace %s: %d signatures, %d/%d verifications before/after the policy; want %d signatures, %d verifications",
						e.ns, e.signers, e.before, e.after, tc.signers, tc.verified)
				}
			}
		})
	}
}
