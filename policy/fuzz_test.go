package policy

import (
	"testing"

	common "weft/wire/common"
)

// countLeaves checks every signed_by index is in range and returns how
// often each identity is referenced.
func countLeaves(t *testing.T, r *common.SignaturePolicy, refs []int) {
	switch x := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		if x.SignedBy < 0 || int(x.SignedBy) >= len(refs) {
			t.Fatalf("signed_by %d out of range (%d identities)", x.SignedBy, len(refs))
		}
		refs[x.SignedBy]++
	case *common.SignaturePolicy_NOutOf_:
		if len(x.NOutOf.GetRules()) == 0 {
			t.Fatal("gate without rules")
		}
		if x.NOutOf.GetN() < 0 || int(x.NOutOf.GetN()) > len(x.NOutOf.GetRules())+1 {
			t.Fatalf("threshold %d for %d rules", x.NOutOf.GetN(), len(x.NOutOf.GetRules()))
		}
		for _, sub := range x.NOutOf.GetRules() {
			countLeaves(t, sub, refs)
		}
	default:
		t.Fatal("rule without type")
	}
}

func FuzzFromString(f *testing.F) {
	for _, tc := range dslValid {
		f.Add(tc.in)
	}
	for _, tc := range dslInvalid {
		f.Add(tc.in)
	}
	f.Add("OutOf(2, 'Org1MSP.peer', AND('Org2MSP.admin', 'Org3MSP.client'), 'Org1MSP.orderer')")
	w := newWorld(f)
	signers := w.sign(f, "Org1MSP.peer", "Org2MSP.admin", "Org3MSP.client", "Org1MSP.peer1")
	f.Fuzz(func(t *testing.T, s string) {
		env, err := FromString(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		refs := make([]int, len(env.GetIdentities()))
		countLeaves(t, env.GetRule(), refs)
		for i, n := range refs {
			if n != 1 {
				t.Fatalf("identity %d referenced %d times, want exactly once", i, n)
			}
		}
		p, err := NewSignaturePolicy(env, w.mg)
		if err != nil {
			t.Fatalf("parsed policy does not compile: %v", err)
		}
		for i := 0; i <= len(signers); i++ {
			_ = p.EvaluateSignedData(signers[:i])
		}
		_ = DescribeRule(env.GetRule(), env.GetIdentities())
	})
}
