// Package store keeps a certificate authority's registrations, issued
// certificates and used authentication tokens in a SQL database: an embedded
// pure-Go SQLite file by default, PostgreSQL for production. Every record is
// scoped by CA name so one database can back the several CAs one server
// hosts (a signing CA and a TLS CA per org).
//
// Secrets are never stored: only HashSecret's salted, slow hash is.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: no identity/affiliation/certificate with that key.
	ErrNotFound = errors.New("not found")
	// ErrExists: an identity or affiliation with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: UpdateIdentity lost a race (Version changed underneath).
	ErrConflict = errors.New("concurrent update")
	// ErrReplay: UseToken saw that token hash before.
	ErrReplay = errors.New("token already used")
	// ErrInUse: an affiliation still has identities or sub-affiliations and
	// the caller did not ask for a forced delete.
	ErrInUse = errors.New("in use")
)

// Attribute is one identity attribute; ECert marks attributes added to
// enrollment certificates by default (Fabric CA's "ecert" flag).
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	ECert bool   `json:"ecert,omitempty"`
}

// Identity is one registration.
type Identity struct {
	CAName         string
	Name           string
	SecretHash     string // HashSecret output; never the secret itself
	Type           string // client, peer, orderer, admin, user, ...
	Affiliation    string // dotted path, "" = root
	Attributes     []Attribute
	MaxEnrollments int // -1 unlimited; 0 means the identity may not enroll
	Enrollments    int // successful enrollments so far
	// Revoked identities keep their row so revocation is final and visible.
	Revoked           bool
	IncorrectAttempts int
	// Version increments on every UpdateIdentity; an update whose Version is
	// not the stored one fails with ErrConflict.
	Version int
}

// Certificate is one issued certificate.
type Certificate struct {
	CAName    string
	ID        string // enrollment id it was issued to
	Serial    string // lower-case hex, no leading zeros
	AKI       string // lower-case hex authority key identifier
	Status    string // "good" or "revoked"
	Reason    int    // RFC 5280 reason code when revoked
	NotBefore time.Time
	Expiry    time.Time
	RevokedAt time.Time // zero unless revoked
	PEM       []byte
}

// CertFilter selects certificates; zero fields match everything.
type CertFilter struct {
	ID          string
	Serial      string
	AKI         string
	Revoked     *bool // nil: both; true: only revoked; false: only good
	ExpiredOnly bool
	NotExpired  bool
	Now         time.Time // reference time for the expiry filters
	// RevokedAfter/RevokedBefore bound RevokedAt (CRL generation windows).
	RevokedAfter  time.Time
	RevokedBefore time.Time
}

// Store is what the CA server needs from its database. Implementations
// are safe for concurrent use.
type Store interface {
	CreateIdentity(ctx context.Context, id *Identity) error // ErrExists
	GetIdentity(ctx context.Context, caName, name string) (*Identity, error)
	// UpdateIdentity writes id if its Version matches, then bumps Version.
	UpdateIdentity(ctx context.Context, id *Identity) error
	DeleteIdentity(ctx context.Context, caName, name string) error
	// ListIdentities returns identities whose affiliation equals prefix or
	// is below it ("" = all), ordered by name.
	ListIdentities(ctx context.Context, caName, affiliationPrefix string) ([]Identity, error)

	AddAffiliation(ctx context.Context, caName, name string) error // ErrExists
	// ListAffiliations returns all affiliation names, sorted.
	ListAffiliations(ctx context.Context, caName string) ([]string, error)
	// DeleteAffiliation removes name and, with force, everything below it
	// (sub-affiliations and their identities); without force it fails with
	// ErrInUse when anything is below it.
	DeleteAffiliation(ctx context.Context, caName, name string, force bool) error
	// RenameAffiliation moves name (and everything below it) to newName.
	RenameAffiliation(ctx context.Context, caName, name, newName string) error

	PutCertificate(ctx context.Context, c *Certificate) error
	ListCertificates(ctx context.Context, caName string, f CertFilter) ([]Certificate, error)
	// RevokeCertificates marks matching good certificates revoked with
	// reason at time at, and returns the ones it changed.
	RevokeCertificates(ctx context.Context, caName string, f CertFilter, reason int, at time.Time) ([]Certificate, error)

	// UseToken records hash of an authentication token; a second use of
	// the same hash fails with ErrReplay, also across restarts.
	UseToken(ctx context.Context, caName string, hash []byte, seen time.Time) error

	Close() error
}
