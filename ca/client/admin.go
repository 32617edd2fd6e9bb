package client

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Attribute is a name/value pair stored with an identity; ECert ones go
// into its enrollment certificates by default.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	ECert bool   `json:"ecert,omitempty"`
}

// RegistrationRequest describes a new identity.
type RegistrationRequest struct {
	Name string
	// Type is the identity type, stamped as an OU (client, peer, admin,
	// orderer); empty means the registrar's type.
	Type string
	// Secret empty lets the CA generate one.
	Secret      string
	Affiliation string
	Attributes  []Attribute
	// MaxEnrollments 0 means the CA's default, -1 unlimited.
	MaxEnrollments int
}

type registerNet struct {
	ID             string      `json:"id"`
	Type           string      `json:"type,omitempty"`
	Secret         string      `json:"secret,omitempty"`
	MaxEnrollments int         `json:"max_enrollments,omitempty"`
	Affiliation    string      `json:"affiliation"`
	Attributes     []Attribute `json:"attrs,omitempty"`
	CAName         string      `json:"caname,omitempty"`
}

func (c *Client) registerBody(req RegistrationRequest) registerNet {
	return registerNet{ID: req.Name, Type: req.Type, Secret: req.Secret, MaxEnrollments: req.MaxEnrollments,
		Affiliation: req.Affiliation, Attributes: req.Attributes, CAName: c.CAName}
}

// Register creates an identity and returns its enrollment secret.
func (c *Client) Register(ctx context.Context, registrar *Signer, req RegistrationRequest) (string, error) {
	if req.Name == "" {
		return "", errors.New("register: identity name is empty")
	}
	var res struct {
		Secret string `json:"secret"`
	}
	if err := c.do(ctx, "POST", "register", nil, c.registerBody(req), registrar.auth(), &res); err != nil {
		return "", err
	}
	return res.Secret, nil
}

// RevocationRequest names what to revoke: every certificate of Name, or
// the single certificate Serial+AKI (hex).
type RevocationRequest struct {
	Name   string
	Serial string
	AKI    string
	// Reason is an RFC 5280 reason word, e.g. "keycompromise".
	Reason string
	GenCRL bool
}

type revokeNet struct {
	ID     string `json:"id,omitempty"`
	Serial string `json:"serial,omitempty"`
	AKI    string `json:"aki,omitempty"`
	Reason string `json:"reason,omitempty"`
	GenCRL bool   `json:"gencrl,omitempty"`
	CAName string `json:"caname,omitempty"`
}

// RevokedCert identifies one revoked certificate (hex serial and AKI).
type RevokedCert struct {
	Serial string
	AKI    string
}

// RevokeResponse lists what was revoked; CRL is the PEM CRL when one was
// asked for.
type RevokeResponse struct {
	RevokedCerts []RevokedCert
	CRL          []byte
}

// Revoke revokes an identity's certificates or one certificate.
func (c *Client) Revoke(ctx context.Context, registrar *Signer, req RevocationRequest) (*RevokeResponse, error) {
	if req.Name == "" && (req.Serial == "" || req.AKI == "") {
		return nil, errors.New("revoke: give the identity name, or both serial and AKI")
	}
	body := revokeNet{ID: req.Name, Serial: req.Serial, AKI: req.AKI, Reason: req.Reason, GenCRL: req.GenCRL, CAName: c.CAName}
	var res RevokeResponse
	if err := c.do(ctx, "POST", "revoke", nil, body, registrar.auth(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CRLFilter limits which revoked certificates a generated CRL lists; zero
// times are left out.
type CRLFilter struct {
	RevokedAfter, RevokedBefore time.Time
	ExpireAfter, ExpireBefore   time.Time
}

type genCRLNet struct {
	CAName        string     `json:"caname,omitempty"`
	RevokedAfter  *time.Time `json:"revokedafter,omitempty"`
	RevokedBefore *time.Time `json:"revokedbefore,omitempty"`
	ExpireAfter   *time.Time `json:"expireafter,omitempty"`
	ExpireBefore  *time.Time `json:"expirebefore,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// GenCRL asks the CA for a PEM CRL of its revoked, unexpired certificates.
func (c *Client) GenCRL(ctx context.Context, registrar *Signer, f CRLFilter) ([]byte, error) {
	body := genCRLNet{CAName: c.CAName, RevokedAfter: timePtr(f.RevokedAfter), RevokedBefore: timePtr(f.RevokedBefore),
		ExpireAfter: timePtr(f.ExpireAfter), ExpireBefore: timePtr(f.ExpireBefore)}
	var res struct{ CRL []byte }
	if err := c.do(ctx, "POST", "gencrl", nil, body, registrar.auth(), &res); err != nil {
		return nil, err
	}
	if len(res.CRL) == 0 {
		return nil, fmt.Errorf("CA gencrl: response holds no CRL")
	}
	return res.CRL, nil
}
