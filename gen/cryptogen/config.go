// Package cryptogen produces the same directory tree of keys, certificates
// and MSP folders as Hyperledger Fabric's cryptogen tool, from the same
// crypto-config.yaml format, so scripts and Fabric tooling written against
// cryptogen's output work unchanged with weft's.
package cryptogen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is the top level of crypto-config.yaml.
type Config struct {
	OrdererOrgs []OrgSpec `yaml:"OrdererOrgs"`
	PeerOrgs    []OrgSpec `yaml:"PeerOrgs"`
}

// OrgSpec describes one organization.
type OrgSpec struct {
	Name          string       `yaml:"Name"`
	Domain        string       `yaml:"Domain"`
	EnableNodeOUs bool         `yaml:"EnableNodeOUs"`
	CA            NodeSpec     `yaml:"CA"`
	Template      NodeTemplate `yaml:"Template"`
	Specs         []NodeSpec   `yaml:"Specs"`
	Users         UsersSpec    `yaml:"Users"`
	// CAOnly writes the org's CAs and msp/ but none of its nodes and
	// users: weft up enrolls those from the org's running CA instead. Not
	// part of Fabric's file format.
	CAOnly bool `yaml:"-"`
}

// NodeSpec names one host explicitly. CommonName and SANS may use the
// template variables {{.Hostname}}, {{.Domain}} and (SANS only) {{.CommonName}}.
type NodeSpec struct {
	Hostname           string   `yaml:"Hostname"`
	CommonName         string   `yaml:"CommonName"`
	Country            string   `yaml:"Country"`
	Province           string   `yaml:"Province"`
	Locality           string   `yaml:"Locality"`
	OrganizationalUnit string   `yaml:"OrganizationalUnit"`
	StreetAddress      string   `yaml:"StreetAddress"`
	PostalCode         string   `yaml:"PostalCode"`
	SANS               []string `yaml:"SANS"`
	PublicKeyAlgorithm string   `yaml:"PublicKeyAlgorithm"`
}

// NodeTemplate creates Count hosts named by Hostname (default
// "{{.Prefix}}{{.Index}}") with indexes Start .. Start+Count-1.
type NodeTemplate struct {
	Count              int      `yaml:"Count"`
	Start              int      `yaml:"Start"`
	Hostname           string   `yaml:"Hostname"`
	SANS               []string `yaml:"SANS"`
	PublicKeyAlgorithm string   `yaml:"PublicKeyAlgorithm"`
}

// UsersSpec is the number of users created in addition to Admin.
type UsersSpec struct {
	Count              int    `yaml:"Count"`
	PublicKeyAlgorithm string `yaml:"PublicKeyAlgorithm"`
}

// ParseConfig decodes crypto-config.yaml. Unknown keys are rejected: a
// misspelt "Domian" silently ignored would produce a broken network.
func ParseConfig(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("crypto config: document is empty")
		}
		return nil, fmt.Errorf("crypto config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("crypto config: more than one YAML document")
	}
	return &cfg, nil
}

// LoadConfig reads and parses the crypto-config.yaml at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crypto config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
