package cryptogen

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"text/template"

	"weft/fabcrypto"
)

// Role is the NodeOU role a certificate carries when NodeOUs are enabled.
type Role string

// The OU strings Fabric's NodeOUs configuration conventionally uses.
const (
	RoleClient  Role = "client"
	RolePeer    Role = "peer"
	RoleAdmin   Role = "admin"
	RoleOrderer Role = "orderer"
)

// Kind tells peer organizations from orderer organizations.
type Kind string

// Organization kinds; the value is the default host name prefix.
const (
	KindPeer    Kind = "peer"
	KindOrderer Kind = "orderer"
)

// cryptogen's fixed defaults.
const (
	defaultHostnameTemplate = "{{.Prefix}}{{.Index}}"
	defaultCNTemplate       = "{{.Hostname}}.{{.Domain}}"
	defaultCAHostname       = "ca"
	defaultCountry          = "US"
	defaultProvince         = "California"
	defaultLocality         = "San Francisco"
)

// Plan is a Config with every template expanded and every default applied:
// the exact list of CAs, nodes and users Generate will write.
type Plan struct {
	Orgs []Org
}

// Org is one resolved organization.
type Org struct {
	Kind          Kind
	Name          string
	Domain        string
	EnableNodeOUs bool
	// CA is the signing CA's subject; the TLS CA uses the same subject with
	// CommonName prefixed by "tls".
	CA    fabcrypto.Subject
	Nodes []Node
	// Users are user common names; the admin (Admin@<domain>) comes last.
	// Orderer organizations only get the admin, as with cryptogen.
	Users []string
	// CAOnly: Write skips Nodes and Users (see OrgSpec.CAOnly); they stay
	// listed so that whoever enrolls them knows their names and SANs.
	CAOnly bool
}

// Node is one resolved peer or orderer.
type Node struct {
	Hostname   string
	CommonName string
	SANs       []string
}

// Dir is the organization directory relative to the output root.
func (o Org) Dir() string {
	return filepath.Join(string(o.Kind)+"Organizations", o.Domain)
}

// NodesDir is "peers" or "orderers" under Dir.
func (o Org) NodesDir() string { return filepath.Join(o.Dir(), string(o.Kind)+"s") }

// AdminName is the admin user's common name.
func (o Org) AdminName() string { return "Admin@" + o.Domain }

// TLSCAName is the TLS CA's common name.
func (o Org) TLSCAName() string { return "tls" + o.CA.CommonName }

// NodeRole is the NodeOU role of the org's nodes.
func (o Org) NodeRole() Role {
	if o.Kind == KindOrderer {
		return RoleOrderer
	}
	return RolePeer
}

// Resolve validates cfg and expands it into a Plan.
func (c Config) Resolve() (*Plan, error) {
	if len(c.PeerOrgs) == 0 && len(c.OrdererOrgs) == 0 {
		return nil, fmt.Errorf("crypto config: no PeerOrgs and no OrdererOrgs defined")
	}
	p := &Plan{}
	// cryptogen handles peer organizations first; keep its order.
	groups := []struct {
		field string
		kind  Kind
		specs []OrgSpec
	}{{"PeerOrgs", KindPeer, c.PeerOrgs}, {"OrdererOrgs", KindOrderer, c.OrdererOrgs}}
	for _, g := range groups {
		seen := map[string]int{}
		for i, spec := range g.specs {
			where := fmt.Sprintf("%s[%d]", g.field, i)
			if spec.Domain != "" {
				where = fmt.Sprintf("%s (%s)", where, spec.Domain)
			}
			org, err := resolveOrg(spec, g.kind)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if j, dup := seen[org.Domain]; dup {
				return nil, fmt.Errorf("%s: Domain %q already used by %s[%d]", where, org.Domain, g.field, j)
			}
			seen[org.Domain] = i
			p.Orgs = append(p.Orgs, org)
		}
	}
	return p, nil
}

