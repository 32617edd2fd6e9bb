package msp

import (
	"bytes"
	"errors"
	"testing"

	"weft/fabcrypto"
	"weft/msp/msptest"
	mspproto "weft/wire/msp"
)

func TestNewErrors(t *testing.T) {
	org := mustOrg(t, "Org1MSP", true)
	leaf := mustRole(t, org, "peer0", msptest.OUPeer)
	noOU := mustMember(t, org, msptest.CertOpts{CN: "noou", OUs: []string{"dept"}})
	stranger, err := msptest.NewRootCA("stranger")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(fc *mspproto.FabricMSPConfig)
		want   string
	}{
		{"valid", func(fc *mspproto.FabricMSPConfig) {}, ""},
		{"empty name", func(fc *mspproto.FabricMSPConfig) { fc.Name = "" }, "name (MSP ID) is empty"},
		{"no roots", func(fc *mspproto.FabricMSPConfig) { fc.RootCerts = nil }, "root_certs is empty"},
		{"root not PEM", func(fc *mspproto.FabricMSPConfig) { fc.RootCerts = [][]byte{[]byte("junk")} }, "root_certs[0]: no PEM block"},
		{"root not a CA", func(fc *mspproto.FabricMSPConfig) { fc.RootCerts = [][]byte{leaf.PEM}; fc.IntermediateCerts = nil }, "root_certs[0] (subject \"peer0\") is not a self-signed CA"},
		{"intermediate from foreign root", func(fc *mspproto.FabricMSPConfig) { fc.RootCerts = [][]byte{stranger.PEM} }, "intermediate_certs[0]"},
		{"bad CRL", func(fc *mspproto.FabricMSPConfig) { fc.RevocationList = [][]byte{[]byte("junk")} }, "revocation_list[0]"},
		{"SHA3 family", func(fc *mspproto.FabricMSPConfig) { fc.CryptoConfig.SignatureHashFamily = "SHA3" }, `signature_hash_family "SHA3"`},
		{"no admins, NodeOUs off", func(fc *mspproto.FabricMSPConfig) { fc.FabricNodeOus = nil }, "no admins listed"},
		{"no admins, no admin OU", func(fc *mspproto.FabricMSPConfig) { fc.FabricNodeOus.AdminOuIdentifier = nil }, "no admins listed"},
		{"listed admin without client/admin OU", func(fc *mspproto.FabricMSPConfig) { fc.Admins = [][]byte{noOU.PEM} }, "neither the client nor the admin OU"},
		{"listed admin from foreign CA", func(fc *mspproto.FabricMSPConfig) { fc.Admins = [][]byte{stranger.PEM} }, "admins: [0]"},
		{"TLS root not a CA", func(fc *mspproto.FabricMSPConfig) { fc.TlsRootCerts = [][]byte{leaf.PEM} }, "TLS certificate \"peer0\" is not a CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := org.FabricConfig()
			tc.mutate(fc)
			_, err := mspFromFabric(t, fc)
			checkErr(t, err, tc.want)
		})
	}
	for _, tc := range []struct {
		name string
		cfg  *mspproto.MSPConfig
		want string
	}{
		{"nil", nil, "msp config is nil"},
		{"idemix", &mspproto.MSPConfig{Type: 1}, "type 1 is not supported"},
		{"garbage", &mspproto.MSPConfig{Config: []byte{0xff, 0xff}}, "unmarshal FabricMSPConfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			checkErr(t, err, tc.want)
		})
	}
}

// TestSanitize checks that a certificate whose issuer signature is high-S
// is compared in its low-S form, as Fabric does.
func TestSanitize(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	org.NodeOUs = false
	high := mustMember(t, org, msptest.CertOpts{CN: "admin", HighS: true})
	org.Admins = [][]byte{high.PEM}
	m := mustMSP(t, org)

	idHigh, err := m.DeserializeIdentity(high.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(idHigh.Cert.Raw, high.Cert.Raw) {
		t.Fatal("high-S certificate was not rewritten")
	}
	if ok, err := fabcrypto.IsLowS(&org.Root.Key.PublicKey, idHigh.Cert.Signature); err != nil || !ok {
		t.Fatalf("sanitized signature low-S=%v err=%v", ok, err)
	}
	if err := idHigh.Cert.CheckSignatureFrom(org.Root.Cert); err != nil {
		t.Fatalf("sanitized certificate no longer verifies: %v", err)
	}
	low, err := msptest.NewMember("Org1MSP", idHigh.Cert, high.Key)
	if err != nil {
		t.Fatal(err)
	}
	idLow, err := m.DeserializeIdentity(low.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	if idLow.ID != idHigh.ID {
		t.Fatalf("IDs differ: %s vs %s", idLow.ID, idHigh.ID)
	}
	if !bytes.Equal(idHigh.Serialized, high.Serialized) {
		t.Fatal("Serialized must keep the bytes as received")
	}
	for _, id := range []*Identity{idHigh, idLow} {
		if !m.isAdmin(id) {
			t.Fatal("listed admin not recognised in either encoding")
		}
	}
}

func TestVerify(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	m := mustMSP(t, org)
	mb := mustRole(t, org, "user", msptest.OUClient)
	id, err := m.DeserializeIdentity(mb.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("proposal bytes")
	good, err := mb.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	highS, err := msptest.HighS(&mb.Key.PublicKey, good)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		msg  []byte
		sig  []byte
		want error
	}{
		{"good", msg, good, nil},
		{"other message", []byte("other"), good, fabcrypto.ErrBadSignature},
		{"high S", msg, highS, fabcrypto.ErrHighS},
		{"empty", msg, nil, fabcrypto.ErrMalformedSignature},
		{"garbage", msg, []byte{0x30, 0x01, 0x00}, fabcrypto.ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := id.Verify(tc.msg, tc.sig)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}
