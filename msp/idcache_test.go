package msp

import (
	"fmt"
	"testing"
	"time"

	"weft/msp/msptest"
)

// TestIdentityCacheSameResults checks that a manager whose MSPs cache
// identities answers exactly like one whose MSPs do not, on first use and on
// repeated (cached) use, under a moving clock.
func TestIdentityCacheSameResults(t *testing.T) {
	org1 := mustOrg(t, "Org1MSP", false)
	org2 := mustOrg(t, "Org2MSP", true)
	revoked := mustRole(t, org1, "revoked", msptest.OUClient)
	crl, err := org1.Root.CRL(revoked.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	org1.CRLs = [][]byte{crl}
	stranger := mustOrg(t, "Org1MSP", false)
	unknown, err := org1.NewMemberFrom(stranger.Root, msptest.CertOpts{CN: "stranger", OUs: []string{msptest.OUClient}})
	if err != nil {
		t.Fatal(err)
	}
	ghost, err := msptest.NewMember("Org9MSP", revoked.Cert, revoked.Key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired := mustMember(t, org1, msptest.CertOpts{CN: "old", OUs: []string{msptest.OUClient},
		NotBefore: now.Add(-2 * msptest.Year), NotAfter: now.Add(-msptest.Year)})

	cachedMSPs := []*MSP{mustMSP(t, org1), mustMSP(t, org2)}
	plainMSPs := []*MSP{mustMSP(t, org1), mustMSP(t, org2)}
	var clock time.Time
	for _, m := range append(append([]*MSP{}, cachedMSPs...), plainMSPs...) {
		m.Now = func() time.Time { return clock }
	}
	for _, m := range plainMSPs {
		m.ids = nil
	}
	cached, err := NewManager(cachedMSPs...)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewManager(plainMSPs...)
	if err != nil {
		t.Fatal(err)
	}

	later := now.Add(2 * msptest.Year)
	tests := []struct {
		name  string
		ser   []byte
		clock time.Time
		want  string
	}{
		{"valid", mustRole(t, org1, "user1", msptest.OUClient).Serialized, now, ""},
		{"valid via intermediate", mustRole(t, org2, "peer0", msptest.OUPeer).Serialized, now, ""},
		{"expired", expired.Serialized, now, "expired at"},
		{"revoked", revoked.Serialized, now, "has been revoked"},
		// The clock check comes before revocation, cached or not.
		{"revoked and expired", revoked.Serialized, later, "expired at"},
		{"revoked before start", revoked.Serialized, now.Add(-2 * time.Hour), "not valid before"},
		{"unknown CA", unknown.Serialized, now, "does not chain"},
		{"unknown CA whatever the clock", unknown.Serialized, later, "does not chain"},
		{"unknown MSP", ghost.Serialized, now, `MSP "Org9MSP" is not known`},
		{"not a SerializedIdentity", []byte{0xff}, now, "serialized identity"},
		{"CA as identity", mustMember(t, org1, msptest.CertOpts{CN: "ca", IsCA: true, OUs: []string{msptest.OUPeer}}).Serialized, now, "is a CA"},
		{"no NodeOU", mustMember(t, org1, msptest.CertOpts{CN: "none", OUs: []string{"x"}}).Serialized, now, "no NodeOU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock = tc.clock
			for round := 0; round < 3; round++ {
				got, gotErr := cached.DeserializeIdentity(tc.ser)
				want, wantErr := plain.DeserializeIdentity(tc.ser)
				checkErr(t, gotErr, tc.want)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("round %d: cached error %v, uncached %v", round, gotErr, wantErr)
				}
				if gotErr == nil && string(got.Cert.Raw) != string(want.Cert.Raw) {
					t.Fatalf("round %d: cached and uncached certificates differ", round)
				}
			}
		})
	}
}

// TestIdentityCacheClock checks that a cached identity is still judged by
// the clock on every use.
func TestIdentityCacheClock(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	m := mustMSP(t, org)
	mg, err := NewManager(m)
	if err != nil {
		t.Fatal(err)
	}
	user := mustRole(t, org, "user1", msptest.OUClient)
	now := time.Now()
	for i, step := range []struct {
		clock time.Time
		want  string
	}{
		{now, ""},
		{now.Add(2 * msptest.Year), "expired at"},
		{now.Add(-2 * time.Hour), "not valid before"},
		{now, ""},
	} {
		m.Now = func() time.Time { return step.clock }
		_, err := mg.DeserializeIdentity(user.Serialized)
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkErr(t, err, step.want) })
	}
	first, err := m.DeserializeIdentity(user.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m.DeserializeIdentity(user.Serialized); again != first {
		t.Fatal("second deserialization did not come from the cache")
	}
}

// TestIdentityCacheOwnsBytes checks that the cache does not alias the
// caller's buffer, which it may reuse.
func TestIdentityCacheOwnsBytes(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	m := mustMSP(t, org)
	user := mustRole(t, org, "user1", msptest.OUClient)
	buf := append([]byte(nil), user.Serialized...)
	id, err := m.DeserializeIdentity(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 0
	}
	if string(id.Serialized) != string(user.Serialized) {
		t.Fatal("identity's serialized bytes changed with the caller's buffer")
	}
	again, err := m.DeserializeIdentity(user.Serialized)
	if err != nil || again != id {
		t.Fatalf("lookup after the caller's buffer changed: %v, same identity %v", err, again == id)
	}
}

func TestIdentityCacheBounded(t *testing.T) {
	c := newIdentityCache(8)
	hot := []byte("hot")
	c.put(hot, cachedIdentity{})
	for i := 0; i < 100; i++ {
		c.put([]byte(fmt.Sprint("k", i)), cachedIdentity{})
		if _, ok := c.get(hot); !ok {
			t.Fatalf("entry in constant use evicted after %d insertions", i+1)
		}
		if n := c.len(); n > 8 {
			t.Fatalf("cache holds %d entries, bound is 8", n)
		}
	}
	if _, ok := c.get([]byte("k0")); ok {
		t.Fatal("old unused entry was never evicted")
	}
	if _, ok := c.get([]byte("k99")); !ok {
		t.Fatal("newest entry missing")
	}

	// An MSP's own cache obeys its bound too.
	org := mustOrg(t, "Org1MSP", false)
	m := mustMSP(t, org)
	m.ids = newIdentityCache(4)
	for i := 0; i < 10; i++ {
		if _, err := m.DeserializeIdentity(mustRole(t, org, fmt.Sprint("u", i), msptest.OUClient).Serialized); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.ids.len(); n > 4 || n == 0 {
		t.Fatalf("MSP cache holds %d entries, want 1..4", n)
	}
}
