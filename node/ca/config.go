// Package ca runs weft's certificate authority node: Fabric CA's REST API
// (weft/ca/server) on one HTTPS listener, configured by a file in the
// spirit of fabric-ca-server-config.yaml, with an operations endpoint
// (/healthz, /metrics). `weft node ca --config FILE` starts it.
package ca

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"weft/node/envconfig"
)

// Config is the CA node's configuration file. Keys follow
// fabric-ca-server-config.yaml where weft implements the same thing. Every
// key is omitempty so the tools that write a config (weft up, the
// Kubernetes renderer) marshal this type and produce only what they set.
type Config struct {
	Port    int    `yaml:"port,omitempty"`
	Address string `yaml:"address,omitempty"`
	TLS     TLS    `yaml:"tls,omitempty"`
	DB      DB     `yaml:"db,omitempty"`
	// Registry holds defaults for every CA's registry.
	Registry   Registry   `yaml:"registry,omitempty"`
	Cfg        Cfg        `yaml:"cfg,omitempty"`
	CRL        CRL        `yaml:"crl,omitempty"`
	Operations Operations `yaml:"operations,omitempty"`
	// CAs are the hosted CAs; the first is the default one.
	CAs []CA `yaml:"cas,omitempty"`

	dir string
}

// TLS configures the API listener. When enabled and certfile/keyfile do
// not exist, a server certificate for Hosts is issued by the first CA and
// written there.
type TLS struct {
	Enabled    bool       `yaml:"enabled,omitempty"`
	CertFile   string     `yaml:"certfile,omitempty"`
	KeyFile    string     `yaml:"keyfile,omitempty"`
	Hosts      []string   `yaml:"hosts,omitempty"`
	ClientAuth ClientAuth `yaml:"clientauth,omitempty"`
}

// ClientAuth: type is NoClientCert (default), RequestClientCert,
// RequireAnyClientCert, VerifyClientCertIfGiven or
// RequireAndVerifyClientCert; certfiles are the accepted client roots.
type ClientAuth struct {
	Type      string   `yaml:"type,omitempty"`
	CertFiles []string `yaml:"certfiles,omitempty"`
}

// DB selects the store: sqlite (datasource: file) or postgres
// (datasource: libpq connection string).
type DB struct {
	Type       string `yaml:"type,omitempty"`
	Datasource string `yaml:"datasource,omitempty"`
}

// Registry: maxenrollments (-1 unlimited, 0 disables enrollment) and the
// bootstrap identities.
type Registry struct {
	MaxEnrollments *int       `yaml:"maxenrollments,omitempty"`
	Identities     []Identity `yaml:"identities,omitempty"`
}

// Identity is a bootstrap identity. The secret comes from pass, or the
// environment variable passenv, or the file passfile (first line). An
// identity without attrs is a full registrar (every hf.* right).
type Identity struct {
	Name           string            `yaml:"name,omitempty"`
	Pass           string            `yaml:"pass,omitempty"`
	PassEnv        string            `yaml:"passenv,omitempty"`
	PassFile       string            `yaml:"passfile,omitempty"`
	Type           string            `yaml:"type,omitempty"`
	Affiliation    string            `yaml:"affiliation,omitempty"`
	MaxEnrollments *int              `yaml:"maxenrollments,omitempty"`
	Attrs          map[string]string `yaml:"attrs,omitempty"`
}

// Cfg mirrors fabric-ca-server's cfg section.
type Cfg struct {
	Identities struct {
		PasswordAttempts int  `yaml:"passwordattempts,omitempty"`
		AllowRemove      bool `yaml:"allowremove,omitempty"`
	} `yaml:"identities,omitempty"`
	Affiliations struct {
		AllowRemove bool `yaml:"allowremove,omitempty"`
	} `yaml:"affiliations,omitempty"`
}

