package membership

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"weft/channelconfig"
	wm "weft/wire/weft/membership"
)

// Start refreshes the table every interval until Stop.
func (s *Service) Start() {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	// Stop cancels a round in progress rather than wait for its dials.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.stop
		cancel()
	}()
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.opts.Interval)
		defer t.Stop()
		for {
			s.Refresh(ctx)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the refresh loop (if started) and closes connections.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		close(s.stop)
		if s.started.Load() {
			select {
			case <-s.done:
			case <-time.After(2 * s.opts.Interval):
			}
		}
		s.connMu.Lock()
		defer s.connMu.Unlock()
		for k, c := range s.conns {
			if cl, ok := c.(io.Closer); ok {
				cl.Close()
			}
			delete(s.conns, k)
		}
	})
}

// contact is one peer to exchange with: the channels to share with it and
// the TLS roots its certificate must chain to.
type contact struct {
	address  string
	channels map[string]bool
	roots    [][]byte
}

// contacts lists whom to ask: the anchor peers of every joined channel,
// the live members already known (for the channels they are members of)
// and the bootstrap peers (for every channel, being of this org).
func (s *Service) contacts() []*contact {
	byAddr := map[string]*contact{}
	add := func(addr, ch string, roots [][]byte) {
		if addr == s.opts.Endpoint {
			return
		}
		c, ok := byAddr[addr]
		if !ok {
			c = &contact{address: addr, channels: map[string]bool{}}
			byAddr[addr] = c
		}
		c.channels[ch] = true
		for _, r := range roots {
			if !slices.ContainsFunc(c.roots, func(x []byte) bool { return string(x) == string(r) }) {
				c.roots = append(c.roots, r)
			}
		}
	}
	joined := s.opts.Channels.Joined()
	for _, ch := range joined {
		b, ok := s.opts.Channels.Bundle(ch)
		if !ok {
			continue
		}
		for _, o := range b.ApplicationOrgs() {
			roots, inters := orgTLSRoots(b, o.MSPID)
			for _, a := range o.AnchorPeers {
				add(fmt.Sprintf("%s:%d", a.GetHost(), a.GetPort()), ch, append(slices.Clone(roots), inters...))
			}
		}
		for _, v := range s.table.live(ch) {
			roots, inters := orgTLSRoots(b, v.id.MSPID)
			add(v.info.GetEndpoint(), ch, append(slices.Clone(roots), inters...))
		}
		for _, addr := range s.opts.Bootstrap {
			add(addr, ch, s.opts.BootstrapTLSRoots)
		}
	}
	out := slices.Collect(maps.Values(byAddr))
	slices.SortFunc(out, func(a, b *contact) int { return strings.Compare(a.address, b.address) })
	return out
}

// Refresh makes this peer's statements anew and exchanges them with every
// contact in parallel, each bounded by the interval.
func (s *Service) Refresh(ctx context.Context) {
	for _, ch := range s.opts.Channels.Joined() {
		if _, err := s.ownInfo(ch, true); err != nil {
			s.log.Warn("membership: cannot make own statement", "channel", ch, "err", err)
		}
	}
	var wg sync.WaitGroup
	for _, c := range s.contacts() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, s.opts.Interval)
			defer cancel()
			if err := s.exchangeWith(cctx, c); err != nil {
				s.log.Debug("membership exchange failed", "address", c.address, "err", err)
			}
		}()
	}
	wg.Wait()
}

// exchangeWith sends this peer's statements for the contact's channels and
// accepts the verified statements of those channels that come back.
func (s *Service) exchangeWith(ctx context.Context, c *contact) error {
	req := &wm.ExchangeRequest{}
	for _, ch := range slices.Sorted(maps.Keys(c.channels)) {
		own, err := s.ownInfo(ch, false)
		if err != nil {
			return err
		}
		req.Infos = append(req.Infos, own)
	}
	conn, err := s.conn(ctx, c)
	if err != nil {
		return err
	}
	resp, err := wm.NewMembershipClient(conn).Exchange(ctx, req)
	if err != nil {
		if status.Code(err) == codes.Unavailable {
			s.dropConn(c)
		}
		return fmt.Errorf("exchange with %s: %w", c.address, err)
	}
	bundles := map[string]*channelconfig.Bundle{}
	for ch := range c.channels {
		if b, ok := s.opts.Channels.Bundle(ch); ok {
			bundles[ch] = b
		}
	}
	for i, signed := range resp.GetMembers() {
		ch, err := peekChannel(signed)
		if err != nil {
			s.log.Warn("membership: bad statement from peer", "address", c.address, "index", i, "err", err)
			continue
		}
		b, ok := bundles[ch]
		if !ok {
			s.log.Warn("membership: peer answered for a channel not asked about", "address", c.address, "channel", ch)
			continue
		}
		v, err := verifyInfo(b, signed, s.opts.Now(), s.table.retention)
		if err == nil {
			err = s.store(v)
		}
		if err != nil {
			s.log.Warn("membership: statement refused", "address", c.address, "channel", ch, "err", err)
		}
	}
	return nil
}

func connKey(c *contact) string {
	var b strings.Builder
	b.WriteString(c.address)
	for _, r := range c.roots {
		b.WriteByte(0)
		b.Write(r)
	}
	return b.String()
}

func (s *Service) conn(ctx context.Context, c *contact) (grpc.ClientConnInterface, error) {
	key := connKey(c)
	s.connMu.Lock()
	conn, ok := s.conns[key]
	s.connMu.Unlock()
	if ok {
		return conn, nil
	}
	conn, err := s.opts.Dial(ctx, c.address, c.roots)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.address, err)
	}
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if existing, ok := s.conns[key]; ok {
		if cl, ok := conn.(io.Closer); ok {
			cl.Close()
		}
		return existing, nil
	}
	s.conns[key] = conn
	return conn, nil
}

func (s *Service) dropConn(c *contact) {
	key := connKey(c)
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if conn, ok := s.conns[key]; ok {
		if cl, ok := conn.(io.Closer); ok {
			cl.Close()
		}
		delete(s.conns, key)
	}
}
