package policy

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"weft/msp"
)

// countVerifies counts the signature verifications actually performed until
// the test ends.
func countVerifies(t *testing.T) *int {
	t.Helper()
	n := new(int)
	orig := identityVerify
	identityVerify = func(id *msp.Identity, data, sig []byte) error {
		*n++
		return orig(id, data, sig)
	}
	t.Cleanup(func() { identityVerify = orig })
	return n
}

func TestVerifyMemo(t *testing.T) {
	w := newWorld(t)
	sd := w.sign(t, "Org1MSP.peer")[0]
	id1, err := w.mg.DeserializeIdentity(sd.Identity)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := w.mg.DeserializeIdentity(w.members["Org2MSP.peer"].Serialized)
	if err != nil {
		t.Fatal(err)
	}
	badSig := bytes.Clone(sd.Signature)
	badSig[len(badSig)-1] ^= 1
	buf := bytes.Clone(testMsg)

	n := countVerifies(t)
	vm := NewVerifyMemo()
	steps := []struct {
		name      string
		id        *msp.Identity
		data, sig []byte
		mutate    func()
		want      string
		verifies  int // running total
	}{
		{name: "first check verifies", id: id1, data: testMsg, sig: sd.Signature, verifies: 1},
		{name: "repeat is remembered", id: id1, data: testMsg, sig: sd.Signature, verifies: 1},
		{name: "other data is verified", id: id1, data: []byte("other"), sig: sd.Signature, want: "verify signature", verifies: 2},
		{name: "bad signature", id: id1, data: testMsg, sig: badSig, want: "verify signature", verifies: 3},
		{name: "bad signature remembered", id: id1, data: testMsg, sig: badSig, want: "verify signature", verifies: 3},
		{name: "other identity, same signature", id: id2, data: testMsg, sig: sd.Signature, want: "verify signature", verifies: 4},
		{name: "caller's buffer", id: id1, data: buf, sig: sd.Signature, verifies: 5},
		{name: "caller's buffer changed", id: id1, data: buf, sig: sd.Signature, mutate: func() { buf[0] ^= 1 }, want: "verify signature", verifies: 6},
		{name: "no identity", id: nil, data: testMsg, sig: sd.Signature, want: "no certificate", verifies: 7},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.mutate != nil {
				s.mutate()
			}
			err := vm.Verify(s.id, s.data, s.sig)
			if fmt.Sprint(err) != fmt.Sprint(s.id.Verify(s.data, s.sig)) {
				t.Fatalf("memo says %v, direct verification %v", err, s.id.Verify(s.data, s.sig))
			}
			if (err == nil) != (s.want == "") || (err != nil && !strings.Contains(err.Error(), s.want)) {
				t.Fatalf("error %v, want %q", err, s.want)
			}
			if *n != s.verifies {
				t.Fatalf("%d verifications so far, want %d", *n, s.verifies)
			}
		})
	}

	var nilMemo *VerifyMemo
	before := *n
	for i := 0; i < 2; i++ {
		if err := nilMemo.Verify(id1, testMsg, sd.Signature); err != nil {
			t.Fatal(err)
		}
	}
	if *n-before != 2 {
		t.Fatalf("nil memo: %d verifications for 2 calls, want 2", *n-before)
	}
}

// TestPolicyVerifiesOnce checks that an ImplicitMeta policy verifies each
// signature once across its sub-policies, that signatures a caller already
// verified through a memo are not verified again, and that outcomes are
// unchanged.
func TestPolicyVerifiesOnce(t *testing.T) {
	w := newWorld(t)
	m, err := NewManager(channelTree(t), w.mg)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(sds []SignedData) []SignedData {
		out := append([]SignedData(nil), sds...)
		out[0].Signature = bytes.Clone(out[0].Signature)
		out[0].Signature[len(out[0].Signature)-1] ^= 1
		return out
	}
	tests := []struct {
		name     string
		policy   string
		sds      []SignedData
		verified bool // the caller verified every signature through the memo first
		want     string
		verifies int
	}{
		{name: "majority of three", policy: "/Channel/Application/Endorsement", sds: w.sign(t, "Org1MSP.peer", "Org2MSP.peer"), verifies: 2},
		{name: "majority, one tampered", policy: "/Channel/Application/Endorsement", sds: tamper(w.sign(t, "Org1MSP.peer", "Org2MSP.peer")), want: "1 of 2 required sub-policies", verifies: 2},
		{name: "majority, one signer", policy: "/Channel/Application/Endorsement", sds: w.sign(t, "Org3MSP.peer"), want: "1 of 2 required sub-policies", verifies: 1},
		{name: "nested meta over metas", policy: "/Channel/Readers", sds: w.sign(t, "Org3MSP.client"), verifies: 1},
		{name: "pre-verified by caller", policy: "/Channel/Application/Endorsement", sds: w.sign(t, "Org1MSP.peer", "Org3MSP.peer"), verified: true, verifies: 2},
		{name: "pre-verified, tampered", policy: "/Channel/Application/Endorsement", sds: tamper(w.sign(t, "Org1MSP.peer", "Org3MSP.peer")), verified: true, want: "verify signature", verifies: 2},
		{name: "expired signer", policy: "/Channel/Application/Readers", sds: w.sign(t, "Org1MSP.expired"), want: "expired at", verifies: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, ok := m.Policy(tc.policy)
			if !ok {
				t.Fatalf("no policy %s", tc.policy)
			}
			n := countVerifies(t)
			sds := tc.sds
			if tc.verified {
				vm := NewVerifyMemo()
				for _, sd := range sds {
					if id, err := w.mg.DeserializeIdentity(sd.Identity); err == nil {
						_ = vm.Verify(id, sd.Data, sd.Signature)
					}
				}
				sds = WithMemo(sds, vm)
				if tc.sds[0].memo != nil {
					t.Fatal("WithMemo changed its argument")
				}
			}
			err := pol.EvaluateSignedData(sds)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if *n != tc.verifies {
				t.Fatalf("%d signature verifications, want %d", *n, tc.verifies)
			}
			// The same evaluation again gives the same answer.
			again := pol.EvaluateSignedData(sds)
			if fmt.Sprint(again) != fmt.Sprint(err) {
				t.Fatalf("second evaluation: %v, first: %v", again, err)
			}
		})
	}
}

func TestVerifyMemoAccessors(t *testing.T) {
	w := newWorld(t)
	sds := w.sign(t, "Org1MSP.peer", "Org2MSP.peer")
	vm := NewVerifyMemo()
	for _, sd := range sds {
		if sd.Memo() != nil {
			t.Fatal("plain signed data carries a memo")
		}
	}
	attached := WithMemo(sds, vm)
	for i, sd := range attached {
		if sd.Memo() != vm {
			t.Fatalf("entry %d: memo not attached", i)
		}
		id, err := w.mg.DeserializeIdentity(sd.Identity)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			if err := sd.Verify(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := vm.Verifications(); got != 2 {
		t.Fatalf("Verifications() = %d after 2 distinct signatures checked twice each, want 2", got)
	}
	var none *VerifyMemo
	if none.Verifications() != 0 {
		t.Fatal("nil memo reports verifications")
	}
}
