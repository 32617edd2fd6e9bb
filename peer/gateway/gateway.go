package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/policy"
	gp "weft/wire/gateway"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// Default timeouts, Fabric's peer.gateway defaults.
const (
	DefaultEndorsementTimeout = 30 * time.Second
	DefaultBroadcastTimeout   = 30 * time.Second
	// DefaultDialTimeout is shorter than Fabric's peer.gateway.dialTimeout
	// (2m): weft dials endorsers on demand, and a peer that is down must
	// leave time to try another peer of its org within the endorsement
	// timeout.
	DefaultDialTimeout = 5 * time.Second
	// DefaultMaxHeightLag is how many blocks a live peer may be behind the
	// highest known ledger height of a channel and still be asked first.
	DefaultMaxHeightLag = 10
)

// Endorser processes proposals: the local endorser, or a remote peer.
type Endorser interface {
	ProcessProposal(ctx context.Context, sp *peer.SignedProposal) (*peer.ProposalResponse, error)
}

// PolicyChecker tells whether endorsements satisfy the endorsement policy of
// a namespace as of the committed state (lifecycle.PolicyChecker).
type PolicyChecker interface {
	CheckEndorsement(ns string, writes *kvrwset.KVRWSet, signedData []policy.SignedData) error
}

// Channel is the gateway's view of a joined channel.
type Channel interface {
	Bundle() *channelconfig.Bundle
	// Ledger yields committed blocks (with their TRANSACTIONS_FILTER).
	Ledger() deliver.Ledger
	// WaitForTx returns the validation code and block number of txID once
	// it is committed, at once if it already is.
	WaitForTx(ctx context.Context, txID string) (peer.TxValidationCode, uint64, error)
	// Policies checks endorsement policies against the current state.
	Policies() PolicyChecker
}

// ChannelSource finds joined channels.
type ChannelSource interface {
	Channel(id string) (Channel, bool)
}

// DialFunc connects to a peer or orderer at address, trusting tlsRoots (PEM).
type DialFunc func(ctx context.Context, address string, tlsRoots [][]byte) (grpc.ClientConnInterface, error)

// Options configure a Gateway.
type Options struct {
	// LocalMSPID is this peer's organisation.
	LocalMSPID string
	// LocalAddress names this peer in error details.
	LocalAddress string
	// Local is this peer's endorser, called in-process.
	Local    Endorser
	Channels ChannelSource
	// TLS enables TLS towards other peers and orderers; ClientCert and
	// ClientKey (PEM) are presented as this peer's client certificate.
	TLS                   bool
	ClientCert, ClientKey []byte
	// Dial overrides how connections are made (tests).
	Dial               DialFunc
	EndorsementTimeout time.Duration
	BroadcastTimeout   time.Duration
	DialTimeout        time.Duration
	// Membership lists peers learnt at run time; without it only the
	// anchor peers of the channel config are known.
	Membership Membership
	// MaxHeightLag: live peers further behind are not asked (anchor peers
	// still are, last). Zero means DefaultMaxHeightLag.
	MaxHeightLag uint64
	Logger       *slog.Logger
}

// Membership reports the live peers of a channel other than this one.
type Membership interface {
	Members(channel string) []Member
}

// Member is a live peer of a channel.
type Member struct {
	MSPID   string
	Address string
	// Height is the ledger height the peer last reported.
	Height uint64
}

// Gateway serves gateway.Gateway.
type Gateway struct {
	gp.UnimplementedGatewayServer
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	conns map[string]grpc.ClientConnInterface
}