func resolveOrg(spec OrgSpec, kind Kind) (Org, error) {
	if spec.Domain == "" {
		return Org{}, fmt.Errorf("Domain is required")
	}
	if err := checkPathName(spec.Domain); err != nil {
		return Org{}, fmt.Errorf("Domain: %w", err)
	}
	if spec.Template.Count < 0 || spec.Template.Start < 0 {
		return Org{}, fmt.Errorf("Template: Count (%d) and Start (%d) must not be negative", spec.Template.Count, spec.Template.Start)
	}
	if spec.Users.Count < 0 {
		return Org{}, fmt.Errorf("Users.Count %d must not be negative", spec.Users.Count)
	}
	if err := checkAlgorithm(spec.Template.PublicKeyAlgorithm); err != nil {
		return Org{}, fmt.Errorf("Template.PublicKeyAlgorithm: %w", err)
	}
	if err := checkAlgorithm(spec.Users.PublicKeyAlgorithm); err != nil {
		return Org{}, fmt.Errorf("Users.PublicKeyAlgorithm: %w", err)
	}
	org := Org{Kind: kind, Name: spec.Name, Domain: spec.Domain, EnableNodeOUs: spec.EnableNodeOUs, CAOnly: spec.CAOnly}

	// Explicit Specs first, then templated hosts, as cryptogen appends them.
	specs := append([]NodeSpec(nil), spec.Specs...)
	for i := 0; i < spec.Template.Count; i++ {
		data := struct {
			Prefix string
			Index  int
			Domain string
		}{string(kind), spec.Template.Start + i, spec.Domain}
		host, err := render(orDefault(spec.Template.Hostname, defaultHostnameTemplate), data)
		if err != nil {
			return Org{}, fmt.Errorf("Template.Hostname: %w", err)
		}
		specs = append(specs, NodeSpec{Hostname: host, SANS: spec.Template.SANS})
	}

	byHost, byCN := map[string]bool{}, map[string]bool{}
	for i, ns := range specs {
		where := fmt.Sprintf("Specs[%d]", i)
		if i >= len(spec.Specs) {
			where = fmt.Sprintf("Template host %d", i-len(spec.Specs))
		}
		n, err := resolveNode(ns, spec.Domain, true)
		if err != nil {
			return Org{}, fmt.Errorf("%s: %w", where, err)
		}
		if byHost[n.Hostname] {
			return Org{}, fmt.Errorf("%s: duplicate Hostname %q", where, n.Hostname)
		}
		if byCN[n.CommonName] {
			return Org{}, fmt.Errorf("%s: duplicate CommonName %q", where, n.CommonName)
		}
		byHost[n.Hostname], byCN[n.CommonName] = true, true
		org.Nodes = append(org.Nodes, n)
	}

	ca := spec.CA
	ca.Hostname = orDefault(ca.Hostname, defaultCAHostname)
	caNode, err := resolveNode(ca, spec.Domain, false)
	if err != nil {
		return Org{}, fmt.Errorf("CA: %w", err)
	}
	org.CA = fabcrypto.Subject{
		CommonName:         caNode.CommonName,
		Organization:       spec.Domain,
		OrganizationalUnit: ca.OrganizationalUnit,
		Country:            orDefault(ca.Country, defaultCountry),
		Province:           orDefault(ca.Province, defaultProvince),
		Locality:           orDefault(ca.Locality, defaultLocality),
		StreetAddress:      ca.StreetAddress,
		PostalCode:         ca.PostalCode,
	}

	if kind == KindPeer {
		for j := 1; j <= spec.Users.Count; j++ {
			org.Users = append(org.Users, fmt.Sprintf("User%d@%s", j, spec.Domain))
		}
	}
	org.Users = append(org.Users, org.AdminName())
	return org, nil
}

// resolveNode expands a spec's CommonName and SANS templates. Nodes get the
// implicit SANs cryptogen adds (CN, hostname) plus localhost and 127.0.0.1
// so that locally run nodes can be dialled by either name.
func resolveNode(ns NodeSpec, domain string, local bool) (Node, error) {
	if ns.Hostname == "" {
		return Node{}, fmt.Errorf("Hostname is required")
	}
	if err := checkPathName(ns.Hostname); err != nil {
		return Node{}, fmt.Errorf("Hostname: %w", err)
	}
	if err := checkAlgorithm(ns.PublicKeyAlgorithm); err != nil {
		return Node{}, fmt.Errorf("PublicKeyAlgorithm: %w", err)
	}
	data := struct{ Hostname, Domain, CommonName string }{ns.Hostname, domain, ""}
	cn, err := render(orDefault(ns.CommonName, defaultCNTemplate), data)
	if err != nil {
		return Node{}, fmt.Errorf("CommonName: %w", err)
	}
	if err := checkPathName(cn); err != nil {
		return Node{}, fmt.Errorf("CommonName: %w", err)
	}
	data.CommonName = cn
	sans := []string{cn, ns.Hostname}
	for i, tmpl := range ns.SANS {
		san, err := render(tmpl, data)
		if err != nil {
			return Node{}, fmt.Errorf("SANS[%d]: %w", i, err)
		}
		if strings.TrimSpace(san) == "" {
			return Node{}, fmt.Errorf("SANS[%d]: %q renders to an empty name", i, tmpl)
		}
		sans = append(sans, san)
	}
	if local {
		sans = append(sans, "localhost", "127.0.0.1")
	}
	return Node{Hostname: ns.Hostname, CommonName: cn, SANs: dedupe(sans)}, nil
}

func render(tmpl string, data any) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("template %q: %w", tmpl, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %q: %w", tmpl, err)
	}
	return b.String(), nil
}

// checkPathName guards names that become directory or file names.
func checkPathName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is empty")
	case s == "." || s == "..":
		return fmt.Errorf("%q is not a usable name", s)
	case strings.ContainsAny(s, "/\\ \t\r\n\x00"):
		return fmt.Errorf("%q contains a path separator or whitespace", s)
	}
	return nil
}

// checkAlgorithm accepts cryptogen's default ECDSA only; ed25519 keys are
// not supported by weft's nodes.
func checkAlgorithm(alg string) error {
	switch alg {
	case "", "ecdsa":
		return nil
	case "ed25519":
		return fmt.Errorf("%q is not supported by weft; use \"ecdsa\"", alg)
	default:
		return fmt.Errorf("unknown algorithm %q; want \"ecdsa\"", alg)
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
