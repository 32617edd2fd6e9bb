package cluster

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"

	"weft/comm"
	"weft/fabcrypto"
	"weft/wire/common"
	"weft/wire/orderer"
)

type pemPair struct{ cert, key []byte }

type testCA struct {
	ca  *fabcrypto.CA
	pem []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "tlsca.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca: ca, pem: fabcrypto.EncodeCertPEM(ca.Cert)}
}

func (c *testCA) issue(t *testing.T, cn string) pemPair {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.ca.Issue(fabcrypto.CertSpec{
		CommonName:  cn,
		SANs:        []string{cn}, // deliberately not 127.0.0.1: links pin certs
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &key.PublicKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := fabcrypto.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemPair{cert: fabcrypto.EncodeCertPEM(cert), key: keyPEM}
}

// node is one orderer's cluster endpoint on a loopback port.
type node struct {
	id             uint64
	addr           string
	server, client pemPair
	ca             *testCA
	comm           *Comm

	mu  sync.Mutex
	srv *grpc.Server
}

func newNode(t *testing.T, ca *testCA, id uint64, cfg Config) *node {
	t.Helper()
	n := &node{id: id, ca: ca}
	n.server = ca.issue(t, "orderer"+string(rune('0'+id))+".example.com")
	n.client = ca.issue(t, "client"+string(rune('0'+id))+".example.com")
	cfg.ClientCertPEM, cfg.ClientKeyPEM = n.client.cert, n.client.key
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	if cfg.Logger == nil && os.Getenv("WEFT_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n.comm = New(cfg)
	n.start(t, "127.0.0.1:0")
	t.Cleanup(func() {
		n.stop()
		n.comm.Close()
	})
	return n
}

// start serves n.comm on addr, retrying while a previous listener's port
// is being released.
func (n *node) start(t *testing.T, addr string) {
	t.Helper()
	var lis net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tlsConf, err := comm.ServerTLSConfig(n.server.cert, n.server.key, [][]byte{n.ca.pem}, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := comm.NewGRPCServer(tlsConf, comm.ServerOptions{})
	orderer.RegisterClusterServer(srv, n.comm.Server())
	go srv.Serve(lis)
	n.mu.Lock()
	n.addr, n.srv = lis.Addr().String(), srv
	n.mu.Unlock()
}

func (n *node) stop() {
	n.mu.Lock()
	srv := n.srv
	n.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

func (n *node) member() Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Member{ID: n.id, Endpoint: n.addr, ServerTLSCert: n.server.cert, ClientTLSCert: n.client.cert}
}

func members(nodes ...*node) []Member {
	var ms []Member
	for _, n := range nodes {
		ms = append(ms, n.member())
	}
	return ms
}

type stepped struct {
	from uint64
	msg  *raftpb.Message
}

type submitted struct {
	from uint64
	env  *common.Envelope
}

// handler records what it receives; block, when set, holds Step until it
// is closed.
type handler struct {
	steps     chan stepped
	submits   chan submitted
	submitErr error
	block     chan struct{}
}

func newHandler() *handler {
	return &handler{steps: make(chan stepped, 10000), submits: make(chan submitted, 100)}
}

func (h *handler) Step(ctx context.Context, from uint64, msg *raftpb.Message) error {
	if h.block != nil {
		select {
		case <-h.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h.steps <- stepped{from, msg}
	return nil
}

func (h *handler) Submit(_ context.Context, from uint64, env *common.Envelope) error {
	h.submits <- submitted{from, env}
	return h.submitErr
}

// expectStep waits for the next message delivered to h.
func (h *handler) expectStep(t *testing.T) stepped {
	t.Helper()
	select {
	case s := <-h.steps:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no raft message delivered")
		return stepped{}
	}
}

// expectNone checks that nothing reaches h for a while.
func (h *handler) expectNone(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-h.steps:
		t.Fatalf("unexpected delivery from %d: %v", s.from, s.msg)
	case <-time.After(d):
	}
}

func msg(from, to, term uint64) *raftpb.Message {
	mt := raftpb.MessageType_MsgHeartbeat
	return &raftpb.Message{Type: &mt, From: &from, To: &to, Term: &term}
}