// CRL: expiry is how long a generated CRL is valid (default 24h).
type CRL struct {
	Expiry time.Duration `yaml:"expiry,omitempty"`
}

// Operations: listenAddress serves /healthz and /metrics when set.
type Operations struct {
	ListenAddress string `yaml:"listenAddress,omitempty"`
}

// CA is one hosted CA. keyfile/certfile default to <name>/ca-key.pem and
// <name>/ca-cert.pem; when neither exists a self-signed root is generated
// from csr and written there. chainfile holds the parent certificates of
// an intermediate CA.
type CA struct {
	Name      string `yaml:"name,omitempty"`
	KeyFile   string `yaml:"keyfile,omitempty"`
	CertFile  string `yaml:"certfile,omitempty"`
	ChainFile string `yaml:"chainfile,omitempty"`
	CSR       CSR    `yaml:"csr,omitempty"`
	// Registry overrides the top-level registry for this CA.
	Registry *Registry `yaml:"registry,omitempty"`
	// Affiliations are created on the CA's first start: a map of names to
	// lists of children, or to nested maps.
	Affiliations map[string]any `yaml:"affiliations,omitempty"`
}

// CSR describes a generated root.
type CSR struct {
	CN    string    `yaml:"cn,omitempty"`
	Names []CSRName `yaml:"names,omitempty"`
	// Expiry of the root (default 15 years, as Fabric CA).
	Expiry time.Duration `yaml:"expiry,omitempty"`
}

// CSRName is one set of subject fields.
type CSRName struct {
	C  string `yaml:"C"`
	ST string `yaml:"ST"`
	L  string `yaml:"L"`
	O  string `yaml:"O"`
	OU string `yaml:"OU"`
}

// LoadConfig reads path and applies FABRIC_CA_SERVER_* overrides from env
// (scalar keys only, e.g. FABRIC_CA_SERVER_PORT, FABRIC_CA_SERVER_TLS_ENABLED).
func LoadConfig(path string, env []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("CA config %s: %w", path, err)
	}
	var scalarEnv []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		// Lists and maps cannot come from one variable.
		if k != "FABRIC_CA_SERVER_CAS" && !strings.HasPrefix(k, "FABRIC_CA_SERVER_REGISTRY_") &&
			k != "FABRIC_CA_SERVER_TLS_HOSTS" && !strings.HasPrefix(k, "FABRIC_CA_SERVER_TLS_CLIENTAUTH_CERTFILES") {
			scalarEnv = append(scalarEnv, kv)
		}
	}
	if err := envconfig.Apply(&c, "FABRIC_CA_SERVER", scalarEnv); err != nil {
		return nil, fmt.Errorf("CA config: %w", err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("CA config: %w", err)
	}
	c.dir = abs
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("CA config %s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.Port == 0 {
		c.Port = 7054
	}
	if c.DB.Type == "" {
		c.DB.Type = "sqlite"
	}
	if c.DB.Type == "sqlite" && c.DB.Datasource == "" {
		c.DB.Datasource = "fabric-ca-server.db"
	}
	if c.CRL.Expiry == 0 {
		c.CRL.Expiry = 24 * time.Hour
	}
	for i := range c.CAs {
		ca := &c.CAs[i]
		if ca.KeyFile == "" {
			ca.KeyFile = filepath.Join(ca.Name, "ca-key.pem")
		}
		if ca.CertFile == "" {
			ca.CertFile = filepath.Join(ca.Name, "ca-cert.pem")
		}
	}
	if c.TLS.Enabled {
		if c.TLS.CertFile == "" {
			c.TLS.CertFile = "tls-cert.pem"
		}
		if c.TLS.KeyFile == "" {
			c.TLS.KeyFile = "tls-key.pem"
		}
		if len(c.TLS.Hosts) == 0 {
			c.TLS.Hosts = []string{"localhost", "127.0.0.1"}
		}
	}
}

