package msp

import (
	"testing"
	"time"

	"weft/msp/msptest"
	mspproto "weft/wire/msp"
)

func TestValidate(t *testing.T) {
	org1 := mustOrg(t, "Org1MSP", false)
	org2 := mustOrg(t, "Org2MSP", true)
	other := mustOrg(t, "Org1MSP", false) // same ID, different CA

	revoked1 := mustRole(t, org1, "revoked1", msptest.OUClient)
	revoked2 := mustRole(t, org2, "revoked2", msptest.OUPeer)
	crl1, err := org1.Root.CRL(revoked1.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	crl2, err := org2.Intermediate.CRL(revoked2.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	// A CRL from a foreign CA listing a serial must not revoke it.
	foreignCRL, err := other.Root.CRL(revoked1.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	org1.CRLs = [][]byte{crl1, foreignCRL}
	org2.CRLs = [][]byte{crl2}
	m1, m2 := mustMSP(t, org1), mustMSP(t, org2)

	now := time.Now()
	fromRoot2, err := org2.NewMemberFrom(org2.Root, msptest.CertOpts{CN: "direct", OUs: []string{msptest.OUPeer}})
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := org1.NewMemberFrom(other.Root, msptest.CertOpts{CN: "stranger", OUs: []string{msptest.OUClient}})
	if err != nil {
		t.Fatal(err)
	}
	org2Peer := mustRole(t, org2, "peer0.org2", msptest.OUPeer)

	tests := []struct {
		name    string
		m       *MSP
		member  *msptest.Member
		clock   time.Time
		wantDes string // error from DeserializeIdentity
		want    string // error from Validate
	}{
		{name: "org1 peer", m: m1, member: mustRole(t, org1, "peer0", msptest.OUPeer)},
		{name: "org1 client", m: m1, member: mustRole(t, org1, "user1", msptest.OUClient)},
		{name: "org1 admin", m: m1, member: mustRole(t, org1, "Admin", msptest.OUAdmin)},
		{name: "org1 orderer", m: m1, member: mustRole(t, org1, "orderer0", msptest.OUOrderer)},
		{name: "org2 peer via intermediate", m: m2, member: org2Peer},
		{name: "org2 client via intermediate", m: m2, member: mustRole(t, org2, "user1", msptest.OUClient)},
		{name: "extra non-node OU is fine", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "x", OUs: []string{"dept1", msptest.OUClient}})},
		{name: "expired", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "old", OUs: []string{msptest.OUClient},
			NotBefore: now.Add(-2 * msptest.Year), NotAfter: now.Add(-msptest.Year)}), want: "expired at"},
		{name: "not yet valid", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "future", OUs: []string{msptest.OUClient},
			NotBefore: now.Add(time.Hour), NotAfter: now.Add(msptest.Year)}), want: "not valid before"},
		{name: "clock after expiry", m: m1, member: mustRole(t, org1, "user2", msptest.OUClient), clock: now.Add(2 * msptest.Year), want: "expired at"},
		{name: "clock before start", m: m1, member: mustRole(t, org1, "user3", msptest.OUClient), clock: now.Add(-2 * time.Hour), want: "not valid before"},
		{name: "revoked by root CRL", m: m1, member: revoked1, want: "revoked"},
		{name: "revoked by intermediate CRL", m: m2, member: revoked2, want: "revoked"},
		{name: "unknown CA", m: m1, member: unknown, wantDes: "does not chain"},
		{name: "wrong MSP ID", m: m1, member: org2Peer, wantDes: `mspid "Org2MSP" does not match MSP "Org1MSP"`},
		{name: "identity is a CA", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "subca", IsCA: true, OUs: []string{msptest.OUPeer}}), want: "is a CA"},
		{name: "two NodeOUs", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "both", OUs: []string{msptest.OUPeer, msptest.OUClient}}), want: "exactly one"},
		{name: "same NodeOU twice", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "twice", OUs: []string{msptest.OUPeer, msptest.OUPeer}}), want: "exactly one"},
		{name: "no NodeOU", m: m1, member: mustMember(t, org1, msptest.CertOpts{CN: "none", OUs: []string{"dept1"}}), want: "no NodeOU"},
		{name: "issued by root above intermediate", m: m2, member: fromRoot2, want: "leaf CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.Now = nil
			if !tc.clock.IsZero() {
				tc.m.Now = func() time.Time { return tc.clock }
			}
			defer func() { tc.m.Now = nil }()
			id, err := tc.m.DeserializeIdentity(tc.member.Serialized)
			checkErr(t, err, tc.wantDes)
			if err != nil {
				return
			}
			if id.MSPID != tc.m.ID() || id.Cert.SerialNumber.Cmp(tc.member.Cert.SerialNumber) != 0 {
				t.Fatalf("deserialized %s serial %x, want %s serial %x", id.MSPID, id.Cert.SerialNumber, tc.m.ID(), tc.member.Cert.SerialNumber)
			}
			checkErr(t, tc.m.Validate(id), tc.want)
		})
	}
}

// TestNodeOUCertifiers binds NodeOUs to one of two intermediate CAs.
func TestNodeOUCertifiers(t *testing.T) {
	org := mustOrg(t, "Org3MSP", true)
	ica2, err := org.Root.NewIntermediateCA("ica2.Org3MSP")
	if err != nil {
		t.Fatal(err)
	}
	org.NodeOUCert = org.Intermediate.PEM
	fc := org.FabricConfig()
	fc.IntermediateCerts = append(fc.IntermediateCerts, ica2.PEM)
	m, err := mspFromFabric(t, fc)
	if err != nil {
		t.Fatal(err)
	}
	good := mustRole(t, org, "peer0", msptest.OUPeer)
	bad, err := org.NewMemberFrom(ica2, msptest.CertOpts{CN: "peer1", OUs: []string{msptest.OUPeer}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		member *msptest.Member
		want   string
	}{
		{"certified by named CA", good, ""},
		{"certified by other CA", bad, "not certified by the CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := m.DeserializeIdentity(tc.member.Serialized)
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, m.Validate(id), tc.want)
		})
	}

	// A NodeOU certificate that is not a CA of the MSP is a config error.
	stranger, err := msptest.NewRootCA("stranger")
	if err != nil {
		t.Fatal(err)
	}
	org.NodeOUCert = stranger.PEM
	_, err = mspFromFabric(t, org.FabricConfig())
	checkErr(t, err, "not one of the MSP's root or intermediate CAs")
}

func TestOrganizationalUnitIdentifiers(t *testing.T) {
	org := mustOrg(t, "Org4MSP", false)
	org.NodeOUs = false
	admin := mustMember(t, org, msptest.CertOpts{CN: "admin", OUs: []string{"COP"}})
	org.Admins = [][]byte{admin.PEM}
	fc := org.FabricConfig()
	fc.OrganizationalUnitIdentifiers = append(fc.OrganizationalUnitIdentifiers, &mspproto.FabricOUIdentifier{Certificate: org.Root.PEM, OrganizationalUnitIdentifier: "COP"})
	m, err := mspFromFabric(t, fc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ous  []string
		want string
	}{
		{"listed OU", []string{"COP"}, ""},
		{"other OU", []string{"ABC"}, "none of the certificate's OUs [ABC]"},
		{"no OU", nil, "has no Organizational Unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mb := mustMember(t, org, msptest.CertOpts{CN: "u", OUs: tc.ous})
			id, err := m.DeserializeIdentity(mb.Serialized)
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, m.Validate(id), tc.want)
		})
	}
}
