package membership

import (
	"errors"
	"slices"
	"testing"
	"time"

	et "weft/peer/endorser/endorsertest"
	wm "weft/wire/weft/membership"
)

func TestTableSequenceAndExpiry(t *testing.T) {
	net := et.NewNetwork(t, et.Options{})
	clk := newClock()
	const expiration, retention = 15 * time.Second, time.Minute
	tb := NewTable(expiration, retention, clk.Now)
	put := func(signer et.Member, endpoint string, inc, seq uint64) error {
		t.Helper()
		s := sign(t, signer, &wm.MemberInfo{Endpoint: endpoint, Channel: et.ChannelID, Incarnation: inc, Sequence: seq,
			LedgerHeight: seq, Timestamp: clk.Now().UnixNano()})
		v, err := verifyInfo(net.Bundle, s, clk.Now(), retention)
		if err != nil {
			t.Fatal(err)
		}
		return tb.put(v)
	}
	steps := []struct {
		name    string
		signer  et.Member
		inc     uint64
		seq     uint64
		advance time.Duration
		stale   bool
		live    []string
	}{
		{"first statement", net.Org1.Peer, 10, 2, 0, false, []string{"p1:1"}},
		{"older sequence", net.Org1.Peer, 10, 1, 0, true, []string{"p1:1"}},
		{"same sequence again", net.Org1.Peer, 10, 2, 0, true, []string{"p1:1"}},
		{"newer sequence", net.Org1.Peer, 10, 3, 0, false, []string{"p1:1"}},
		{"older incarnation, higher sequence", net.Org1.Peer, 9, 50, 0, true, []string{"p1:1"}},
		{"another peer", net.Org2.Peer, 1, 1, 0, false, []string{"p1:1", "p2:1"}},
		{"restarted: new incarnation", net.Org1.Peer, 11, 1, 10 * time.Second, false, []string{"p1:1", "p2:1"}},
		// Org2's peer said nothing newer for 16s: expired; Org1's 6s ago.
		{"expiry", net.Org1.Peer, 11, 1, 6 * time.Second, true, []string{"p1:1"}},
		// An expired peer's last statement, replayed, does not revive it.
		{"replay after expiry", net.Org2.Peer, 1, 1, 0, true, []string{"p1:1"}},
		{"expired peer speaks again", net.Org2.Peer, 1, 2, 0, false, []string{"p1:1", "p2:1"}},
	}
	endpoint := map[string]string{"Org1MSP": "p1:1", "Org2MSP": "p2:1"}
	for _, st := range steps {
		clk.Add(st.advance)
		err := put(st.signer, endpoint[st.signer.MSPID], st.inc, st.seq)
		if st.stale != errors.Is(err, ErrStale) || (!st.stale && err != nil) {
			t.Fatalf("%s: put = %v, want stale=%v", st.name, err, st.stale)
		}
		if got := endpoints(tb.Members(et.ChannelID)); !slices.Equal(got, st.live) {
			t.Fatalf("%s: live %v, want %v", st.name, got, st.live)
		}
	}
	if got := tb.Members("otherchannel"); len(got) != 0 {
		t.Fatalf("members of another channel: %v", got)
	}
	ms := tb.Members(et.ChannelID)
	if ms[0].MSPID != "Org1MSP" || ms[0].Height != 1 || ms[1].MSPID != "Org2MSP" || ms[1].Height != 2 {
		t.Fatalf("members %+v", ms)
	}
	// After the retention time nothing is kept, not even as a guard.
	clk.Add(retention + time.Second)
	tb.mu.Lock()
	tb.pruneLocked(clk.Now())
	n := len(tb.entries)
	tb.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d entries kept after retention", n)
	}
}
