package runner

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp"
	"weft/wire/common"
	mspb "weft/wire/msp"
)

// crlOf signs a PEM CRL listing serials with ca.
func crlOf(t *testing.T, ca *fabcrypto.CA, serials ...*big.Int) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func revocationList(t *testing.T, cfg *common.Config, mspID string) [][]byte {
	t.Helper()
	val := cfg.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()[mspID].GetValues()[channelconfig.MSPKey]
	var mc mspb.MSPConfig
	var fc mspb.FabricMSPConfig
	if err := proto.Unmarshal(val.GetValue(), &mc); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil {
		t.Fatal(err)
	}
	return fc.GetRevocationList()
}

func TestWithCRL(t *testing.T) {
	u, genesis := orgFixture(t)
	signCert, signKey, _, _ := orgCAFiles(u.l, &u.n.Orgs[0])
	cert, _ := fabcrypto.ReadCertFile(signCert)
	key, _ := fabcrypto.ReadPrivateKeyFile(signKey)
	org1CA := &fabcrypto.CA{Cert: cert, Key: key}
	other, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "other-ca"}})
	if err != nil {
		t.Fatal(err)
	}

	issue := func() *x509.Certificate {
		pub, _ := fabcrypto.GenerateKey()
		c, err := org1CA.Issue(fabcrypto.CertSpec{CommonName: "u", OrganizationalUnits: []string{"client"}, PublicKey: &pub.PublicKey, KeyUsage: x509.KeyUsageDigitalSignature})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	revokedCert, goodCert := issue(), issue()
	seven := big.NewInt(7)

	first := crlOf(t, org1CA, seven)
	cfg1, changed, err := withCRL(genesis, "Org1MSP", first, cert)
	if err != nil || !changed {
		t.Fatalf("first CRL: changed %v, %v", changed, err)
	}
	if got := revocationList(t, cfg1, "Org1MSP"); len(got) != 1 || string(got[0]) != string(first) {
		t.Fatalf("revocation list after first CRL: %d entries", len(got))
	}
	if got := revocationList(t, cfg1, "Org2MSP"); len(got) != 0 {
		t.Fatalf("Org2's MSP got %d CRLs", len(got))
	}
	if len(revocationList(t, genesis, "Org1MSP")) != 0 {
		t.Fatal("withCRL modified its input")
	}
	// The update touches only Org1's MSP value, so Org1's admin may sign it.
	update, err := channelconfig.ComputeUpdate("mychannel", genesis, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	org1 := update.GetWriteSet().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()["Org1MSP"]
	if org1.GetValues()[channelconfig.MSPKey] == nil || len(update.GetWriteSet().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()) != 1 {
		t.Fatalf("write set: %v", update.GetWriteSet())
	}

	// A newly signed CRL of the same serials changes nothing.
	if _, changed, err := withCRL(cfg1, "Org1MSP", crlOf(t, org1CA, seven), cert); err != nil || changed {
		t.Fatalf("same serials: changed %v, %v", changed, err)
	}

	// Another issuer's CRL stays; a new CRL of Org1's CA replaces the old.
	foreign := crlOf(t, other, big.NewInt(99))
	cfgF := proto.Clone(cfg1).(*common.Config)
	addRaw(t, cfgF, "Org1MSP", foreign)
	second := crlOf(t, org1CA, seven, revokedCert.SerialNumber)
	cfg2, changed, err := withCRL(cfgF, "Org1MSP", second, cert)
	if err != nil || !changed {
		t.Fatalf("second CRL: changed %v, %v", changed, err)
	}
	got := revocationList(t, cfg2, "Org1MSP")
	if len(got) != 2 || string(got[0]) != string(foreign) || string(got[1]) != string(second) {
		t.Fatalf("revocation list after second CRL: %q", got)
	}

	// The MSP built from the new config refuses the revoked certificate
	// and accepts another of the same CA.
	val := cfg2.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()["Org1MSP"].GetValues()[channelconfig.MSPKey]
	var mc mspb.MSPConfig
	proto.Unmarshal(val.GetValue(), &mc)
	m, err := msp.New(&mc)
	if err != nil {
		t.Fatalf("MSP from the updated config: %v", err)
	}
	for c, revoked := range map[*x509.Certificate]bool{revokedCert: true, goodCert: false} {
		ser, err := msp.Serialize("Org1MSP", fabcrypto.EncodeCertPEM(c))
		if err != nil {
			t.Fatal(err)
		}
		id, err := m.DeserializeIdentity(ser)
		if err == nil {
			err = m.Validate(id)
		}
		if revoked != (err != nil && strings.Contains(err.Error(), "revoked")) {
			t.Errorf("serial %x: want revoked %v, validation error %v", c.SerialNumber, revoked, err)
		}
	}

	// Bad input is refused with a reason.
	for name, c := range map[string]struct {
		mspID string
		crl   []byte
		want  string
	}{
		"foreign CRL": {"Org1MSP", foreign, "not signed by"},
		"not a CRL":   {"Org1MSP", []byte("junk"), "not a PEM X509 CRL"},
		"unknown org": {"NoMSP", first, "no MSP value"},
		"certificate": {"Org1MSP", fabcrypto.EncodeCertPEM(cert), "not a PEM X509 CRL"},
	} {
		if _, _, err := withCRL(genesis, c.mspID, c.crl, cert); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

// addRaw appends crl to mspID's revocation list without any check.
func addRaw(t *testing.T, cfg *common.Config, mspID string, crl []byte) {
	t.Helper()
	val := cfg.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()[mspID].GetValues()[channelconfig.MSPKey]
	var mc mspb.MSPConfig
	var fc mspb.FabricMSPConfig
	proto.Unmarshal(val.GetValue(), &mc)
	proto.Unmarshal(mc.GetConfig(), &fc)
	fc.RevocationList = append(fc.RevocationList, crl)
	mc.Config, _ = proto.Marshal(&fc)
	val.Value, _ = proto.Marshal(&mc)
}

func TestPublishCRLArguments(t *testing.T) {
	u := caFixture(t)
	if err := u.saveSpec(); err != nil {
		t.Fatal(err)
	}
	dir := u.opts.Dir
	for _, c := range []struct{ org, channel, want string }{
		{"Org9", "mychannel", `--org "Org9"`},
		{"Org2", "mychannel", "runs no CA"},
		{"Org1", "nochannel", `--channel "nochannel"`},
	} {
		_, err := PublishCRL(t.Context(), dir, c.org, c.channel, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("org %s channel %s: got %v, want %q", c.org, c.channel, err, c.want)
		}
	}
	if _, err := PublishCRL(t.Context(), filepath.Join(dir, "nothing"), "Org1", "mychannel", nil); err == nil || !strings.Contains(err.Error(), "weft up") {
		t.Errorf("no network: %v", err)
	}
}
