package policy

import (
	"bytes"
	"testing"

	"weft/msp"
)

func TestVouch(t *testing.T) {
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
	n := countVerifies(t)
	vm := NewVerifyMemo()
	buf := bytes.Clone(testMsg)
	vm.Vouch(id1, buf, sd.Signature)
	buf[0] ^= 1 // the memo keeps its own copy

	for _, tc := range []struct {
		name      string
		id        *msp.Identity
		data, sig []byte
		wantErr   bool
		verifies  int // running total
	}{
		{"vouched: not verified", id1, testMsg, sd.Signature, false, 0},
		{"other identity: verified", id2, testMsg, sd.Signature, true, 1},
		{"vouched still holds", id1, testMsg, sd.Signature, false, 1},
		{"other data: verified", id1, []byte("other"), sd.Signature, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := vm.Verify(tc.id, tc.data, tc.sig)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if *n != tc.verifies {
				t.Fatalf("%d verifications so far, want %d", *n, tc.verifies)
			}
		})
	}
	// Neither a nil memo nor an identity without certificate records anything.
	var nilMemo *VerifyMemo
	nilMemo.Vouch(id1, testMsg, sd.Signature)
	vm2 := NewVerifyMemo()
	vm2.Vouch(&msp.Identity{MSPID: "Org1MSP"}, testMsg, sd.Signature)
	if len(vm2.done) != 0 {
		t.Fatalf("vouching without a certificate recorded %d outcomes", len(vm2.done))
	}
}
