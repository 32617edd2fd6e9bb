package gateway_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"weft/channelconfig"
	"weft/comm"
	"weft/msp/msptest"
	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/peer/gateway"
	gp "weft/wire/gateway"
	"weft/wire/peer"
)

// tlsPair issues a loopback TLS certificate from ca.
func tlsPair(t *testing.T, ca *msptest.CA, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

// TestRemoteEndorserOverMutualTLS uses the default dialer: Org2's anchor
// peer is verified against Org2's MSP TLS root, and it requires this peer's
// client certificate (issued by Org1's TLS CA).
func TestRemoteEndorserOverMutualTLS(t *testing.T) {
	l, _, port := listen(t)
	n := et.NewNetwork(t, et.Options{Anchors: map[string][]channelconfig.AnchorPeer{"Org2MSP": {{Host: "127.0.0.1", Port: port}}}})
	srvCert, srvKey := tlsPair(t, n.Org2.TLSCA, "peer0.org2")
	srvTLS, err := comm.ServerTLSConfig(srvCert, srvKey, [][]byte{n.Org1.TLSCA.PEM}, true)
	if err != nil {
		t.Fatal(err)
	}
	ch2 := et.NewChannel(n.Bundle)
	et.DefineChaincode(ch2.State, endorser.Definition{Name: "basic", Version: "1", Sequence: 1}, map[string]string{"Org2MSP": "basic:1"})
	ch2.State.Put("basic", "k", []byte("from org2"))
	remote := &countingEndorser{e: &endorser.Endorser{Channels: et.Channels{et.ChannelID: ch2}, LocalMSP: n.Org2.LocalMSP, Signer: n.Org2.Peer,
		Lifecycle: et.Lifecycle{}, Executor: et.ExecFunc(et.KVChaincode)}}
	srv := comm.NewGRPCServer(srvTLS, comm.ServerOptions{})
	peer.RegisterEndorserServer(srv, remote)
	go srv.Serve(l)
	defer srv.Stop()

	newGW := func(clientCA *msptest.CA) *gateway.Gateway {
		cert, key := tlsPair(t, clientCA, "peer0.org1")
		gw, err := gateway.New(gateway.Options{LocalMSPID: "Org1MSP", Local: &endorser.Endorser{}, TLS: true, ClientCert: cert, ClientKey: key,
			Channels: channels{et.ChannelID: &channel{bundle: n.Bundle, ledger: newLedger()}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(gw.Close)
		return gw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sp, _, err := endorser.NewSignedProposal(n.Org1.Client, endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newGW(n.Org1.TLSCA).Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp, TargetOrganizations: []string{"Org2MSP"}})
	if err != nil || string(resp.Result.Payload) != "from org2" {
		t.Fatalf("%v %v", resp, err)
	}
	// A client certificate the anchor peer does not trust is refused.
	_, err = newGW(mustCA(t)).Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp, TargetOrganizations: []string{"Org2MSP"}})
	ds := wantStatus(t, err, codes.Aborted, "failed to evaluate transaction")
	if len(ds) != 1 || ds[0].MspId != "Org2MSP" {
		t.Fatalf("details %v", ds)
	}
	if remote.n() != 1 {
		t.Fatalf("remote calls %d", remote.n())
	}
}

func mustCA(t *testing.T) *msptest.CA {
	ca, err := msptest.NewRootCA("rogue")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
