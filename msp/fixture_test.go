package msp

import (
	"strings"
	"testing"

	"weft/msp/msptest"
	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
)

func mustOrg(t *testing.T, id string, intermediate bool) *msptest.Org {
	t.Helper()
	o, err := msptest.NewOrg(id, intermediate)
	if err != nil {
		t.Fatalf("org %s: %v", id, err)
	}
	return o
}

func mustMSP(t *testing.T, o *msptest.Org) *MSP {
	t.Helper()
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", o.MSPID, err)
	}
	return m
}

func mspFromFabric(t *testing.T, fc *mspproto.FabricMSPConfig) (*MSP, error) {
	t.Helper()
	raw, err := proto.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	return New(&mspproto.MSPConfig{Config: raw})
}

func mustMember(t *testing.T, o *msptest.Org, opts msptest.CertOpts) *msptest.Member {
	t.Helper()
	mb, err := o.NewMember(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

func mustRole(t *testing.T, o *msptest.Org, cn, role string) *msptest.Member {
	t.Helper()
	return mustMember(t, o, msptest.CertOpts{CN: cn, OUs: []string{role}})
}

// checkErr fails unless err matches want: "" means no error, otherwise err
// must contain want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("expected error containing %q, got nil", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
