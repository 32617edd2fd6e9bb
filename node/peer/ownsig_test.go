package peer

import (
	"testing"

	"weft/fabcrypto"
	"weft/msp"
	"weft/msp/msptest"
	"weft/peer/validator"
)

func TestRecordingSigner(t *testing.T) {
	org, err := msptest.NewOrg("Org1MSP", true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := org.Role("peer0.org1", msptest.OUPeer)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := fabcrypto.NewSigner(m.Key)
	if err != nil {
		t.Fatal(err)
	}
	id := &msp.SigningIdentity{Identity: &msp.Identity{MSPID: m.MSPID, Cert: m.Cert, Serialized: m.Serialized}, Signer: ks}
	own := validator.NewOwnSignatures(8)
	s := recordingSigner{id: id, own: own}
	msg := []byte("proposal response payload and endorser")
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fabcrypto.Verify(&m.Key.PublicKey, msg, sig); err != nil {
		t.Fatalf("recorded signature does not verify: %v", err)
	}
	if !own.Made(m.Serialized, msg, sig) {
		t.Fatal("signature not recorded")
	}
	if own.Made(m.Serialized, []byte("other"), sig) {
		t.Fatal("signature recorded for other data")
	}

	// A failed signature records nothing.
	broken := recordingSigner{id: &msp.SigningIdentity{Identity: id.Identity}, own: own}
	if sig, err := broken.Sign(msg); err == nil || sig != nil {
		t.Fatalf("signer without key: %x, %v; want an error", sig, err)
	}
}
