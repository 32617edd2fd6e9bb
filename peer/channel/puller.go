package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"time"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/wire/common"
)

// Defaults of the Deps tuning fields.
const (
	DefaultRetryMin    = 200 * time.Millisecond
	DefaultRetryMax    = 10 * time.Second
	DefaultDialTimeout = 5 * time.Second
)

// Start launches the committer: it pulls blocks from the ordering service
// from the current height on and commits them until Stop or Close. Calling
// Start on a running channel does nothing.
func (c *Channel) Start() error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.isClosed() {
		return errors.New("start channel: closed")
	}
	if c.stop != nil {
		return nil
	}
	if c.deps.Signer == nil {
		return errors.New("start channel: deps: signer: nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.stop, c.stopped = cancel, done
	go func() {
		defer close(done)
		c.run(ctx)
	}()
	return nil
}

// Stop stops the committer and waits for it to finish the block it is
// committing.
func (c *Channel) Stop() {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.stop == nil {
		return
	}
	c.stop()
	<-c.stopped
	c.stop, c.stopped = nil, nil
}

// run tries the orderers in turn, moving on to the next one whenever a
// connection fails or delivers a bad block, and pausing between attempts
// with a backoff that resets once an orderer delivered a good block.
func (c *Channel) run(ctx context.Context) {
	next, attempt := 0, 0
	for ctx.Err() == nil {
		addrs := c.Bundle().OrdererAddresses()
		var err error
		progressed := false
		if len(addrs) == 0 {
			err = errors.New("channel config lists no orderer endpoints")
		} else {
			addr := addrs[next%len(addrs)]
			next++
			progressed, err = c.pullFrom(ctx, addr)
			if err != nil {
				err = fmt.Errorf("orderer %s: %w", addr, err)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if progressed {
			attempt = 0
		}
		c.log.Warn("block delivery interrupted", "err", err, "height", c.store.Height())
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.backoff(attempt)):
		}
		attempt++
	}
}

func (c *Channel) backoff(attempt int) time.Duration {
	lo, hi := c.deps.RetryMin, c.deps.RetryMax
	if lo <= 0 {
		lo = DefaultRetryMin
	}
	if hi <= 0 {
		hi = DefaultRetryMax
	}
	return min(lo<<min(attempt, 16), hi)
}

// pullFrom streams blocks from one orderer into the ledger until the stream
// or a block fails. progressed tells whether at least one block committed.
func (c *Channel) pullFrom(ctx context.Context, addr string) (progressed bool, err error) {
	tlsConf, err := c.ordererTLS()
	if err != nil {
		return false, err
	}
	dialTimeout := c.deps.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = DefaultDialTimeout
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := comm.Dial(dctx, addr, tlsConf)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close()
	start := c.store.Height()
	c.log.Debug("pulling blocks", "orderer", addr, "from", start)
	err = deliver.Pull(ctx, conn, c.id, c.deps.Signer, start, math.MaxUint64, c.tlsCertHash(), func(b *common.Block) error {
		if err := c.commitBlock(b); err != nil {
			return err
		}
		progressed = true
		return nil
	})
	if err == nil {
		err = errors.New("stream ended")
	}
	return progressed, err
}

// ordererTLS trusts the TLS CAs of the channel's orderer organisations and
// presents the peer's TLS certificate.
func (c *Channel) ordererTLS() (*tls.Config, error) {
	if c.deps.PlaintextOrderers {
		return nil, nil
	}
	roots := ordererTLSRoots(c.Bundle())
	if len(roots) == 0 {
		return nil, errors.New("channel config has no TLS root certificates for the orderer organisations")
	}
	return comm.ClientTLSConfig(c.deps.TLSCertPEM, c.deps.TLSKeyPEM, roots, "")
}

func ordererTLSRoots(b *channelconfig.Bundle) [][]byte {
	var roots [][]byte
	for _, org := range b.OrdererOrgs() {
		m, ok := b.MSPManager().MSP(org.MSPID)
		if !ok {
			continue
		}
		roots = append(roots, m.TLSRootCerts()...)
		roots = append(roots, m.TLSIntermediateCerts()...)
	}
	return roots
}

// tlsCertHash binds deliver requests to the peer's TLS certificate, which
// orderers requiring client certificates insist on.
func (c *Channel) tlsCertHash() []byte {
	if c.deps.PlaintextOrderers {
		return nil
	}
	return comm.CertHash(c.deps.TLSCertPEM)
}
