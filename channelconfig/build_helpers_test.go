package channelconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	mspproto "weft/wire/msp"
)

// btCertPEM returns a fresh self-signed ECDSA certificate in PEM form.
func btCertPEM(t *testing.T, cn string, isCA bool) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  isCA,
		BasicConstraintsValid: true,
		DNSNames:              []string{cn},
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// btMSP returns a channel-form FabricMSPConfig with NodeOUs, like the
// material a test-network org contributes.
func btMSP(t *testing.T, mspID string) *mspproto.MSPConfig {
	t.Helper()
	ca := btCertPEM(t, "ca."+mspID, true)
	ou := func(name string) *mspproto.FabricOUIdentifier {
		return &mspproto.FabricOUIdentifier{Certificate: ca, OrganizationalUnitIdentifier: name}
	}
	fc := &mspproto.FabricMSPConfig{
		Name:         mspID,
		RootCerts:    [][]byte{ca},
		TlsRootCerts: [][]byte{btCertPEM(t, "tlsca."+mspID, true)},
		CryptoConfig: &mspproto.FabricCryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"},
		FabricNodeOus: &mspproto.FabricNodeOUs{
			Enable:             true,
			ClientOuIdentifier: ou("client"), PeerOuIdentifier: ou("peer"),
			AdminOuIdentifier: ou("admin"), OrdererOuIdentifier: ou("orderer"),
		},
	}
	b, err := proto.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	return &mspproto.MSPConfig{Type: 0, Config: b}
}

// btProfile is the test-network "ChannelUsingRaft" profile with three
// consenters instead of one.
func btProfile(t *testing.T) *Profile {
	t.Helper()
	var consenters []Consenter
	for _, h := range []string{"orderer0.example.com", "orderer1.example.com", "orderer2.example.com"} {
		tls := btCertPEM(t, h, false)
		consenters = append(consenters, Consenter{Host: h, Port: 7050, ClientTLSCert: tls, ServerTLSCert: tls})
	}
	appOrg := func(id, peerHost string) Org {
		return Org{
			Name: id, ID: id, MSP: btMSP(t, id),
			Policies:    DefaultOrgPolicies(id),
			AnchorPeers: []AnchorPeer{{Host: peerHost, Port: 7051}},
		}
	}
	return &Profile{
		Policies:     DefaultChannelPolicies(),
		Capabilities: DefaultChannelCapabilities(),
		Orderer: &OrdererSpec{
			OrdererType:  OrdererTypeEtcdRaft,
			Addresses:    []string{"orderer0.example.com:7050"},
			BatchTimeout: 2 * time.Second,
			BatchSize:    BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: 99 * 1024 * 1024, PreferredMaxBytes: 512 * 1024},
			EtcdRaft:     &EtcdRaftSpec{Consenters: consenters, Options: DefaultEtcdRaftOptions()},
			Organizations: []Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: btMSP(t, "OrdererMSP"),
				Policies: DefaultOrdererOrgPolicies("OrdererMSP"),
				OrdererEndpoints: []string{
					"orderer0.example.com:7050", "orderer1.example.com:7050", "orderer2.example.com:7050",
				},
			}},
			Policies:     DefaultOrdererPolicies(),
			Capabilities: DefaultOrdererCapabilities(),
		},
		Application: &ApplicationSpec{
			Organizations: []Org{appOrg("Org1MSP", "peer0.org1.example.com"), appOrg("Org2MSP", "peer0.org2.example.com")},
			Policies:      DefaultApplicationPolicies(),
			Capabilities:  DefaultApplicationCapabilities(),
		},
	}
}

func btKeys[V any](m map[string]V) []string { return specSortedKeys(m) }
