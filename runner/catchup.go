package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"weft/orderer/participation"
)

// awaitPeersCaughtUp waits until every peer of channel's orgs holds as many
// blocks as the orderers had when it was called. A peer that just joined
// starts from the genesis block: until it has pulled the config block that
// added its org, it rejects its own org's proposals ("MSP is not known to
// this channel"), so lifecycle calls must wait for it. Heights come from
// the peers' operations /metrics, which answer whatever the channel config.
func (u *up) awaitPeersCaughtUp(ctx context.Context, hc *http.Client, channel string) error {
	var target uint64
	for i := range u.n.OrdererHosts() {
		if info, err := participation.Info(ctx, hc, u.ordererAdminURL(i), channel); err == nil {
			target = max(target, info.Height)
		}
	}
	if target == 0 {
		return fmt.Errorf("channel %q: no orderer reports a height", channel)
	}
	ch := u.n.Channel(channel)
	if ch == nil {
		return fmt.Errorf("channel %q is not in the spec", channel)
	}
	mc := &http.Client{Timeout: 2 * time.Second}
	said := false
	for k := range u.n.Orgs {
		o := &u.n.Orgs[k]
		if !slices.Contains(ch.Orgs, o.Name) {
			continue
		}
		for p, h := range o.PeerHosts() {
			url := fmt.Sprintf("http://127.0.0.1:%d/metrics", u.ep.PeerOps(k, p))
			for {
				got, err := ledgerHeight(ctx, mc, url, channel)
				if err == nil && got >= target {
					break
				}
				if !said {
					u.step("channel %s: waiting for the peers to reach height %d", channel, target)
					said = true
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("peer %s: channel %q: height %d, want %d (%v): %w", h, channel, got, target, err, ctx.Err())
				case <-time.After(150 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

// ledgerHeight reads the ledger_blockchain_height gauge of channel from a
// node's Prometheus endpoint.
func ledgerHeight(ctx context.Context, hc *http.Client, url, channel string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	return parseHeight(body, channel)
}

// parseHeight finds the channel's ledger_blockchain_height sample in a
// Prometheus text exposition.
func parseHeight(body []byte, channel string) (uint64, error) {
	re := regexp.MustCompile(`(?m)^ledger_blockchain_height\{channel="` + regexp.QuoteMeta(channel) + `"\} (\S+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no ledger_blockchain_height for channel %q", channel)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("ledger_blockchain_height for channel %q: bad value %q", channel, m[1])
	}
	return uint64(v), nil
}
