package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow has microsecond precision, what the store keeps.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)

func boolp(b bool) *bool { return &b }

func serials(cs []Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Serial)
	}
	return out
}

// putCerts stores: a1 alice good valid; a2 alice revoked (at now-2h)
// expired; b1 bob good expired; b2 bob revoked (at now-1h) valid, other
// AKI; c1 carol good valid.
func putCerts(t *testing.T, s Store, ca string) {
	t.Helper()
	day := 24 * time.Hour
	for _, c := range []Certificate{
		{ID: "alice", Serial: "0A1", AKI: "AA", Status: StatusGood, NotBefore: testNow.Add(-day), Expiry: testNow.Add(day)},
		{ID: "alice", Serial: "a2", AKI: "aa", Status: StatusRevoked, Reason: 1, RevokedAt: testNow.Add(-2 * time.Hour), NotBefore: testNow.Add(-3 * day), Expiry: testNow.Add(-day)},
		{ID: "bob", Serial: "b1", AKI: "aa", NotBefore: testNow.Add(-3 * day), Expiry: testNow.Add(-time.Second)},
		{ID: "bob", Serial: "b2", AKI: "bb", Status: StatusRevoked, Reason: 4, RevokedAt: testNow.Add(-time.Hour), NotBefore: testNow.Add(-day), Expiry: testNow.Add(day)},
		{ID: "carol", Serial: "c1", AKI: "aa", NotBefore: testNow.Add(-day), Expiry: testNow.Add(365 * day)},
	} {
		c.CAName = ca
		c.PEM = []byte("-----BEGIN CERTIFICATE-----\n" + c.Serial)
		if err := s.PutCertificate(context.Background(), &c); err != nil {
			t.Fatalf("put %s: %v", c.Serial, err)
		}
	}
}

