package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// opener opens the same database on every call, so tests can close and
// reopen it.
type opener func() (Store, error)

// TestSQLite runs the shared suite on a fresh SQLite file.
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	runSuite(t, func() (Store, error) { return Open(context.Background(), DriverSQLite, path) })
}

// TestPostgres runs the shared suite on the server named by
// WEFT_TEST_POSTGRES_DSN (scripts/postgres-test.sh starts one). Every
// subtest uses its own random CA name, so the database may be reused.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("WEFT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Log("PostgreSQL not configured: set WEFT_TEST_POSTGRES_DSN (see scripts/postgres-test.sh) to run this suite")
		return
	}
	runSuite(t, func() (Store, error) { return Open(context.Background(), DriverPostgres, dsn) })
}

func runSuite(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener, ca string)
	}{
		{"identity_crud", testIdentityCRUD},
		{"identity_invalid", testIdentityInvalid},
		{"identity_update_conflict", testUpdateConflict},
		{"list_prefix", testListPrefix},
		{"affiliation_add_list", testAffiliationAddList},
		{"affiliation_delete", testAffiliationDelete},
		{"affiliation_rename", testAffiliationRename},
		{"cert_filters", testCertFilters},
		{"cert_revoke", testCertRevoke},
		{"cert_revoke_concurrent", testCertRevokeConcurrent},
		{"token_replay", testTokenReplay},
		{"durability", testDurability},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open, uniqueCA(t)) })
	}
}

func uniqueCA(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "ca-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + hex.EncodeToString(b)
}

func mustOpen(t *testing.T, open opener) Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newIdentity(ca, name, aff string) *Identity {
	return &Identity{
		CAName: ca, Name: name, SecretHash: "h-" + name, Type: "client", Affiliation: aff,
		Attributes:     []Attribute{{Name: "hf.Registrar.Roles", Value: "client,peer", ECert: true}, {Name: "dept", Value: "x"}},
		MaxEnrollments: -1,
	}
}

