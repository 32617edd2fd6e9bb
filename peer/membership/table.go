package membership

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	wm "weft/wire/weft/membership"
)

// ErrStale is returned by Table.Put for a statement not newer than the
// one already accepted from the same peer on the same channel.
var ErrStale = errors.New("member info is not newer than the one known")

// Member is a live peer of a channel as its last accepted statement says.
type Member struct {
	Channel    string
	Endpoint   string
	MSPID      string
	Identity   []byte
	Height     uint64
	Chaincodes []string
}

type entry struct {
	v *verified
	// refreshed is when a newer statement last arrived; liveness is
	// measured from it, not from the statement's own timestamp, so that
	// relaying an old statement never keeps a dead peer alive.
	refreshed time.Time
}

// Table holds the accepted statements, one per peer and channel. Entries
// not refreshed within expiration are no longer live but are kept until
// retention has passed, so that replaying an old statement cannot revive
// a peer.
type Table struct {
	expiration, retention time.Duration
	now                   func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

// NewTable returns an empty table. retention must exceed expiration; it
// is also the largest clock difference tolerated in timestamps.
func NewTable(expiration, retention time.Duration, now func() time.Time) *Table {
	if now == nil {
		now = time.Now
	}
	return &Table{expiration: expiration, retention: max(retention, expiration), now: now, entries: map[string]*entry{}}
}

func tableKey(channel string, identity []byte) string {
	sum := sha256.Sum256(identity)
	return channel + "\x00" + string(sum[:])
}

// newer orders statements of one peer by (incarnation, sequence).
func newer(a, b *wm.MemberInfo) bool {
	if a.GetIncarnation() != b.GetIncarnation() {
		return a.GetIncarnation() > b.GetIncarnation()
	}
	return a.GetSequence() > b.GetSequence()
}

// put stores v unless a statement at least as new is known.
func (t *Table) put(v *verified) error {
	now := t.now()
	key := tableKey(v.info.GetChannel(), v.info.GetIdentity())
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
	if old, ok := t.entries[key]; ok && !newer(v.info, old.v.info) {
		return ErrStale
	}
	t.entries[key] = &entry{v: v, refreshed: now}
	return nil
}

func (t *Table) pruneLocked(now time.Time) {
	for k, e := range t.entries {
		if now.Sub(e.refreshed) > t.retention {
			delete(t.entries, k)
		}
	}
}

// live lists the statements of a channel refreshed within expiration,
// ordered by endpoint.
func (t *Table) live(channel string) []*verified {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
	var out []*verified
	for _, e := range t.entries {
		if e.v.info.GetChannel() == channel && now.Sub(e.refreshed) <= t.expiration {
			out = append(out, e.v)
		}
	}
	slices.SortFunc(out, func(a, b *verified) int { return strings.Compare(a.info.GetEndpoint(), b.info.GetEndpoint()) })
	return out
}

// Members lists the live members of a channel.
func (t *Table) Members(channel string) []Member {
	vs := t.live(channel)
	out := make([]Member, 0, len(vs))
	for _, v := range vs {
		out = append(out, Member{
			Channel: channel, Endpoint: v.info.GetEndpoint(), MSPID: v.id.MSPID,
			Identity: v.info.GetIdentity(), Height: v.info.GetLedgerHeight(),
			Chaincodes: slices.Clone(v.info.GetChaincodes()),
		})
	}
	return out
}
