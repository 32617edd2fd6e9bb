// Package peer starts a weft peer from a configuration file in the shape
// of Fabric's core.yaml: the Endorser, Gateway and Deliver gRPC services on
// one TLS listener, chaincode-as-a-service connections and the operations
// endpoint.
package peer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"weft/node/envconfig"
)

// Config mirrors the parts of Fabric's core.yaml weft implements, with the
// same key names, so CORE_PEER_* environment overrides carry over.
type Config struct {
	Peer       Peer       `yaml:"peer"`
	Chaincode  Chaincode  `yaml:"chaincode"`
	Operations Operations `yaml:"operations"`

	dir string
}

// Peer is the peer section.
type Peer struct {
	ID            string  `yaml:"id"`
	ListenAddress string  `yaml:"listenAddress"`
	Address       string  `yaml:"address"`
	TLS           PeerTLS `yaml:"tls"`
	MSPConfigPath string  `yaml:"mspConfigPath"`
	LocalMSPID    string  `yaml:"localMspId"`
	// FileSystemPath holds ledgers and installed chaincode packages.
	FileSystemPath string  `yaml:"fileSystemPath"`
	Gateway        Gateway `yaml:"gateway"`
	Gossip         Gossip  `yaml:"gossip"`
	// Profile.Enabled serves Go's profiler on the operations endpoint
	// (Fabric serves it on profile.listenAddress; weft has one listener).
	Profile Profile `yaml:"profile"`
}

// Profile switches the profiler on.
type Profile struct {
	Enabled bool `yaml:"enabled"`
}

// PeerTLS is the listener's TLS, with Fabric's nested file keys.
type PeerTLS struct {
	Enabled            bool     `yaml:"enabled"`
	ClientAuthRequired bool     `yaml:"clientAuthRequired"`
	Cert               File     `yaml:"cert"`
	Key                File     `yaml:"key"`
	RootCert           File     `yaml:"rootcert"`
	ClientRootCAs      FileList `yaml:"clientRootCAs"`
}

// File is a {file: path} node as in core.yaml.
type File struct {
	File string `yaml:"file"`
}

// FileList is a {files: [paths]} node as in core.yaml.
type FileList struct {
	Files []string `yaml:"files"`
}

// Gateway configures the Fabric Gateway service.
type Gateway struct {
	Enabled            bool          `yaml:"enabled"`
	EndorsementTimeout time.Duration `yaml:"endorsementTimeout"`
	// DialTimeout bounds connecting to another peer (default 5s, shorter
	// than Fabric's 2m so that a dead peer leaves time to try another).
	DialTimeout time.Duration `yaml:"dialTimeout"`
}

// Chaincode holds chaincode execution settings.
type Chaincode struct {
	ExecuteTimeout time.Duration `yaml:"executetimeout"`
}

// Operations is the health/metrics endpoint.
type Operations struct {
	ListenAddress string `yaml:"listenAddress"`
}

// LoadConfig reads a core.yaml, applies CORE_* environment overrides,
// fills defaults and validates; errors name the key.
func LoadConfig(path string, env []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("peer config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("peer config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if err := envconfig.Apply(&c, "CORE", env); err != nil {
		return nil, err
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("peer config %s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.Peer.ListenAddress == "" {
		c.Peer.ListenAddress = "127.0.0.1:7051"
	}
	if c.Peer.Address == "" {
		c.Peer.Address = c.Peer.ListenAddress
	}
	if c.Chaincode.ExecuteTimeout == 0 {
		c.Chaincode.ExecuteTimeout = 30 * time.Second
	}
	if c.Peer.Gateway.EndorsementTimeout == 0 {
		c.Peer.Gateway.EndorsementTimeout = 30 * time.Second
	}
	c.Peer.Gossip.setDefaults(c.Peer.Address)
}

// Validate checks the settings weft needs; every error names the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Peer.ID == "" {
		bad("peer.id", "is required")
	}
	if !c.Peer.TLS.Enabled {
		bad("peer.tls.enabled", "must be true: weft peers only speak TLS")
	}
	for key, v := range map[string]string{
		"peer.tls.cert.file": c.Peer.TLS.Cert.File, "peer.tls.key.file": c.Peer.TLS.Key.File,
		"peer.mspConfigPath": c.Peer.MSPConfigPath, "peer.localMspId": c.Peer.LocalMSPID,
		"peer.fileSystemPath": c.Peer.FileSystemPath,
	} {
		if v == "" {
			bad(key, "is required")
		}
	}
	if c.Peer.TLS.ClientAuthRequired && len(c.Peer.TLS.ClientRootCAs.Files) == 0 {
		bad("peer.tls.clientRootCAs.files", "is required when peer.tls.clientAuthRequired is true")
	}
	c.Peer.Gossip.validate(bad)
	if c.Peer.Gateway.DialTimeout < 0 {
		bad("peer.gateway.dialTimeout", "must not be negative")
	}
	if c.Chaincode.ExecuteTimeout < 0 {
		bad("chaincode.executetimeout", "must not be negative")
	}
	return errors.Join(errs...)
}

func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
