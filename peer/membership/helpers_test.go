package membership

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp/msptest"
	et "weft/peer/endorser/endorsertest"
	wm "weft/wire/weft/membership"
)

// clock is a settable time source shared by every service of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeChannels is a peer's set of joined channels.
type fakeChannels struct {
	bundles map[string]*channelconfig.Bundle
	height  uint64
}

func (f *fakeChannels) Joined() []string {
	var out []string
	for id := range f.bundles {
		out = append(out, id)
	}
	return out
}

func (f *fakeChannels) Bundle(id string) (*channelconfig.Bundle, bool) {
	b, ok := f.bundles[id]
	return b, ok
}

func (f *fakeChannels) Height(string) uint64 { return f.height }

// node is one peer of a test: its identity, TLS certificate and service.
type node struct {
	signer et.Member
	tls    *x509.Certificate
	svc    *Service
	down   bool
}

// mesh routes Exchange calls between nodes in process, as if over mutual
// TLS: the callee sees the caller's TLS certificate.
type mesh struct {
	mu    sync.Mutex
	nodes map[string]*node
}

func newMesh() *mesh { return &mesh{nodes: map[string]*node{}} }

func tlsContext(ctx context.Context, cert *x509.Certificate) context.Context {
	if cert == nil {
		return ctx
	}
	return grpcpeer.NewContext(ctx, &grpcpeer.Peer{AuthInfo: credentials.TLSInfo{
		State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}},
	}})
}

// conn is a grpc.ClientConnInterface from caller to the node at address.
type conn struct {
	m       *mesh
	address string
	caller  *x509.Certificate
}

func (c conn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	c.m.mu.Lock()
	n, ok := c.m.nodes[c.address]
	c.m.mu.Unlock()
	if !ok || n.down {
		return status.Errorf(codes.Unavailable, "%s is down", c.address)
	}
	resp, err := n.svc.Exchange(tlsContext(ctx, c.caller), args.(*wm.ExchangeRequest))
	if err != nil {
		return err
	}
	proto.Merge(reply.(proto.Message), resp)
	return nil
}

func (conn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "no streams")
}

// add starts a node at address; its dial reaches the other nodes.
func (m *mesh) add(t *testing.T, address string, org *et.Org, cn string, chs *fakeChannels, clk *clock) *node {
	t.Helper()
	peer, err := org.Role(cn, msptest.OUPeer)
	if err != nil {
		t.Fatal(err)
	}
	tlsCert, _, err := org.TLSCA.Issue(msptest.CertOpts{CN: cn})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{signer: et.Member{Member: peer}, tls: tlsCert}
	n.svc, err = New(Options{
		Endpoint: address, Signer: n.signer, Channels: chs, Now: clk.Now, Interval: time.Second,
		Dial: func(_ context.Context, addr string, _ [][]byte) (grpc.ClientConnInterface, error) {
			return conn{m: m, address: addr, caller: tlsCert}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.nodes[address] = n
	m.mu.Unlock()
	return n
}

func (m *mesh) setDown(address string, down bool) {
	m.mu.Lock()
	m.nodes[address].down = down
	m.mu.Unlock()
}

// sign makes a statement of signer about channel.
func sign(t *testing.T, signer interface {
	Sign([]byte) ([]byte, error)
	Serialize() []byte
}, info *wm.MemberInfo) *wm.SignedMemberInfo {
	t.Helper()
	if info.Identity == nil {
		info.Identity = signer.Serialize()
	}
	raw, err := proto.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &wm.SignedMemberInfo{Info: raw, Signature: sig}
}

func endpoints(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Endpoint)
	}
	return out
}
