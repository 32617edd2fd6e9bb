package membership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/comm"
	wm "weft/wire/weft/membership"
)

// Defaults, as Fabric's peer.gossip.aliveTimeInterval; a peer is
// considered gone after three missed statements.
const (
	DefaultInterval = 5 * time.Second
	expiryIntervals = 3
	// retentionIntervals bounds how long expired entries guard against
	// replays and how far a statement's clock may be off.
	minRetention = time.Hour
	// maxRequestInfos bounds the statements of one request: one per
	// channel of the caller.
	maxRequestInfos = 1000
)

// Signer signs this peer's statements.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
	Serialize() []byte
}

// Channels is the peer's view of its joined channels.
type Channels interface {
	// Joined lists the channels the peer joined.
	Joined() []string
	// Bundle is the current config of a joined channel.
	Bundle(channel string) (*channelconfig.Bundle, bool)
	// Height is the ledger height of a joined channel.
	Height(channel string) uint64
}

// DialFunc connects to a peer at address, trusting tlsRoots (PEM) and
// presenting this peer's TLS client certificate.
type DialFunc func(ctx context.Context, address string, tlsRoots [][]byte) (grpc.ClientConnInterface, error)

// Options configure a Service.
type Options struct {
	// Endpoint is where other peers reach this peer (host:port).
	Endpoint string
	Signer   Signer
	Channels Channels
	// Chaincodes, when set, names the chaincodes this peer can run on a
	// channel, published with its statements.
	Chaincodes func(channel string) []string
	// Bootstrap peers of this peer's own org are contacted for every
	// channel, trusting BootstrapTLSRoots.
	Bootstrap         []string
	BootstrapTLSRoots [][]byte
	Dial              DialFunc
	// Interval between statements; Expiration (default three intervals)
	// after which a peer without a newer statement is no longer live.
	Interval, Expiration time.Duration
	Logger               *slog.Logger
	// Now replaces the clock (tests).
	Now func() time.Time
}

