package participation

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp/msptest"
	"weft/wire/common"
)

// pki is one CA plus the TLS certificates issued from it.
type pki struct {
	ca *fabcrypto.CA
}

func newPKI(t *testing.T, cn string) *pki {
	t.Helper()
	ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: cn, Organization: "example.com"}})
	if err != nil {
		t.Fatalf("root CA %q: %v", cn, err)
	}
	return &pki{ca: ca}
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	return pool
}

func (p *pki) certPEM() []byte { return fabcrypto.EncodeCertPEM(p.ca.Cert) }

// keyPair issues a leaf for cn usable as TLS server and client certificate.
func (p *pki) keyPair(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p.ca.Issue(fabcrypto.CertSpec{
		CommonName:  cn,
		SANs:        []string{"127.0.0.1", "localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &key.PublicKey,
	})
	if err != nil {
		t.Fatalf("issue %q: %v", cn, err)
	}
	return tlsPair(t, cert, key)
}

func tlsPair(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	keyPEM, err := fabcrypto.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// fakeRegistrar keeps joined channels in memory; the err fields force the
// corresponding calls to fail.
type fakeRegistrar struct {
	mu        sync.Mutex
	channels  map[string]ChannelInfo
	joinErr   error
	removeErr error
	joined    []*common.Block
}

func newFakeRegistrar() *fakeRegistrar {
	return &fakeRegistrar{channels: map[string]ChannelInfo{}}
}

func (f *fakeRegistrar) Join(block *common.Block) (ChannelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.joinErr != nil {
		return ChannelInfo{}, f.joinErr
	}
	_, channel, err := channelconfig.ConfigFromBlock(block)
	if err != nil {
		return ChannelInfo{}, fmt.Errorf("%w: %v", ErrBadBlock, err)
	}
	if _, ok := f.channels[channel]; ok {
		return ChannelInfo{}, fmt.Errorf("channel %q: %w", channel, ErrChannelExists)
	}
	info := ChannelInfo{Name: channel, ConsensusRelation: RelationConsenter, Status: StatusActive, Height: block.GetHeader().GetNumber() + 1}
	f.channels[channel] = info
	f.joined = append(f.joined, block)
	return info, nil
}

func (f *fakeRegistrar) Remove(channel string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeErr != nil {
		return f.removeErr
	}
	if _, ok := f.channels[channel]; !ok {
		return fmt.Errorf("channel %q: %w", channel, ErrChannelNotExist)
	}
	delete(f.channels, channel)
	return nil
}

func (f *fakeRegistrar) List() []ChannelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ChannelInfo
	for _, info := range f.channels {
		out = append(out, info)
	}
	return out
}

func (f *fakeRegistrar) Info(channel string) (ChannelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.channels[channel]
	if !ok {
		return ChannelInfo{}, fmt.Errorf("channel %q: %w", channel, ErrChannelNotExist)
	}
	return info, nil
}

// genesisBlock builds a valid single-org application channel genesis block.
func genesisBlock(t *testing.T, channel string, withApplication bool) *common.Block {
	t.Helper()
	ordOrg, err := msptest.NewOrg("OrdererMSP", false)
	if err != nil {
		t.Fatal(err)
	}
	ordMSP, err := ordOrg.Config()
	if err != nil {
		t.Fatal(err)
	}
	appOrg, err := msptest.NewOrg("Org1MSP", false)
	if err != nil {
		t.Fatal(err)
	}
	appMSP, err := appOrg.Config()
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := newPKI(t, "tlsca").certPEM()
	profile := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType:  channelconfig.OrdererTypeEtcdRaft,
			BatchTimeout: 2 * time.Second,
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: tlsPEM, ServerTLSCert: tlsPEM}},
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: ordMSP,
				Policies:         channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"),
				OrdererEndpoints: []string{"orderer0.example.com:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
	}
	if withApplication {
		profile.Application = &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{{Name: "Org1MSP", ID: "Org1MSP", MSP: appMSP, Policies: channelconfig.DefaultOrgPolicies("Org1MSP")}},
			Policies:      channelconfig.DefaultApplicationPolicies(),
			Capabilities:  channelconfig.DefaultApplicationCapabilities(),
		}
	}
	group, err := channelconfig.NewChannelGroup(profile)
	if err != nil {
		t.Fatalf("channel group: %v", err)
	}
	block, err := channelconfig.GenesisBlock(channel, group)
	if err != nil {
		t.Fatalf("genesis block: %v", err)
	}
	return block
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testEnv is a participation handler behind a real mutual-TLS server.
type testEnv struct {
	srv      *httptest.Server
	reg      *fakeRegistrar
	handler  *Handler
	serverCA *pki
	clientCA *pki
	admin    *http.Client // presents CN "admin" from clientCA
}

func newTestEnv(t *testing.T, clientAuth tls.ClientAuthType) *testEnv {
	t.Helper()
	env := &testEnv{reg: newFakeRegistrar(), serverCA: newPKI(t, "server-ca"), clientCA: newPKI(t, "client-ca")}
	env.handler = &Handler{Registrar: env.reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.srv = httptest.NewUnstartedServer(env.handler)
	// Handshake failures are expected in the auth tests; keep them quiet.
	env.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	env.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{env.serverCA.keyPair(t, "orderer0.example.com")},
		ClientAuth:   clientAuth,
		ClientCAs:    env.clientCA.pool(),
		MinVersion:   tls.VersionTLS12,
	}
	env.srv.StartTLS()
	t.Cleanup(env.srv.Close)
	env.admin = env.client(env.clientCA.keyPair(t, "admin"))
	return env
}

// client returns an HTTP client trusting the server CA and presenting certs
// (none when certs is empty). Redirects are not followed so 302 is visible.
func (e *testEnv) client(certs ...tls.Certificate) *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.serverCA.pool(), Certificates: certs}},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 10 * time.Second,
	}
}
