package channelconfig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math"
	"math/big"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/fabcrypto"
	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

// testCA is a throwaway root CA for one test org.
type testCA struct {
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	pem    []byte
	serial int64
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ca." + name, Organization: []string{name}},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte(name + "-ski"),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, lowS(t, key))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}
}

func lowS(t testing.TB, key *ecdsa.PrivateKey) crypto.Signer {
	t.Helper()
	s, err := fabcrypto.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s.CryptoSigner()
}

// testSigner is an identity with its key; it implements Signer.
type testSigner struct {
	mspID      string
	key        *ecdsa.PrivateKey
	cert       *x509.Certificate
	serialized []byte
}

func (s *testSigner) Sign(msg []byte) ([]byte, error) { return fabcrypto.Sign(s.key, msg) }
func (s *testSigner) Serialize() []byte               { return s.serialized }

// issue creates an identity certificate carrying ou; notAfter in the past
// yields an expired identity.
func (ca *testCA) issue(t testing.TB, mspID, cn, ou string, notAfter time.Time) *testSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial),
		Subject:      pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, lowS(t, ca.key))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ser, err := proto.Marshal(&mspproto.SerializedIdentity{Mspid: mspID, IdBytes: certPEM})
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{mspID: mspID, key: key, cert: cert, serialized: ser}
}

func (ca *testCA) crl(t testing.TB, revoked ...*testSigner) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: time.Now().Add(-time.Hour),
		NextUpdate: time.Now().Add(24 * time.Hour),
	}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: r.cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, lowS(t, ca.key))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// testOrg is one organisation with NodeOU-classified identities.
type testOrg struct {
	mspID   string
	ca      *testCA
	admin   *testSigner
	peer    *testSigner
	client  *testSigner
	expired *testSigner // admin OU, certificate expired
	revoked *testSigner // admin OU, listed in the org's CRL
	mspCfg  *mspproto.MSPConfig
}

func newTestOrg(t testing.TB, mspID string) *testOrg {
	t.Helper()
	ca := newTestCA(t, mspID)
	later := time.Now().Add(24 * time.Hour)
	o := &testOrg{
		mspID:   mspID,
		ca:      ca,
		admin:   ca.issue(t, mspID, "Admin@"+mspID, "admin", later),
		peer:    ca.issue(t, mspID, "peer0."+mspID, "peer", later),
		client:  ca.issue(t, mspID, "User1@"+mspID, "client", later),
		expired: ca.issue(t, mspID, "Old@"+mspID, "admin", time.Now().Add(-time.Hour)),
		revoked: ca.issue(t, mspID, "Gone@"+mspID, "admin", later),
	}
	ouID := func(ou string) *mspproto.FabricOUIdentifier {
		return &mspproto.FabricOUIdentifier{Certificate: ca.pem, OrganizationalUnitIdentifier: ou}
	}
	fab := &mspproto.FabricMSPConfig{
		Name:           mspID,
		RootCerts:      [][]byte{ca.pem},
		RevocationList: [][]byte{ca.crl(t, o.revoked)},
		CryptoConfig:   &mspproto.FabricCryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"},
		TlsRootCerts:   [][]byte{ca.pem},
		FabricNodeOus: &mspproto.FabricNodeOUs{
			Enable:              true,
			ClientOuIdentifier:  ouID("client"),
			PeerOuIdentifier:    ouID("peer"),
			AdminOuIdentifier:   ouID("admin"),
			OrdererOuIdentifier: ouID("orderer"),
		},
	}
	o.mspCfg = &mspproto.MSPConfig{Type: 0, Config: mustMarshal(t, fab)}
	return o
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cfgValue(t testing.TB, m proto.Message) *common.ConfigValue {
	return &common.ConfigValue{Value: mustMarshal(t, m), ModPolicy: "Admins"}
}

// signedByRole is OR('mspID.role') as a ConfigPolicy.
func signedByRole(t testing.TB, mspID string, role common.MSPRole_MSPRoleType) *common.ConfigPolicy {
	principal := &common.MSPPrincipal{
		PrincipalClassification: common.MSPPrincipal_ROLE,
		Principal:               mustMarshal(t, &common.MSPRole{MspIdentifier: mspID, Role: role}),
	}
	env := &common.SignaturePolicyEnvelope{
		Rule: &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{
			N:     1,
			Rules: []*common.SignaturePolicy{{Type: &common.SignaturePolicy_SignedBy{SignedBy: 0}}},
		}}},
		Identities: []*common.MSPPrincipal{principal},
	}
	return &common.ConfigPolicy{
		Policy:    &common.Policy{Type: int32(common.Policy_SIGNATURE), Value: mustMarshal(t, env)},
		ModPolicy: "Admins",
	}
}

