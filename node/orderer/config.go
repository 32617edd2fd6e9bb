// Package orderer starts a weft ordering node from a configuration file in
// the shape of Fabric's orderer.yaml: the AtomicBroadcast and Cluster gRPC
// services on one mutual-TLS listener, the channel participation API on
// the admin listener and the operations endpoint. A test or the local
// runner starts a node in-process with the same call the binary uses.
package orderer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"weft/node/envconfig"
)

// Config mirrors the parts of Fabric's orderer.yaml weft implements, with
// the same key names, so that existing files and ORDERER_* environment
// overrides carry over.
type Config struct {
	General              General              `yaml:"General"`
	FileLedger           FileLedger           `yaml:"FileLedger"`
	Admin                Admin                `yaml:"Admin"`
	Operations           Operations           `yaml:"Operations"`
	ChannelParticipation ChannelParticipation `yaml:"ChannelParticipation"`
	Consensus            Consensus            `yaml:"Consensus"`

	// dir is the directory of the config file; relative paths in the
	// file are resolved against it, as Fabric does with FABRIC_CFG_PATH.
	dir string
}

// General holds the client-facing listener, TLS and identity.
type General struct {
	ListenAddress string  `yaml:"ListenAddress"`
	ListenPort    int     `yaml:"ListenPort"`
	TLS           TLS     `yaml:"TLS"`
	Cluster       Cluster `yaml:"Cluster"`
	LocalMSPDir   string  `yaml:"LocalMSPDir"`
	LocalMSPID    string  `yaml:"LocalMSPID"`
	// BootstrapMethod must be "none": channels are joined through the
	// channel participation API (there is no system channel).
	BootstrapMethod string `yaml:"BootstrapMethod"`
	// Profile.Enabled serves Go's profiler on the operations endpoint
	// (Fabric serves it on Profile.Address; weft has one HTTP listener).
	Profile Profile `yaml:"Profile"`
}

// Profile switches the profiler on.
type Profile struct {
	Enabled bool `yaml:"Enabled"`
}

// TLS configures one listener.
type TLS struct {
	Enabled            bool     `yaml:"Enabled"`
	PrivateKey         string   `yaml:"PrivateKey"`
	Certificate        string   `yaml:"Certificate"`
	RootCAs            []string `yaml:"RootCAs"`
	ClientAuthRequired bool     `yaml:"ClientAuthRequired"`
	ClientRootCAs      []string `yaml:"ClientRootCAs"`
}

// Cluster is the identity an orderer presents to other orderers. It must
// be the certificate listed as ClientTLSCert of its consenter entry.
type Cluster struct {
	ClientCertificate string `yaml:"ClientCertificate"`
	ClientPrivateKey  string `yaml:"ClientPrivateKey"`
	// SendBufferSize bounds the queue of consensus messages per remote.
	SendBufferSize int `yaml:"SendBufferSize"`
}

// FileLedger is where blocks and consensus state live.
type FileLedger struct {
	Location string `yaml:"Location"`
}

// Admin is the channel participation API listener; Fabric requires
// mutual TLS there whenever TLS is on.
type Admin struct {
	ListenAddress string `yaml:"ListenAddress"`
	TLS           TLS    `yaml:"TLS"`
	// AllowedClientCNs restricts the API to these client certificate
	// common names (a weft addition; empty means any certificate that
	// chains to Admin.TLS.ClientRootCAs, as in Fabric).
	AllowedClientCNs []string `yaml:"AllowedClientCNs"`
}

// Operations is the health/metrics/log-level endpoint.
type Operations struct {
	ListenAddress string `yaml:"ListenAddress"`
}

// ChannelParticipation configures the admin API.
type ChannelParticipation struct {
	Enabled            bool  `yaml:"Enabled"`
	MaxRequestBodySize int64 `yaml:"MaxRequestBodySize"`
}

// Consensus holds etcdraft settings that are local to a node.
type Consensus struct {
	// WALDir defaults to <FileLedger.Location>/etcdraft.
	WALDir string `yaml:"WALDir"`
	// SnapshotEvery is the number of Raft entries between snapshots.
	SnapshotEvery uint64 `yaml:"SnapshotEvery"`
}

// LoadConfig reads an orderer.yaml, applies ORDERER_* environment overrides
// from env (os.Environ() form), fills defaults and validates. Errors name
// the key.
func LoadConfig(path string, env []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("orderer config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("orderer config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if err := envconfig.Apply(&c, "ORDERER", env); err != nil {
		return nil, err
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("orderer config %s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.General.ListenAddress == "" {
		c.General.ListenAddress = "127.0.0.1"
	}
	if c.General.BootstrapMethod == "" {
		c.General.BootstrapMethod = "none"
	}
	if c.ChannelParticipation.MaxRequestBodySize == 0 {
		c.ChannelParticipation.MaxRequestBodySize = 1 << 20
	}
	if c.Consensus.WALDir == "" && c.FileLedger.Location != "" {
		c.Consensus.WALDir = filepath.Join(c.FileLedger.Location, "etcdraft")
	}
	if c.Consensus.SnapshotEvery == 0 {
		c.Consensus.SnapshotEvery = 1000
	}
	if c.General.Cluster.SendBufferSize == 0 {
		c.General.Cluster.SendBufferSize = 100
	}
}

// Validate checks the settings weft needs; every error names the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.General.ListenPort < 0 || c.General.ListenPort > 65535 {
		bad("General.ListenPort", "%d is not a port", c.General.ListenPort)
	}
	if !c.General.TLS.Enabled {
		bad("General.TLS.Enabled", "must be true: weft orderers only speak TLS")
	}
	for key, v := range map[string]string{
		"General.TLS.Certificate": c.General.TLS.Certificate, "General.TLS.PrivateKey": c.General.TLS.PrivateKey,
		"General.LocalMSPDir": c.General.LocalMSPDir, "General.LocalMSPID": c.General.LocalMSPID,
		"FileLedger.Location": c.FileLedger.Location,
	} {
		if v == "" {
			bad(key, "is required")
		}
	}
	if c.General.BootstrapMethod != "none" {
		bad("General.BootstrapMethod", "%q is not supported; use \"none\" and join channels with the participation API", c.General.BootstrapMethod)
	}
	if c.ChannelParticipation.Enabled {
		if c.Admin.ListenAddress == "" {
			bad("Admin.ListenAddress", "is required when ChannelParticipation.Enabled is true")
		}
		if !c.Admin.TLS.Enabled || !c.Admin.TLS.ClientAuthRequired {
			bad("Admin.TLS", "Enabled and ClientAuthRequired must both be true: the participation API needs mutual TLS")
		}
		if len(c.Admin.TLS.ClientRootCAs) == 0 {
			bad("Admin.TLS.ClientRootCAs", "is required: it says whose client certificates may administer channels")
		}
	}
	if c.ChannelParticipation.MaxRequestBodySize < 0 {
		bad("ChannelParticipation.MaxRequestBodySize", "must not be negative")
	}
	return errors.Join(errs...)
}

// path resolves a file name from the config against the config's folder.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

func (c *Config) paths(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = c.path(p)
	}
	return out
}