func testCertFilters(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	putCerts(t, s, ca)
	for _, tc := range []struct {
		name string
		f    CertFilter
		want []string
	}{
		{"all", CertFilter{}, []string{"a1", "a2", "b1", "b2", "c1"}},
		{"id", CertFilter{ID: "bob"}, []string{"b1", "b2"}},
		{"id none", CertFilter{ID: "zed"}, nil},
		{"serial normalised", CertFilter{Serial: "00A1"}, []string{"a1"}},
		{"aki", CertFilter{AKI: "BB"}, []string{"b2"}},
		{"serial+aki", CertFilter{Serial: "b1", AKI: "bb"}, nil},
		{"revoked", CertFilter{Revoked: boolp(true)}, []string{"a2", "b2"}},
		{"good", CertFilter{Revoked: boolp(false)}, []string{"a1", "b1", "c1"}},
		{"expired", CertFilter{ExpiredOnly: true, Now: testNow}, []string{"a2", "b1"}},
		{"not expired", CertFilter{NotExpired: true, Now: testNow}, []string{"a1", "b2", "c1"}},
		{"not expired later", CertFilter{NotExpired: true, Now: testNow.Add(2 * 24 * time.Hour)}, []string{"c1"}},
		{"revoked after", CertFilter{RevokedAfter: testNow.Add(-90 * time.Minute)}, []string{"b2"}},
		{"revoked before", CertFilter{RevokedBefore: testNow.Add(-90 * time.Minute)}, []string{"a2"}},
		{"revoked window inclusive", CertFilter{RevokedAfter: testNow.Add(-2 * time.Hour), RevokedBefore: testNow.Add(-time.Hour)}, []string{"a2", "b2"}},
		{"combined", CertFilter{ID: "alice", Revoked: boolp(false), NotExpired: true, Now: testNow}, []string{"a1"}},
	} {
		got, err := s.ListCertificates(ctx, ca, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(serials(got), tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, serials(got), tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		f    CertFilter
		want string
	}{
		{"bad serial", CertFilter{Serial: "xyz"}, "filter serial"},
		{"bad aki", CertFilter{AKI: "a:b"}, "filter aki"},
		{"both expiry", CertFilter{ExpiredOnly: true, NotExpired: true}, "both set"},
		{"window reversed", CertFilter{RevokedAfter: testNow, RevokedBefore: testNow.Add(-time.Hour)}, "RevokedBefore"},
	} {
		if _, err := s.ListCertificates(ctx, ca, tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", tc.name, err, tc.want)
		}
	}
	// Full record round trip, including times and PEM.
	got, err := s.ListCertificates(ctx, ca, CertFilter{Serial: "b2"})
	if err != nil || len(got) != 1 {
		t.Fatalf("get b2: %v %v", got, err)
	}
	want := Certificate{CAName: ca, ID: "bob", Serial: "b2", AKI: "bb", Status: StatusRevoked, Reason: 4,
		RevokedAt: testNow.Add(-time.Hour), NotBefore: testNow.Add(-24 * time.Hour), Expiry: testNow.Add(24 * time.Hour),
		PEM: []byte("-----BEGIN CERTIFICATE-----\nb2")}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("b2: got %+v, want %+v", got[0], want)
	}
	// Putting the same serial/AKI again replaces the record.
	want.ID, want.Status, want.Reason, want.RevokedAt = "bob2", StatusGood, 0, time.Time{}
	if err := s.PutCertificate(ctx, &want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListCertificates(ctx, ca, CertFilter{Serial: "b2"}); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("replaced b2: got %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		name string
		c    *Certificate
		want string
	}{
		{"nil", nil, "certificate: nil"},
		{"empty serial", &Certificate{AKI: "aa"}, "serial: empty"},
		{"bad serial", &Certificate{Serial: "0x1"}, "certificate serial"},
		{"bad aki", &Certificate{Serial: "1", AKI: "g"}, "certificate aki"},
		{"bad status", &Certificate{Serial: "1", Status: "bad"}, "status"},
	} {
		if err := s.PutCertificate(ctx, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("put %s: got %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

func testCertRevoke(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	putCerts(t, s, ca)
	at := testNow.Add(time.Minute)
	changed, err := s.RevokeCertificates(ctx, ca, CertFilter{ID: "alice"}, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	// a2 was already revoked: only a1 changes.
	if got := serials(changed); !reflect.DeepEqual(got, []string{"a1"}) {
		t.Fatalf("revoke alice: changed %v, want [a1]", got)
	}
	if c := changed[0]; c.Status != StatusRevoked || c.Reason != 1 || !c.RevokedAt.Equal(at) {
		t.Fatalf("returned a1: %+v", c)
	}
	again, err := s.RevokeCertificates(ctx, ca, CertFilter{ID: "alice"}, 1, at.Add(time.Hour))
	if err != nil || len(again) != 0 {
		t.Fatalf("second revoke: %v, %v; want nothing changed", serials(again), err)
	}
	all, err := s.ListCertificates(ctx, ca, CertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		switch c.Serial {
		case "a1":
			if c.Status != StatusRevoked || !c.RevokedAt.Equal(at) {
				t.Errorf("a1 after revoke: %+v", c)
			}
		case "a2":
			// The earlier revocation (reason 1, 2h ago) must stand.
			if c.Reason != 1 || !c.RevokedAt.Equal(testNow.Add(-2*time.Hour)) {
				t.Errorf("a2 changed by revoke: %+v", c)
			}
		case "b1", "c1":
			if c.Status != StatusGood {
				t.Errorf("%s revoked by alice's revoke: %+v", c.Serial, c)
			}
		}
	}
	for _, tc := range []struct {
		reason int
		at     time.Time
		want   string
	}{
		{7, at, "reason 7"},
		{11, at, "reason 11"},
		{-1, at, "reason -1"},
		{1, time.Time{}, "time: zero"},
	} {
		if _, err := s.RevokeCertificates(ctx, ca, CertFilter{ID: "carol"}, tc.reason, tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("revoke reason %d: got %v, want error containing %q", tc.reason, err, tc.want)
		}
	}
	if got, _ := s.ListCertificates(ctx, ca, CertFilter{ID: "carol", Revoked: boolp(false)}); len(got) != 1 {
		t.Fatalf("carol revoked by a rejected call: %+v", got)
	}
}

// testCertRevokeConcurrent: revokers racing over the same certificates
// report each certificate changed exactly once in total.
func testCertRevokeConcurrent(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	const certs, revokers = 40, 6
	for round := range 3 {
		id := fmt.Sprintf("user%d", round)
		for i := range certs {
			c := Certificate{CAName: ca, ID: id, Serial: fmt.Sprintf("%x%02x", round+1, i), AKI: "aa",
				NotBefore: testNow, Expiry: testNow.Add(time.Hour)}
			if err := s.PutCertificate(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		results := make([][]Certificate, revokers)
		errs := make([]error, revokers)
		var wg sync.WaitGroup
		for i := range revokers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.RevokeCertificates(ctx, ca, CertFilter{ID: id}, 4, testNow)
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for i := range revokers {
			if errs[i] != nil {
				t.Fatalf("round %d revoker %d: %v", round, i, errs[i])
			}
			for _, c := range results[i] {
				seen[c.Serial]++
			}
		}
		if len(seen) != certs {
			t.Fatalf("round %d: %d certificates reported changed, want %d", round, len(seen), certs)
		}
		for serial, n := range seen {
			if n != 1 {
				t.Fatalf("round %d: certificate %s reported changed %d times, want once", round, serial, n)
			}
		}
	}
}
