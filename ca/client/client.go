// Package client talks to Fabric-CA-compatible servers (weft's own CA or
// Hyperledger fabric-ca-server) over their REST API, and writes what an
// enrollment returns as a Fabric MSP folder.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// apiPrefix is where fabric-ca-server mounts its endpoints.
const apiPrefix = "/api/v1/"

// maxResponse bounds what is read from a server; certificate listings are
// the largest replies and stay far below it.
const maxResponse = 64 << 20

// Client is a connection to one CA server. The zero HTTP field means a
// client built from TLS with a 30 s timeout.
type Client struct {
	// URL is the server's base, e.g. https://localhost:7054, without
	// credentials.
	URL string
	// CAName selects one CA of a multi-CA server; empty means its default.
	CAName string
	// TLS is used for https URLs when HTTP is nil.
	TLS *tls.Config
	// HTTP overrides the transport entirely.
	HTTP *http.Client
}

// ServerError is a failure reported by the CA: an HTTP status with the
// first entry of the response's "errors" list.
type ServerError struct {
	Endpoint   string
	HTTPStatus int
	Code       int
	Message    string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("CA %s: HTTP %d: error %d: %s", e.Endpoint, e.HTTPStatus, e.Code, e.Message)
}

// LoadTLSConfig trusts the certificates of the given PEM files. No files
// means the system roots.
func LoadTLSConfig(pemFiles ...string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(pemFiles) == 0 {
		return conf, nil
	}
	pool := x509.NewCertPool()
	for _, f := range pemFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("TLS root file: %w", err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("TLS root file %s: no PEM certificate in it", f)
		}
	}
	conf.RootCAs = pool
	return conf, nil
}

// ParseURL splits a fabric-ca-client style URL
// (https://id:secret@host:port) into the server base and the credentials.
func ParseURL(raw string) (base, id, secret string, err error) {
	if raw == "" {
		return "", "", "", errors.New("URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", "", fmt.Errorf("URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", "", "", fmt.Errorf("URL %q: host is missing", raw)
	}
	if u.User != nil {
		id = u.User.Username()
		secret, _ = u.User.Password()
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/"), id, secret, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: c.TLS}}
}

// authFunc adds credentials to a request whose body is already fixed.
type authFunc func(req *http.Request, body []byte) error

// envelope is the wrapper every fabric-ca response uses.
type envelope struct {
	Result json.RawMessage `json:"result"`
	Errors []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Success bool `json:"success"`
}

// do sends one request to endpoint (relative to /api/v1/) and decodes the
// envelope's result into out when out is not nil.
func (c *Client) do(ctx context.Context, method, endpoint string, query url.Values, in any, auth authFunc, out any) error {
	base, _, _, err := ParseURL(c.URL)
	if err != nil {
		return fmt.Errorf("CA %s: client %w", endpoint, err)
	}
	target := base + apiPrefix + endpoint
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("CA %s: encode request: %w", endpoint, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("CA %s: %w", endpoint, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != nil {
		if err := auth(req, body); err != nil {
			return fmt.Errorf("CA %s: %w", endpoint, err)
		}
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("CA %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("CA %s: read response: %w", endpoint, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode >= 400 {
			return &ServerError{Endpoint: endpoint, HTTPStatus: resp.StatusCode, Message: snippet(raw)}
		}
		return fmt.Errorf("CA %s: HTTP %d: response is not JSON: %q", endpoint, resp.StatusCode, snippet(raw))
	}
	if !env.Success || resp.StatusCode >= 400 {
		se := &ServerError{Endpoint: endpoint, HTTPStatus: resp.StatusCode, Message: "request failed without an error message"}
		if len(env.Errors) > 0 {
			se.Code, se.Message = env.Errors[0].Code, env.Errors[0].Message
		}
		return se
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("CA %s: decode result: %w", endpoint, err)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// caQuery is the query string GET and DELETE requests use to pick the CA,
// merged with extra parameters.
func (c *Client) caQuery(extra url.Values) url.Values {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if c.CAName != "" {
		q.Set("ca", c.CAName)
	}
	return q
}