func testIdentityCRUD(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	id := newIdentity(ca, "alice", "org1.dept1")
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := s.CreateIdentity(ctx, newIdentity(ca, "alice", "org2")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate create: got %v, want ErrExists", err)
	}
	// Same name under another CA is a different identity.
	if err := s.CreateIdentity(ctx, newIdentity(ca+"-tls", "alice", "")); err != nil {
		t.Fatalf("create in other CA: %v", err)
	}
	got, err := s.GetIdentity(ctx, ca, "alice")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !reflect.DeepEqual(got, id) {
		t.Fatalf("get: got %+v, want %+v", got, id)
	}
	if _, err := s.GetIdentity(ctx, ca, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: got %v, want ErrNotFound", err)
	}

	got.Enrollments, got.Revoked, got.IncorrectAttempts = 2, true, 1
	got.Attributes = nil
	if err := s.UpdateIdentity(ctx, got); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got.Version != 1 {
		t.Fatalf("version after update: got %d, want 1", got.Version)
	}
	again, err := s.GetIdentity(ctx, ca, "alice")
	if err != nil {
		t.Fatalf("get after update: %v", err)
	}
	if again.Version != 1 || again.Enrollments != 2 || !again.Revoked || again.IncorrectAttempts != 1 || len(again.Attributes) != 0 {
		t.Fatalf("after update: got %+v", again)
	}
	if err := s.UpdateIdentity(ctx, newIdentity(ca, "nobody", "")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteIdentity(ctx, ca, "alice"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteIdentity(ctx, ca, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetIdentity(ctx, ca+"-tls", "alice"); err != nil {
		t.Fatalf("other CA's alice after delete: %v", err)
	}
}

func testIdentityInvalid(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	bad := newIdentity(ca, "x", "")
	bad.MaxEnrollments = -2
	for _, tc := range []struct {
		name string
		id   *Identity
		want string
	}{
		{"nil", nil, "identity: nil"},
		{"empty name", newIdentity(ca, "", ""), "identity name: empty"},
		{"max enrollments", bad, "max enrollments -2"},
		{"bad utf8", newIdentity(ca, "a\xff", ""), "not valid UTF-8"},
	} {
		if err := s.CreateIdentity(ctx, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %s: got %v, want error containing %q", tc.name, err, tc.want)
		}
		if err := s.UpdateIdentity(ctx, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("update %s: got %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

// testUpdateConflict races writers holding the same Version: exactly one
// may win each round.
func testUpdateConflict(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if err := s.CreateIdentity(ctx, newIdentity(ca, "carol", "")); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		base, err := s.GetIdentity(ctx, ca, "carol")
		if err != nil {
			t.Fatal(err)
		}
		const writers = 4
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			c := *base
			c.Enrollments = w + 1
			wg.Add(1)
			go func() { defer wg.Done(); errs[w] = s.UpdateIdentity(ctx, &c) }()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, ErrConflict):
				t.Fatalf("round %d: got %v, want nil or ErrConflict", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, wins, errs)
		}
		after, err := s.GetIdentity(ctx, ca, "carol")
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != base.Version+1 {
			t.Fatalf("round %d: version %d, want %d", round, after.Version, base.Version+1)
		}
	}
}

func testListPrefix(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	for name, aff := range map[string]string{
		"root": "", "o1": "org1", "o1d1": "org1.dept1", "o1d1x": "org1.dept1.x", "o10": "org10",
		"upper": "ORG1", "under": "a_b.c", "lookalike": "axb.c", "pct": "a%", "zz": "org1", "dd": "org1.dept10",
	} {
		if err := s.CreateIdentity(ctx, newIdentity(ca, name, aff)); err != nil {
			t.Fatal(err)
		}
	}
	// Noise in another CA must never show up.
	if err := s.CreateIdentity(ctx, newIdentity(ca+"-other", "o1", "org1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"dd", "lookalike", "o1", "o10", "o1d1", "o1d1x", "pct", "root", "under", "upper", "zz"}},
		{"org1", []string{"dd", "o1", "o1d1", "o1d1x", "zz"}},
		{"org1.dept1", []string{"o1d1", "o1d1x"}},
		{"org1.dept1.x", []string{"o1d1x"}},
		{"org", nil},
		{"org1.dept", nil},
		{"a_b", []string{"under"}},
		{"a%", []string{"pct"}},
		{"a", nil},
		{"nope", nil},
	} {
		ids, err := s.ListIdentities(ctx, ca, tc.prefix)
		if err != nil {
			t.Fatalf("list %q: %v", tc.prefix, err)
		}
		var got []string
		for _, id := range ids {
			got = append(got, id.Name)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("list %q: got %v, want %v", tc.prefix, got, tc.want)
		}
	}
}

func testTokenReplay(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	h := []byte("token-hash-1")
	if err := s.UseToken(ctx, ca, h, testNow); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.UseToken(ctx, ca, h, testNow); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use: got %v, want ErrReplay", err)
	}
	if err := s.UseToken(ctx, ca+"-tls", h, testNow); err != nil {
		t.Fatalf("same hash, other CA: %v", err)
	}
	if err := s.UseToken(ctx, ca, []byte("token-hash-2"), testNow); err != nil {
		t.Fatalf("other hash: %v", err)
	}
	if err := s.UseToken(ctx, ca, nil, testNow); err == nil || !strings.Contains(err.Error(), "token hash: empty") {
		t.Fatalf("empty hash: got %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, open)
	if err := s.UseToken(ctx, ca, h, testNow); !errors.Is(err, ErrReplay) {
		t.Fatalf("use after reopen: got %v, want ErrReplay", err)
	}
}

func testDurability(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	id := newIdentity(ca, "dave", "org1")
	cert := Certificate{CAName: ca, ID: "dave", Serial: "1f", AKI: "aa", Status: StatusGood,
		NotBefore: testNow, Expiry: testNow.AddDate(1, 0, 0), PEM: []byte("pem")}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAffiliation(ctx, ca, "org1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCertificate(ctx, &cert); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, open)
	got, err := s.GetIdentity(ctx, ca, "dave")
	if err != nil || !reflect.DeepEqual(got, id) {
		t.Fatalf("identity after reopen: got %+v, %v; want %+v", got, err, id)
	}
	affs, err := s.ListAffiliations(ctx, ca)
	if err != nil || !reflect.DeepEqual(affs, []string{"org1"}) {
		t.Fatalf("affiliations after reopen: %v, %v", affs, err)
	}
	certs, err := s.ListCertificates(ctx, ca, CertFilter{})
	if err != nil || len(certs) != 1 || !reflect.DeepEqual(certs[0], cert) {
		t.Fatalf("certificates after reopen: got %+v, %v; want %+v", certs, err, cert)
	}
}
