package peer

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestShapeCounts(t *testing.T) {
	cases := []struct {
		shape           Shape
		signs, verifies float64
	}{
		// Client 3 + 2 endorsements + 1 block signature per 100 tx;
		// 2 proposal checks + commit status + orderer + 2 peers × (envelope
		// + 2 endorsements) + 2 block checks per 100 tx.
		{Shape{Endorsers: 2, Peers: 2, TxPerBlock: 100}, 5.01, 10.02},
		{Shape{Endorsers: 1, Peers: 1, TxPerBlock: 1}, 5, 6},
		{Shape{Endorsers: 3, Peers: 4, TxPerBlock: 10}, 6.1, 21.4},
	}
	for _, c := range cases {
		if s, v := c.shape.Signs(), c.shape.Verifies(); math.Abs(s-c.signs) > 1e-9 || math.Abs(v-c.verifies) > 1e-9 {
			t.Errorf("%+v: %v signs, %v verifies; want %v, %v", c.shape, s, v, c.signs, c.verifies)
		}
	}
}

func TestCeiling(t *testing.T) {
	cost := CryptoCost{Sign: 20 * time.Microsecond, Verify: 60 * time.Microsecond}
	shape := Shape{Endorsers: 1, Peers: 1, TxPerBlock: 1} // 5 signs, 6 verifies = 460µs
	got, err := Ceiling(cost, shape, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 / 460e-6; math.Abs(got-want) > 1e-6 {
		t.Fatalf("ceiling %v, want %v", got, want)
	}
	bad := []struct {
		cost  CryptoCost
		shape Shape
		cores int
		want  string
	}{
		{cost, Shape{Endorsers: 0, Peers: 1, TxPerBlock: 1}, 2, "endorsers"},
		{cost, Shape{Endorsers: 1, Peers: 0, TxPerBlock: 1}, 2, "peers"},
		{cost, Shape{Endorsers: 1, Peers: 1, TxPerBlock: 0.5}, 2, "per block"},
		{cost, shape, 0, "cores"},
		{CryptoCost{Sign: time.Microsecond}, shape, 2, "positive"},
	}
	for _, b := range bad {
		if _, err := Ceiling(b.cost, b.shape, b.cores); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v %+v %d: %v, want error mentioning %q", b.cost, b.shape, b.cores, err, b.want)
		}
	}
}

func TestMeasureECDSA(t *testing.T) {
	c, err := MeasureECDSA(20 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Loose bounds: any machine signs and verifies P-256 in well under
	// 10 ms, and neither takes no time at all.
	for name, d := range map[string]time.Duration{"sign": c.Sign, "verify": c.Verify} {
		if d <= 100*time.Nanosecond || d > 10*time.Millisecond {
			t.Errorf("%s took %s", name, d)
		}
	}
	if _, err := MeasureECDSA(0); err == nil {
		t.Error("zero duration accepted")
	}
}