func implicitMeta(t testing.TB, rule common.ImplicitMetaPolicy_Rule, sub string) *common.ConfigPolicy {
	return &common.ConfigPolicy{
		Policy:    &common.Policy{Type: int32(common.Policy_IMPLICIT_META), Value: mustMarshal(t, &common.ImplicitMetaPolicy{SubPolicy: sub, Rule: rule})},
		ModPolicy: "Admins",
	}
}

func standardPolicies(t testing.TB) map[string]*common.ConfigPolicy {
	return map[string]*common.ConfigPolicy{
		"Readers": implicitMeta(t, common.ImplicitMetaPolicy_ANY, "Readers"),
		"Writers": implicitMeta(t, common.ImplicitMetaPolicy_ANY, "Writers"),
		"Admins":  implicitMeta(t, common.ImplicitMetaPolicy_MAJORITY, "Admins"),
	}
}

// appOrgGroup is the /Channel/Application/<org> group of o.
func (o *testOrg) appOrgGroup(t testing.TB, anchorPort int32) *common.ConfigGroup {
	return &common.ConfigGroup{
		ModPolicy: "Admins",
		Values: map[string]*common.ConfigValue{
			MSPKey:         cfgValue(t, o.mspCfg),
			AnchorPeersKey: cfgValue(t, &peer.AnchorPeers{AnchorPeers: []*peer.AnchorPeer{{Host: "peer0." + o.mspID, Port: anchorPort}}}),
		},
		Policies: map[string]*common.ConfigPolicy{
			"Readers":     signedByRole(t, o.mspID, common.MSPRole_MEMBER),
			"Writers":     signedByRole(t, o.mspID, common.MSPRole_MEMBER),
			"Admins":      signedByRole(t, o.mspID, common.MSPRole_ADMIN),
			"Endorsement": signedByRole(t, o.mspID, common.MSPRole_PEER),
		},
	}
}

func (o *testOrg) ordererOrgGroup(t testing.TB) *common.ConfigGroup {
	return &common.ConfigGroup{
		ModPolicy: "Admins",
		Values: map[string]*common.ConfigValue{
			MSPKey:       cfgValue(t, o.mspCfg),
			EndpointsKey: cfgValue(t, &common.OrdererAddresses{Addresses: []string{"orderer0." + o.mspID + ":7050"}}),
		},
		Policies: map[string]*common.ConfigPolicy{
			"Readers": signedByRole(t, o.mspID, common.MSPRole_MEMBER),
			"Writers": signedByRole(t, o.mspID, common.MSPRole_MEMBER),
			"Admins":  signedByRole(t, o.mspID, common.MSPRole_ADMIN),
		},
	}
}

func capabilities(t testing.TB, names ...string) *common.ConfigValue {
	c := &common.Capabilities{Capabilities: map[string]*common.Capability{}}
	for _, n := range names {
		c.Capabilities[n] = &common.Capability{}
	}
	return cfgValue(t, c)
}

// testNet is a channel with two application orgs and one orderer org,
// plus an outsider org that is not a member.
type testNet struct {
	org1, org2, ord, org3 *testOrg
	cfg                   *common.Config
}

const testChannel = "mychannel"