// Service serves weft.membership.Membership, keeps the member table and
// refreshes it periodically.
type Service struct {
	wm.UnimplementedMembershipServer
	opts  Options
	log   *slog.Logger
	table *Table

	incarnation uint64

	mu  sync.Mutex
	seq uint64
	own map[string]ownInfo

	connMu sync.Mutex
	conns  map[string]grpc.ClientConnInterface

	started  atomic.Bool
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

type ownInfo struct {
	signed *wm.SignedMemberInfo
	made   time.Time
}

// New checks opts and returns a Service; Start begins refreshing.
func New(opts Options) (*Service, error) {
	switch {
	case opts.Signer == nil:
		return nil, errors.New("membership: Signer is nil")
	case opts.Channels == nil:
		return nil, errors.New("membership: Channels is nil")
	case opts.Dial == nil:
		return nil, errors.New("membership: Dial is nil")
	}
	if err := checkEndpoint(opts.Endpoint); err != nil {
		return nil, fmt.Errorf("membership: Endpoint: %w", err)
	}
	for i, b := range opts.Bootstrap {
		if err := checkEndpoint(b); err != nil {
			return nil, fmt.Errorf("membership: Bootstrap[%d]: %w", i, err)
		}
	}
	if opts.Interval < 0 || opts.Expiration < 0 {
		return nil, errors.New("membership: Interval and Expiration must not be negative")
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Expiration == 0 {
		opts.Expiration = expiryIntervals * opts.Interval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{
		opts: opts, log: opts.Logger,
		table:       NewTable(opts.Expiration, max(minRetention, 10*opts.Expiration), opts.Now),
		incarnation: uint64(opts.Now().UnixNano()),
		own:         map[string]ownInfo{},
		conns:       map[string]grpc.ClientConnInterface{},
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Members lists the live peers of a channel other than this one.
func (s *Service) Members(channel string) []Member { return s.table.Members(channel) }

// Table is the service's member table.
func (s *Service) Table() *Table { return s.table }

// ownInfo returns this peer's statement for channel, made anew when the
// last one is older than an interval (or fresh is set).
func (s *Service) ownInfo(channel string, fresh bool) (*wm.SignedMemberInfo, error) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.own[channel]; ok && !fresh && now.Sub(o.made) < s.opts.Interval {
		return o.signed, nil
	}
	s.seq++
	info := &wm.MemberInfo{
		Endpoint: s.opts.Endpoint, Identity: s.opts.Signer.Serialize(), Channel: channel,
		LedgerHeight: s.opts.Channels.Height(channel),
		Incarnation:  s.incarnation, Sequence: s.seq, Timestamp: now.UnixNano(),
	}
	if s.opts.Chaincodes != nil {
		info.Chaincodes = s.opts.Chaincodes(channel)
	}
	raw, err := proto.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("member info of channel %q: %w", channel, err)
	}
	sig, err := s.opts.Signer.Sign(raw)
	if err != nil {
		return nil, fmt.Errorf("sign member info of channel %q: %w", channel, err)
	}
	signed := &wm.SignedMemberInfo{Info: raw, Signature: sig}
	s.own[channel] = ownInfo{signed: signed, made: now}
	return signed, nil
}

// store keeps a verified statement unless it is this peer's own; a stale
// one is dropped silently (it is often a relayed copy of one already held).
func (s *Service) store(v *verified) error {
	if bytes.Equal(v.info.GetIdentity(), s.opts.Signer.Serialize()) {
		return nil
	}
	if err := s.table.put(v); err != nil && !errors.Is(err, ErrStale) {
		return err
	}
	return nil
}

// Exchange implements weft.membership.Membership: it accepts the caller's
// statements for the channels this peer joined and answers, for each of
// them, with the live statements it knows, its own first.
func (s *Service) Exchange(ctx context.Context, req *wm.ExchangeRequest) (*wm.ExchangeResponse, error) {
	infos := req.GetInfos()
	switch {
	case len(infos) == 0:
		return nil, status.Error(codes.InvalidArgument, "infos: empty")
	case len(infos) > maxRequestInfos:
		return nil, status.Errorf(codes.InvalidArgument, "infos: %d, more than %d", len(infos), maxRequestInfos)
	}
	cert, ok := comm.ClientCertificate(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "a TLS client certificate is required")
	}
	var caller []byte
	var channels []string
	var accepted []*verified
	for i, signed := range infos {
		ch, err := peekChannel(signed)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "infos[%d]: %v", i, err)
		}
		b, ok := s.opts.Channels.Bundle(ch)
		if !ok {
			continue // not a channel of this peer: nothing to share
		}
		v, err := verifyInfo(b, signed, s.opts.Now(), s.table.retention)
		if err != nil {
			return nil, status.Errorf(codes.PermissionDenied, "infos[%d]: %v", i, err)
		}
		if caller == nil {
			caller = v.info.GetIdentity()
		} else if !bytes.Equal(caller, v.info.GetIdentity()) {
			return nil, status.Errorf(codes.PermissionDenied, "infos[%d]: signed by another identity than infos[0]", i)
		}
		if err := checkTLSOrg(b, v.id.MSPID, cert, s.opts.Now()); err != nil {
			return nil, status.Errorf(codes.PermissionDenied, "infos[%d]: %v", i, err)
		}
		if slices.Contains(channels, ch) {
			return nil, status.Errorf(codes.InvalidArgument, "infos[%d]: second statement about channel %q", i, ch)
		}
		accepted = append(accepted, v)
		channels = append(channels, ch)
	}
	// Nothing is stored unless the whole request is acceptable.
	for i, v := range accepted {
		if err := s.store(v); err != nil {
			return nil, status.Errorf(codes.Internal, "infos[%d]: %v", i, err)
		}
	}
	resp := &wm.ExchangeResponse{}
	for _, ch := range channels {
		own, err := s.ownInfo(ch, false)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		resp.Members = append(resp.Members, own)
		for _, v := range s.table.live(ch) {
			if !bytes.Equal(v.info.GetIdentity(), caller) {
				resp.Members = append(resp.Members, v.signed)
			}
		}
	}
	return resp, nil
}
