package spec

import (
	"reflect"
	"testing"
)

func TestHosts(t *testing.T) {
	n := Default()
	n.Orgs[0].Peers = 2
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"org1 peers", n.PeerHosts("Org1"), []string{"peer0.org1.example.com", "peer1.org1.example.com"}},
		{"org2 peers", n.PeerHosts("Org2"), []string{"peer0.org2.example.com"}},
		{"unknown org", n.PeerHosts("Org9"), nil},
		{"orderer org is not a peer org", n.PeerHosts("OrdererOrg"), nil},
		{"orderers", n.OrdererHosts(), []string{"orderer0.example.com", "orderer1.example.com", "orderer2.example.com"}},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLookups(t *testing.T) {
	n := Default()
	n.Orgs[1].MSPID = ""
	n.Orderer.MSPID = ""
	tests := []struct {
		org    string
		wantID string
		wantOK bool
	}{
		{"Org1", "Org1MSP", true},
		{"Org2", "Org2MSP", true},             // defaulted on the fly
		{"OrdererOrg", "OrdererOrgMSP", true}, // defaulted on the fly
		{"Nope", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		id, ok := n.MSPID(tc.org)
		if id != tc.wantID || ok != tc.wantOK {
			t.Errorf("MSPID(%q) = %q, %v; want %q, %v", tc.org, id, ok, tc.wantID, tc.wantOK)
		}
	}
	if o := n.Org("Org2"); o == nil || o.Domain != "org2.example.com" {
		t.Errorf("Org(Org2) = %+v", o)
	}
	if n.Org("OrdererOrg") != nil || n.Org("org1") != nil {
		t.Errorf("Org matched a non-peer or differently cased name")
	}
	if c := n.Channel("mychannel"); c == nil || len(c.Orgs) != 2 {
		t.Errorf("Channel(mychannel) = %+v", c)
	}
	if n.Channel("other") != nil {
		t.Errorf("Channel(other) found something")
	}
}