func newTestNet(t testing.TB) *testNet {
	t.Helper()
	n := &testNet{
		org1: newTestOrg(t, "Org1MSP"),
		org2: newTestOrg(t, "Org2MSP"),
		ord:  newTestOrg(t, "OrdererMSP"),
		org3: newTestOrg(t, "Org3MSP"),
	}
	raft := &etcdraft.ConfigMetadata{
		Consenters: []*etcdraft.Consenter{{Host: "orderer0.OrdererMSP", Port: 7050, ClientTlsCert: n.ord.ca.pem, ServerTlsCert: n.ord.ca.pem}},
		Options:    &etcdraft.Options{TickInterval: "500ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 16 << 20},
	}
	ordPolicies := standardPolicies(t)
	ordPolicies["BlockValidation"] = implicitMeta(t, common.ImplicitMetaPolicy_ANY, "Writers")
	appPolicies := standardPolicies(t)
	appPolicies["Endorsement"] = implicitMeta(t, common.ImplicitMetaPolicy_MAJORITY, "Endorsement")
	appPolicies["LifecycleEndorsement"] = implicitMeta(t, common.ImplicitMetaPolicy_MAJORITY, "Endorsement")
	root := &common.ConfigGroup{
		ModPolicy: "Admins",
		Values: map[string]*common.ConfigValue{
			"HashingAlgorithm":          cfgValue(t, &common.HashingAlgorithm{Name: "SHA256"}),
			"BlockDataHashingStructure": cfgValue(t, &common.BlockDataHashingStructure{Width: math.MaxUint32}),
			CapabilitiesKey:             capabilities(t, "V3_0"),
		},
		Policies: standardPolicies(t),
		Groups: map[string]*common.ConfigGroup{
			OrdererGroupKey: {
				ModPolicy: "Admins",
				Values: map[string]*common.ConfigValue{
					"ConsensusType": cfgValue(t, &orderer.ConsensusType{Type: "etcdraft", Metadata: mustMarshal(t, raft)}),
					"BatchSize":     cfgValue(t, &orderer.BatchSize{MaxMessageCount: 10, AbsoluteMaxBytes: 10 << 20, PreferredMaxBytes: 2 << 20}),
					"BatchTimeout":  cfgValue(t, &orderer.BatchTimeout{Timeout: "2s"}),
					CapabilitiesKey: capabilities(t, "V2_0"),
				},
				Policies: ordPolicies,
				Groups:   map[string]*common.ConfigGroup{"OrdererOrg": n.ord.ordererOrgGroup(t)},
			},
			ApplicationGroupKey: {
				ModPolicy: "Admins",
				Values:    map[string]*common.ConfigValue{CapabilitiesKey: capabilities(t, "V2_5")},
				Policies:  appPolicies,
				Groups: map[string]*common.ConfigGroup{
					"Org1MSP": n.org1.appOrgGroup(t, 7051),
					"Org2MSP": n.org2.appOrgGroup(t, 9051),
				},
			},
		},
	}
	n.cfg = &common.Config{Sequence: 0, ChannelGroup: root}
	return n
}

func (n *testNet) bundle(t testing.TB) *Bundle {
	t.Helper()
	b, err := NewBundle(testChannel, n.cfg)
	if err != nil {
		t.Fatalf("NewBundle: %v", err)
	}
	return b
}

// cloneCfg returns a modified deep copy of cfg.
func cloneCfg(cfg *common.Config, edit func(root *common.ConfigGroup)) *common.Config {
	c := proto.Clone(cfg).(*common.Config)
	edit(c.ChannelGroup)
	return c
}

// updateTx marshals cu, collects ConfigSignatures from signers and wraps
// the result in a CONFIG_UPDATE envelope signed by submitter.
func updateTx(t testing.TB, channelID string, cu *common.ConfigUpdate, submitter Signer, signers ...Signer) *common.Envelope {
	t.Helper()
	raw := mustMarshal(t, cu)
	var sigs []*common.ConfigSignature
	for _, s := range signers {
		sig, err := SignConfigUpdate(raw, s)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	cue, err := NewConfigUpdateEnvelope(raw, sigs...)
	if err != nil {
		t.Fatal(err)
	}
	env, err := ConfigUpdateTx(channelID, cue, submitter)
	if err != nil {
		t.Fatal(err)
	}
	return env
}
