package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// IdentityInfo is an identity as the CA stores it. Secret is set only in
// replies that carry one (add, modify with a new secret).
type IdentityInfo struct {
	ID             string      `json:"id"`
	Type           string      `json:"type"`
	Affiliation    string      `json:"affiliation"`
	Attributes     []Attribute `json:"attrs"`
	MaxEnrollments int         `json:"max_enrollments"`
	Secret         string      `json:"secret,omitempty"`
	CAName         string      `json:"caname,omitempty"`
}

// ListIdentities returns the identities the registrar may see.
func (c *Client) ListIdentities(ctx context.Context, registrar *Signer) ([]IdentityInfo, error) {
	var res struct {
		Identities []IdentityInfo `json:"identities"`
	}
	if err := c.do(ctx, "GET", "identities", c.caQuery(nil), nil, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return res.Identities, nil
}

func identityPath(id string) (string, error) {
	if id == "" {
		return "", errors.New("identity name is empty")
	}
	return "identities/" + url.PathEscape(id), nil
}

// GetIdentity returns one identity.
func (c *Client) GetIdentity(ctx context.Context, registrar *Signer, id string) (*IdentityInfo, error) {
	p, err := identityPath(id)
	if err != nil {
		return nil, fmt.Errorf("get identity: %w", err)
	}
	var res IdentityInfo
	if err := c.do(ctx, "GET", p, c.caQuery(nil), nil, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// AddIdentity is Register through the identities endpoint; it returns
// the secret.
func (c *Client) AddIdentity(ctx context.Context, registrar *Signer, req RegistrationRequest) (string, error) {
	if req.Name == "" {
		return "", errors.New("add identity: identity name is empty")
	}
	var res IdentityInfo
	if err := c.do(ctx, "POST", "identities", nil, c.registerBody(req), registrar.auth(), &res); err != nil {
		return "", err
	}
	return res.Secret, nil
}

// ModifyIdentityRequest changes an identity; empty fields stay as they are.
// An attribute with an empty value is removed.
type ModifyIdentityRequest struct {
	Type           string      `json:"type,omitempty"`
	Affiliation    string      `json:"affiliation,omitempty"`
	Attributes     []Attribute `json:"attrs,omitempty"`
	MaxEnrollments int         `json:"max_enrollments,omitempty"`
	Secret         string      `json:"secret,omitempty"`
	CAName         string      `json:"caname,omitempty"`
}

// ModifyIdentity updates identity id and returns it as stored afterwards.
func (c *Client) ModifyIdentity(ctx context.Context, registrar *Signer, id string, req ModifyIdentityRequest) (*IdentityInfo, error) {
	p, err := identityPath(id)
	if err != nil {
		return nil, fmt.Errorf("modify identity: %w", err)
	}
	req.CAName = c.CAName
	var res IdentityInfo
	if err := c.do(ctx, "PUT", p, nil, req, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// RemoveIdentity deletes identity id; force lets a registrar remove
// itself. The CA must allow removals.
func (c *Client) RemoveIdentity(ctx context.Context, registrar *Signer, id string, force bool) (*IdentityInfo, error) {
	p, err := identityPath(id)
	if err != nil {
		return nil, fmt.Errorf("remove identity: %w", err)
	}
	var res IdentityInfo
	if err := c.do(ctx, "DELETE", p, c.caQuery(forceQuery(force)), nil, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func forceQuery(force bool) url.Values {
	if !force {
		return nil
	}
	return url.Values{"force": {strconv.FormatBool(force)}}
}

// AffiliationInfo is a node of the affiliation tree.
type AffiliationInfo struct {
	Name         string            `json:"name"`
	Affiliations []AffiliationInfo `json:"affiliations,omitempty"`
	Identities   []IdentityInfo    `json:"identities,omitempty"`
}

func affiliationPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("affiliation name is empty")
	}
	return "affiliations/" + url.PathEscape(name), nil
}

// ListAffiliations returns the affiliation tree the registrar may see.
func (c *Client) ListAffiliations(ctx context.Context, registrar *Signer) (*AffiliationInfo, error) {
	var res AffiliationInfo
	if err := c.do(ctx, "GET", "affiliations", c.caQuery(nil), nil, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// GetAffiliation returns one affiliation and what lies below it.
func (c *Client) GetAffiliation(ctx context.Context, registrar *Signer, name string) (*AffiliationInfo, error) {
	return c.affiliationCall(ctx, "get affiliation", "GET", registrar, name, "", false)
}

// AddAffiliation creates an affiliation; force creates missing parents.
func (c *Client) AddAffiliation(ctx context.Context, registrar *Signer, name string, force bool) (*AffiliationInfo, error) {
	if name == "" {
		return nil, errors.New("add affiliation: affiliation name is empty")
	}
	body := struct {
		Name   string `json:"name"`
		Force  bool   `json:"force,omitempty"`
		CAName string `json:"caname,omitempty"`
	}{name, force, c.CAName}
	var res AffiliationInfo
	if err := c.do(ctx, "POST", "affiliations", forceQuery(force), body, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ModifyAffiliation renames an affiliation; force also moves identities
// that belong to it.
func (c *Client) ModifyAffiliation(ctx context.Context, registrar *Signer, name, newName string, force bool) (*AffiliationInfo, error) {
	if newName == "" {
		return nil, errors.New("modify affiliation: new name is empty")
	}
	return c.affiliationCall(ctx, "modify affiliation", "PUT", registrar, name, newName, force)
}

// RemoveAffiliation deletes an affiliation; force also removes what lies
// below it. The CA must allow removals.
func (c *Client) RemoveAffiliation(ctx context.Context, registrar *Signer, name string, force bool) (*AffiliationInfo, error) {
	return c.affiliationCall(ctx, "remove affiliation", "DELETE", registrar, name, "", force)
}

func (c *Client) affiliationCall(ctx context.Context, what, method string, registrar *Signer, name, newName string, force bool) (*AffiliationInfo, error) {
	p, err := affiliationPath(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var body any
	q := c.caQuery(forceQuery(force))
	if method == "PUT" {
		body = struct {
			Name   string `json:"name"`
			Force  bool   `json:"force,omitempty"`
			CAName string `json:"caname,omitempty"`
		}{newName, force, c.CAName}
	}
	var res AffiliationInfo
	if err := c.do(ctx, method, p, q, body, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CertificateFilter selects certificates; time bounds take RFC 3339 times
// or the CA's relative forms such as "-30d".
type CertificateFilter struct {
	ID, AKI, Serial          string
	RevokedStart, RevokedEnd string
	ExpiredStart, ExpiredEnd string
	NotRevoked, NotExpired   bool
}

func (f CertificateFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("id", f.ID)
	set("aki", f.AKI)
	set("serial", f.Serial)
	set("revoked_start", f.RevokedStart)
	set("revoked_end", f.RevokedEnd)
	set("expired_start", f.ExpiredStart)
	set("expired_end", f.ExpiredEnd)
	if f.NotRevoked {
		q.Set("notrevoked", "true")
	}
	if f.NotExpired {
		q.Set("notexpired", "true")
	}
	return q
}

// ListCertificates returns the PEM certificates matching f.
func (c *Client) ListCertificates(ctx context.Context, registrar *Signer, f CertificateFilter) ([][]byte, error) {
	var res struct {
		Certs []json.RawMessage `json:"certs"`
	}
	if err := c.do(ctx, "GET", "certificates", c.caQuery(f.query()), nil, registrar.auth(), &res); err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(res.Certs))
	for i, raw := range res.Certs {
		// fabric-ca-server sends {"PEM": "..."} objects; a bare string
		// is accepted too.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var obj struct{ PEM string }
			if err := json.Unmarshal(raw, &obj); err != nil {
				return nil, fmt.Errorf("CA certificates: certs[%d]: %w", i, err)
			}
			s = obj.PEM
		}
		out = append(out, []byte(s))
	}
	return out, nil
}
