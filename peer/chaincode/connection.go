package chaincode

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"weft/comm"
)

// DefaultConnDialTimeout applies when connection.json gives no dial_timeout,
// as in Fabric.
const DefaultConnDialTimeout = 3 * time.Second

// Connection says how the peer reaches a chaincode server (connection.json).
type Connection struct {
	Address            string
	DialTimeout        time.Duration
	TLSRequired        bool
	ClientAuthRequired bool
	ClientKey          []byte // PEM
	ClientCert         []byte // PEM
	RootCert           []byte // PEM: CA that signed the chaincode server's certificate
	// Domain overrides the TLS server name. Like Fabric it is only honoured
	// together with client_auth_required.
	Domain string
}

type connectionJSON struct {
	Address            string          `json:"address"`
	Domain             string          `json:"domain,omitempty"`
	DialTimeout        json.RawMessage `json:"dial_timeout,omitempty"`
	TLSRequired        bool            `json:"tls_required"`
	ClientAuthRequired bool            `json:"client_auth_required"`
	ClientKey          string          `json:"client_key,omitempty"`
	ClientCert         string          `json:"client_cert,omitempty"`
	RootCert           string          `json:"root_cert,omitempty"`
}

// ParseConnection decodes and checks connection.json.
func ParseConnection(data []byte) (*Connection, error) {
	var cj connectionJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cj); err != nil {
		return nil, fmt.Errorf("connection.json: %w", err)
	}
	c := &Connection{
		Address:            cj.Address,
		Domain:             cj.Domain,
		TLSRequired:        cj.TLSRequired,
		ClientAuthRequired: cj.ClientAuthRequired,
		ClientKey:          []byte(cj.ClientKey),
		ClientCert:         []byte(cj.ClientCert),
		RootCert:           []byte(cj.RootCert),
	}
	d, err := parseDialTimeout(cj.DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("connection.json: dial_timeout: %w", err)
	}
	c.DialTimeout = d
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("connection.json: %w", err)
	}
	return c, nil
}

// parseDialTimeout accepts a Go duration string ("10s") or a number of
// nanoseconds, the two forms Fabric accepts.
func parseDialTimeout(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return DefaultConnDialTimeout, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return DefaultConnDialTimeout, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		if d <= 0 {
			return 0, fmt.Errorf("%q must be positive", s)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%s is neither a duration string nor a number of nanoseconds", raw)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%d must be positive", n)
	}
	return time.Duration(n), nil
}

// Validate checks the fields needed to dial.
func (c *Connection) Validate() error {
	if c.Address == "" {
		return errors.New("address is empty")
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return fmt.Errorf("address %q: %w", c.Address, err)
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("dial_timeout %s is negative", c.DialTimeout)
	}
	if !c.TLSRequired {
		return nil
	}
	if len(c.RootCert) == 0 {
		return errors.New("root_cert is required when tls_required is true")
	}
	if c.ClientAuthRequired && (len(c.ClientKey) == 0 || len(c.ClientCert) == 0) {
		return errors.New("client_key and client_cert are required when client_auth_required is true")
	}
	return nil
}

// MarshalJSON writes connection.json in the form Fabric reads.
func (c Connection) MarshalJSON() ([]byte, error) {
	cj := connectionJSON{
		Address:            c.Address,
		Domain:             c.Domain,
		TLSRequired:        c.TLSRequired,
		ClientAuthRequired: c.ClientAuthRequired,
		ClientKey:          string(c.ClientKey),
		ClientCert:         string(c.ClientCert),
		RootCert:           string(c.RootCert),
	}
	if c.DialTimeout > 0 {
		cj.DialTimeout = json.RawMessage(`"` + c.DialTimeout.String() + `"`)
	}
	return json.Marshal(cj)
}

// tlsConfig returns nil for plaintext connections.
func (c *Connection) tlsConfig() (*tls.Config, error) {
	if !c.TLSRequired {
		return nil, nil
	}
	var cert, key []byte
	serverName := ""
	if c.ClientAuthRequired {
		cert, key = c.ClientCert, c.ClientKey
		serverName = c.Domain
	}
	conf, err := comm.ClientTLSConfig(cert, key, [][]byte{c.RootCert}, serverName)
	if err != nil {
		return nil, fmt.Errorf("chaincode server %s: TLS: %w", c.Address, err)
	}
	return conf, nil
}