// Validate reports the first problems found, naming their keys.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port", "%d is not a TCP port", c.Port)
	}
	if c.DB.Type != "sqlite" && c.DB.Type != "postgres" {
		bad("db.type", "%q is not one of sqlite, postgres", c.DB.Type)
	}
	if c.DB.Datasource == "" {
		bad("db.datasource", "empty")
	}
	if _, ok := clientAuthTypes[c.TLS.ClientAuth.Type]; !ok {
		bad("tls.clientauth.type", "%q is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert", c.TLS.ClientAuth.Type)
	}
	if c.TLS.ClientAuth.Type == "RequireAndVerifyClientCert" || c.TLS.ClientAuth.Type == "VerifyClientCertIfGiven" {
		if len(c.TLS.ClientAuth.CertFiles) == 0 {
			bad("tls.clientauth.certfiles", "required by clientauth type %s", c.TLS.ClientAuth.Type)
		}
	}
	if c.CRL.Expiry < 0 {
		bad("crl.expiry", "%s is negative", c.CRL.Expiry)
	}
	if c.Cfg.Identities.PasswordAttempts < -1 {
		bad("cfg.identities.passwordattempts", "%d is below -1", c.Cfg.Identities.PasswordAttempts)
	}
	if len(c.CAs) == 0 {
		bad("cas", "at least one CA is required")
	}
	names := map[string]bool{}
	for i, ca := range c.CAs {
		key := fmt.Sprintf("cas[%d]", i)
		if ca.Name == "" {
			bad(key+".name", "empty")
		} else if names[ca.Name] {
			bad(key+".name", "%q is used twice", ca.Name)
		}
		names[ca.Name] = true
		if _, err := affiliationNames(ca.Affiliations); err != nil {
			bad(key+".affiliations", "%v", err)
		}
		reg := c.registryOf(i)
		if reg.MaxEnrollments != nil && *reg.MaxEnrollments < -1 {
			bad(key+".registry.maxenrollments", "%d is below -1", *reg.MaxEnrollments)
		}
		for j, id := range reg.Identities {
			ik := fmt.Sprintf("%s.registry.identities[%d]", key, j)
			if id.Name == "" {
				bad(ik+".name", "empty")
			}
			set := 0
			for _, s := range []string{id.Pass, id.PassEnv, id.PassFile} {
				if s != "" {
					set++
				}
			}
			if set != 1 {
				bad(ik, "exactly one of pass, passenv, passfile is required")
			}
		}
	}
	return errors.Join(errs...)
}

// registryOf is the CA's own registry or the top-level one.
func (c *Config) registryOf(i int) Registry {
	if c.CAs[i].Registry != nil {
		r := *c.CAs[i].Registry
		if r.MaxEnrollments == nil {
			r.MaxEnrollments = c.Registry.MaxEnrollments
		}
		if len(r.Identities) == 0 {
			r.Identities = c.Registry.Identities
		}
		return r
	}
	return c.Registry
}

func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// affiliationNames flattens the affiliations map into dotted names.
func affiliationNames(m map[string]any) ([]string, error) {
	var out []string
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		out = append(out, prefix)
		switch c := v.(type) {
		case nil:
		case []any:
			for _, item := range c {
				s, ok := item.(string)
				if !ok || s == "" || strings.Contains(s, ".") {
					return fmt.Errorf("%s: child %v is not a plain name", prefix, item)
				}
				out = append(out, prefix+"."+s)
			}
		case map[string]any:
			for k, sub := range c {
				if k == "" || strings.Contains(k, ".") {
					return fmt.Errorf("%s: child %q is not a plain name", prefix, k)
				}
				if err := walk(prefix+"."+k, sub); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s: %v is neither a list nor a map", prefix, v)
		}
		return nil
	}
	for k, v := range m {
		if k == "" || strings.Contains(k, ".") {
			return nil, fmt.Errorf("%q is not a plain name", k)
		}
		if err := walk(k, v); err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}
