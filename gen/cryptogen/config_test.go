package cryptogen

import (
	"strings"
	"testing"
)

func TestParseAndResolve(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
PeerOrgs:
  - Name: Org1
    Domain: org1.example.com
    CA:
      OrganizationalUnit: Blockchain
    Specs:
      - Hostname: foo
        CommonName: "foo27.{{.Domain}}"
        SANS: ["bar.{{.Domain}}", "{{.Hostname}}.alt", "10.1.2.3", "localhost"]
    Template:
      Count: 2
      Start: 5
      Hostname: "node{{.Index}}"
    Users:
      Count: 2
OrdererOrgs:
  - Domain: example.com
    Specs: [{Hostname: orderer}]
    Users: {Count: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Orgs) != 2 || plan.Orgs[0].Kind != KindPeer || plan.Orgs[1].Kind != KindOrderer {
		t.Fatalf("orgs = %+v, want peer org then orderer org", plan.Orgs)
	}
	p := plan.Orgs[0]
	var names []string
	for _, n := range p.Nodes {
		names = append(names, n.CommonName)
	}
	if got := strings.Join(names, ","); got != "foo27.org1.example.com,node5.org1.example.com,node6.org1.example.com" {
		t.Fatalf("node names = %s", got)
	}
	if got := strings.Join(p.Nodes[0].SANs, ","); got != "foo27.org1.example.com,foo,bar.org1.example.com,foo.alt,10.1.2.3,localhost,127.0.0.1" {
		t.Fatalf("SANs = %s", got)
	}
	if got := strings.Join(p.Users, ","); got != "User1@org1.example.com,User2@org1.example.com,Admin@org1.example.com" {
		t.Fatalf("users = %s", got)
	}
	if p.CA.CommonName != "ca.org1.example.com" || p.TLSCAName() != "tlsca.org1.example.com" ||
		p.CA.Organization != "org1.example.com" || p.CA.Country != "US" || p.CA.OrganizationalUnit != "Blockchain" {
		t.Fatalf("CA subject = %+v", p.CA)
	}
	// Orderer orgs only get an admin user, whatever Users.Count says.
	if got := strings.Join(plan.Orgs[1].Users, ","); got != "Admin@example.com" {
		t.Fatalf("orderer users = %s", got)
	}
	if p.Dir() != "peerOrganizations/org1.example.com" || plan.Orgs[1].NodesDir() != "ordererOrganizations/example.com/orderers" {
		t.Fatalf("dirs = %s, %s", p.Dir(), plan.Orgs[1].NodesDir())
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "PeerOrgs:\n  - Domain: a.com\n    Domian: b\n", "field Domian not found"},
		{"unknown top-level", "Orgs: []\n", "field Orgs not found"},
		{"empty document", "", "empty"},
		{"two documents", "PeerOrgs: []\n---\nPeerOrgs: []\n", "more than one"},
		{"no orgs", "PeerOrgs: []\n", "no PeerOrgs and no OrdererOrgs"},
		{"missing domain", "PeerOrgs:\n  - Name: Org1\n    Template: {Count: 1}\n", "PeerOrgs[0]: Domain is required"},
		{"duplicate hostname spec and template", "PeerOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: peer0}]\n    Template: {Count: 1}\n", "duplicate Hostname \"peer0\""},
		{"duplicate hostname specs", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: o}, {Hostname: o}]\n", "Specs[1]: duplicate Hostname"},
		{"duplicate common name", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: o1, CommonName: x}, {Hostname: o2, CommonName: x}]\n", "duplicate CommonName \"x\""},
		{"duplicate domain", "PeerOrgs:\n  - Domain: a.com\n  - Domain: a.com\n", "PeerOrgs[1] (a.com): Domain \"a.com\" already used by PeerOrgs[0]"},
		{"missing hostname", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{CommonName: x}]\n", "Specs[0]: Hostname is required"},
		{"path in hostname", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: ../x}]\n", "path separator"},
		{"path in domain", "PeerOrgs:\n  - Domain: ..\n", "Domain:"},
		{"negative count", "PeerOrgs:\n  - Domain: a.com\n    Template: {Count: -1}\n", "must not be negative"},
		{"negative users", "PeerOrgs:\n  - Domain: a.com\n    Users: {Count: -2}\n", "Users.Count -2"},
		{"ed25519", "PeerOrgs:\n  - Domain: a.com\n    Users: {PublicKeyAlgorithm: ed25519}\n", "not supported by weft"},
		{"bad algorithm", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: o, PublicKeyAlgorithm: rsa}]\n", "unknown algorithm \"rsa\""},
		{"bad template syntax", "PeerOrgs:\n  - Domain: a.com\n    Template: {Count: 1, Hostname: \"{{.Prefix\"}\n", "Template.Hostname"},
		{"unknown template var", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: o, SANS: [\"{{.Nope}}\"]}]\n", "SANS[0]"},
		{"empty SAN", "OrdererOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: o, SANS: [\"\"]}]\n", "empty name"},
		{"wrong type", "PeerOrgs:\n  - Domain: a.com\n    Template: {Count: many}\n", "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.yaml))
			if err == nil {
				_, err = cfg.Resolve()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func TestSampleConfigResolves(t *testing.T) {
	cfg, err := ParseConfig([]byte(SampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Orgs) != 3 || len(plan.Orgs[2].Nodes) != 3 {
		t.Fatalf("sample resolves to %d orgs", len(plan.Orgs))
	}
}
