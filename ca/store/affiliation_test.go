package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func listAffs(t *testing.T, s Store, ca string) []string {
	t.Helper()
	got, err := s.ListAffiliations(context.Background(), ca)
	if err != nil {
		t.Fatalf("list affiliations: %v", err)
	}
	return got
}

func addAffs(t *testing.T, s Store, ca string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.AddAffiliation(context.Background(), ca, n); err != nil {
			t.Fatalf("add %q: %v", n, err)
		}
	}
}

func testAffiliationAddList(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if got := listAffs(t, s, ca); len(got) != 0 {
		t.Fatalf("empty CA: got %v", got)
	}
	addAffs(t, s, ca, "org2", "org1.dept1.team1", "org1.dept2")
	want := []string{"org1", "org1.dept1", "org1.dept1.team1", "org1.dept2", "org2"}
	if got := listAffs(t, s, ca); !reflect.DeepEqual(got, want) {
		t.Fatalf("list: got %v, want %v", got, want)
	}
	// A parent created implicitly is still a duplicate when added again.
	for _, n := range []string{"org1", "org1.dept1.team1", "org2"} {
		if err := s.AddAffiliation(ctx, ca, n); !errors.Is(err, ErrExists) {
			t.Errorf("re-add %q: got %v, want ErrExists", n, err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"", "affiliation: empty"},
		{".org1", "empty segment"},
		{"org1.", "empty segment"},
		{"org1..dept", "empty segment"},
		{"org\xff", "not valid UTF-8"},
	} {
		if err := s.AddAffiliation(ctx, ca, tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("add %q: got %v, want error containing %q", tc.name, err, tc.want)
		}
	}
	if got := listAffs(t, s, ca); !reflect.DeepEqual(got, want) {
		t.Fatalf("list after bad adds: got %v, want %v", got, want)
	}
	if got := listAffs(t, s, ca+"-other"); len(got) != 0 {
		t.Fatalf("other CA: got %v", got)
	}
}

func testAffiliationDelete(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	addAffs(t, s, ca, "org1.dept1.team1", "org1.dept2", "org10", "org2")
	for name, aff := range map[string]string{"a": "org1", "b": "org1.dept1.team1", "c": "org10", "d": "org2", "e": ""} {
		if err := s.CreateIdentity(ctx, newIdentity(ca, name, aff)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		want error
	}{
		{"org1", ErrInUse},       // sub-affiliations and an identity
		{"org1.dept1", ErrInUse}, // sub-affiliation
		{"org2", ErrInUse},       // identity only
		{"org3", ErrNotFound},
		{"org", ErrNotFound},
	} {
		if err := s.DeleteAffiliation(ctx, ca, tc.name, false); !errors.Is(err, tc.want) {
			t.Errorf("delete %q: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := s.DeleteAffiliation(ctx, ca, "", true); err == nil {
		t.Error("delete empty name: no error")
	}
	if err := s.DeleteAffiliation(ctx, ca, "org1.dept2", false); err != nil {
		t.Fatalf("delete empty leaf: %v", err)
	}
	if err := s.DeleteAffiliation(ctx, ca, "org1", true); err != nil {
		t.Fatalf("forced delete: %v", err)
	}
	if got, want := listAffs(t, s, ca), []string{"org10", "org2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after forced delete: got %v, want %v", got, want)
	}
	for name, gone := range map[string]bool{"a": true, "b": true, "c": false, "d": false, "e": false} {
		_, err := s.GetIdentity(ctx, ca, name)
		if gone != errors.Is(err, ErrNotFound) || (!gone && err != nil) {
			t.Errorf("identity %q after forced delete of org1: err %v, want gone=%v", name, err, gone)
		}
	}
}

func testAffiliationRename(t *testing.T, open opener, ca string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	addAffs(t, s, ca, "org1.dept1.team1", "org10", "org3")
	for name, aff := range map[string]string{"a": "org1", "b": "org1.dept1.team1", "c": "org10"} {
		if err := s.CreateIdentity(ctx, newIdentity(ca, name, aff)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from, to string
		want     error
		text     string
	}{
		{"org9", "org8", ErrNotFound, ""},
		{"org1", "org3", ErrExists, ""},
		{"org1.dept1", "org10", ErrExists, ""},
		{"org1", "org1.sub", nil, "must not be"},
		{"org1", "org1", nil, "must not be"},
		{"org1", "bad..name", nil, "empty segment"},
		{"", "x", nil, "affiliation: empty"},
	} {
		err := s.RenameAffiliation(ctx, ca, tc.from, tc.to)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("rename %q -> %q: got %v, want %v %q", tc.from, tc.to, err, tc.want, tc.text)
		}
	}
	before, err := s.GetIdentity(ctx, ca, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RenameAffiliation(ctx, ca, "org1", "corp.org1"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	want := []string{"corp", "corp.org1", "corp.org1.dept1", "corp.org1.dept1.team1", "org10", "org3"}
	if got := listAffs(t, s, ca); !reflect.DeepEqual(got, want) {
		t.Fatalf("after rename: got %v, want %v", got, want)
	}
	for name, aff := range map[string]string{"a": "corp.org1", "b": "corp.org1.dept1.team1", "c": "org10"} {
		id, err := s.GetIdentity(ctx, ca, name)
		if err != nil || id.Affiliation != aff {
			t.Errorf("identity %q after rename: %+v, %v; want affiliation %q", name, id, err, aff)
		}
	}
	// A writer holding the pre-rename identity must not undo the move.
	if err := s.UpdateIdentity(ctx, before); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update after rename: got %v, want ErrConflict", err)
	}
}