// New checks opts and returns a Gateway.
func New(opts Options) (*Gateway, error) {
	switch {
	case opts.LocalMSPID == "":
		return nil, errors.New("gateway: LocalMSPID is empty")
	case opts.Local == nil:
		return nil, errors.New("gateway: Local endorser is nil")
	case opts.Channels == nil:
		return nil, errors.New("gateway: Channels is nil")
	}
	if opts.EndorsementTimeout <= 0 {
		opts.EndorsementTimeout = DefaultEndorsementTimeout
	}
	if opts.BroadcastTimeout <= 0 {
		opts.BroadcastTimeout = DefaultBroadcastTimeout
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.MaxHeightLag == 0 {
		opts.MaxHeightLag = DefaultMaxHeightLag
	}
	if opts.LocalAddress == "" {
		opts.LocalAddress = "local"
	}
	g := &Gateway{opts: opts, log: opts.Logger, conns: map[string]grpc.ClientConnInterface{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.opts.Dial == nil {
		g.opts.Dial = g.dialTLS
	}
	return g, nil
}

// Close closes the connections the gateway opened.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for addr, c := range g.conns {
		if cl, ok := c.(io.Closer); ok {
			cl.Close()
		}
		delete(g.conns, addr)
	}
}

func (g *Gateway) dialTLS(ctx context.Context, address string, roots [][]byte) (grpc.ClientConnInterface, error) {
	if !g.opts.TLS {
		return comm.Dial(ctx, address, nil)
	}
	conf, err := comm.ClientTLSConfig(g.opts.ClientCert, g.opts.ClientKey, roots, "")
	if err != nil {
		return nil, fmt.Errorf("tls config for %s: %w", address, err)
	}
	return comm.Dial(ctx, address, conf)
}

// conn returns a cached connection to address, dialling on first use.
func (g *Gateway) conn(ctx context.Context, address string, roots [][]byte) (grpc.ClientConnInterface, error) {
	key := address + "|" + rootsKey(roots)
	g.mu.Lock()
	c, ok := g.conns[key]
	g.mu.Unlock()
	if ok {
		return c, nil
	}
	dctx, cancel := context.WithTimeout(ctx, g.opts.DialTimeout)
	defer cancel()
	c, err := g.opts.Dial(dctx, address, roots)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if existing, ok := g.conns[key]; ok {
		// Lost a race with another caller; keep one connection.
		if cl, ok := c.(io.Closer); ok {
			cl.Close()
		}
		return existing, nil
	}
	g.conns[key] = c
	return c, nil
}

func rootsKey(roots [][]byte) string {
	var b strings.Builder
	for _, r := range roots {
		b.Write(r)
	}
	return b.String()
}

// channel looks up a joined channel.
func (g *Gateway) channel(id string) (Channel, bool) {
	if id == "" {
		return nil, false
	}
	return g.opts.Channels.Channel(id)
}

// remoteEndorser calls ProcessProposal over a connection.
type remoteEndorser struct{ client peer.EndorserClient }

func (r remoteEndorser) ProcessProposal(ctx context.Context, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	return r.client.ProcessProposal(ctx, sp)
}

// target is one endorsing peer.
type target struct {
	mspID   string
	address string
	local   bool
	roots   [][]byte
}

func (g *Gateway) localTarget() target {
	return target{mspID: g.opts.LocalMSPID, address: g.opts.LocalAddress, local: true}
}

// tlsRoots are the TLS root and intermediate certificates of an org's MSP.
func tlsRoots(b *channelconfig.Bundle, mspID string) [][]byte {
	mg := b.MSPManager()
	if mg == nil {
		return nil
	}
	m, ok := mg.MSP(mspID)
	if !ok {
		return nil
	}
	return append(append([][]byte{}, m.TLSRootCerts()...), m.TLSIntermediateCerts()...)
}

// endorser returns the Endorser for t.
func (g *Gateway) endorser(ctx context.Context, t target) (Endorser, error) {
	if t.local {
		return g.opts.Local, nil
	}
	c, err := g.conn(ctx, t.address, t.roots)
	if err != nil {
		return nil, err
	}
	return remoteEndorser{peer.NewEndorserClient(c)}, nil
}

// call runs ProcessProposal on t within the per-endorser timeout.
func (g *Gateway) call(ctx context.Context, t target, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	e, err := g.endorser(ctx, t)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, g.opts.EndorsementTimeout)
	defer cancel()
	return e.ProcessProposal(cctx, sp)
}
