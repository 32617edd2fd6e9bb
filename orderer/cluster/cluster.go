package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/fabcrypto"
	"weft/wire/common"
	"weft/wire/orderer"
)

var (
	// ErrUnknownChannel: the channel is not configured or has no handler.
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrNotMember: the node is not a member of the channel's cluster.
	ErrNotMember = errors.New("not a member of the channel")
)

// Defaults for the zero fields of Config.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultQueueSize   = 100
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
)

// Member is one consenter of a channel.
type Member struct {
	ID       uint64
	Endpoint string // host:port of its cluster gRPC server
	// PEM certificates: the one its server presents, and the one it
	// presents as a client (which identifies it on inbound streams).
	ServerTLSCert, ClientTLSCert []byte
}

// Handler receives a channel's traffic.
type Handler interface {
	Step(ctx context.Context, from uint64, msg *raftpb.Message) error
	// Submit orders env on behalf of member from (this node is supposed to
	// be the leader) and returns once it is committed.
	Submit(ctx context.Context, from uint64, env *common.Envelope) error
}

// Config configures a Comm.
type Config struct {
	// ClientCertPEM/ClientKeyPEM are presented on outbound connections.
	ClientCertPEM, ClientKeyPEM []byte
	Logger                      *slog.Logger
	DialTimeout                 time.Duration
	// QueueSize bounds the consensus messages waiting per remote member.
	QueueSize int
	// MinBackoff/MaxBackoff bound the wait before reopening a broken link.
	MinBackoff, MaxBackoff time.Duration
}

// Comm is the cluster transport of one orderer, shared by its channels.
type Comm struct {
	cfg Config
	log *slog.Logger

	mu       sync.RWMutex
	channels map[string]*channelState
	handlers map[string]Handler
	closed   bool
}

// channelState is the membership of one channel as last configured.
type channelState struct {
	self         uint64
	members      map[uint64]*member
	byClientCert map[string]uint64 // client cert DER -> member ID
	remotes      map[uint64]*remote
}

type member struct {
	Member
	serverDER, clientDER []byte
}

// New returns a Comm. Register Server() on the orderer's gRPC server for
// inbound traffic.
func New(cfg Config) *Comm {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Comm{
		cfg:      cfg,
		log:      log,
		channels: map[string]*channelState{},
		handlers: map[string]Handler{},
	}
}

// Configure replaces the membership of channel; self is this node's ID.
// Links to members that left, or whose endpoint or certificates changed,
// are closed. A member whose certificates do not parse is left out and
// logged: it can neither be reached nor authenticated.
func (c *Comm) Configure(channel string, self uint64, members []Member) {
	next := &channelState{
		self:         self,
		members:      map[uint64]*member{},
		byClientCert: map[string]uint64{},
		remotes:      map[uint64]*remote{},
	}
	for _, m := range members {
		pm, err := parseMember(m)
		if err != nil {
			c.log.Error("cluster: ignoring consenter", "channel", channel, "id", m.ID, "err", err)
			continue
		}
		if _, dup := next.members[m.ID]; dup {
			c.log.Error("cluster: ignoring duplicate consenter ID", "channel", channel, "id", m.ID)
			continue
		}
		next.members[m.ID] = pm
		next.byClientCert[string(pm.clientDER)] = m.ID
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	prev := c.channels[channel]
	for id, pm := range next.members {
		if id == self {
			continue
		}
		if prev != nil {
			if r, ok := prev.remotes[id]; ok && r.member.same(pm) {
				next.remotes[id] = r
				delete(prev.remotes, id)
				continue
			}
		}
		r, err := c.newRemote(channel, pm)
		if err != nil {
			c.log.Error("cluster: cannot set up link", "channel", channel, "id", id, "err", err)
			continue
		}
		next.remotes[id] = r
	}
	if prev != nil {
		for _, r := range prev.remotes {
			r.stop()
		}
	}
	c.channels[channel] = next
}

func parseMember(m Member) (*member, error) {
	if m.ID == 0 {
		return nil, errors.New("ID: 0 is not a valid raft ID")
	}
	if m.Endpoint == "" {
		return nil, errors.New("Endpoint: empty")
	}
	server, err := fabcrypto.ParseCertPEM(m.ServerTLSCert)
	if err != nil {
		return nil, fmt.Errorf("ServerTLSCert: %w", err)
	}
	client, err := fabcrypto.ParseCertPEM(m.ClientTLSCert)
	if err != nil {
		return nil, fmt.Errorf("ClientTLSCert: %w", err)
	}
	return &member{Member: m, serverDER: server.Raw, clientDER: client.Raw}, nil
}

func (m *member) same(o *member) bool {
	return m.ID == o.ID && m.Endpoint == o.Endpoint &&
		string(m.serverDER) == string(o.serverDER) && string(m.clientDER) == string(o.clientDER)
}

// Register sets the handler of channel's inbound traffic. Requests for a
// channel without handler are rejected as unknown.
func (c *Comm) Register(channel string, h Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers[channel] = h
}

// Unregister removes channel entirely: its handler, membership and links.
func (c *Comm) Unregister(channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.handlers, channel)
	if ch := c.channels[channel]; ch != nil {
		for _, r := range ch.remotes {
			r.stop()
		}
		delete(c.channels, channel)
	}
}

// Send queues msgs for their destinations (msg.To) and never blocks.
// Messages for this node, for unknown members or channels, or beyond a full
// queue are dropped: raft recovers from lost messages by itself.
func (c *Comm) Send(channel string, msgs []*raftpb.Message) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ch := c.channels[channel]
	for _, m := range msgs {
		if m == nil {
			continue
		}
		var r *remote
		if ch != nil {
			r = ch.remotes[m.GetTo()]
		}
		if r == nil {
			c.log.Debug("cluster: dropping message for unknown destination",
				"channel", channel, "to", m.GetTo(), "type", m.GetType().String())
			continue
		}
		r.enqueue(m)
	}
}

// Close stops all links and waits for their goroutines. Inbound streams are
// ended by stopping the gRPC server.
func (c *Comm) Close() {
	c.mu.Lock()
	c.closed = true
	var all []*remote
	for name, ch := range c.channels {
		for _, r := range ch.remotes {
			r.stop()
			all = append(all, r)
		}
		delete(c.channels, name)
	}
	c.mu.Unlock()
	for _, r := range all {
		<-r.done
	}
}

// Server returns the gRPC service to register on the orderer's server.
func (c *Comm) Server() orderer.ClusterServer {
	return &server{comm: c}
}

// lookup returns the link to member to of channel.
func (c *Comm) lookup(channel string, to uint64) (*remote, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ch := c.channels[channel]
	if ch == nil {
		return nil, fmt.Errorf("channel %q: %w", channel, ErrUnknownChannel)
	}
	r := ch.remotes[to]
	if r == nil {
		return nil, fmt.Errorf("channel %q: node %d: %w", channel, to, ErrNotMember)
	}
	return r, nil
}
