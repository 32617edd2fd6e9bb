package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"
)

const identityColumns = `ca_name, name, secret_hash, type, affiliation, attributes,
	max_enrollments, enrollments, revoked, incorrect_attempts, version`

func checkIdentity(id *Identity) error {
	if id == nil {
		return errors.New("identity: nil")
	}
	if id.Name == "" {
		return errors.New("identity name: empty")
	}
	if !utf8.ValidString(id.Name) || !utf8.ValidString(id.Affiliation) {
		return fmt.Errorf("identity %q: name or affiliation is not valid UTF-8", id.Name)
	}
	if id.MaxEnrollments < -1 {
		return fmt.Errorf("identity %q: max enrollments %d: want -1 (unlimited) or >= 0", id.Name, id.MaxEnrollments)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func encodeAttrs(id *Identity) (string, error) {
	attrs := id.Attributes
	if attrs == nil {
		attrs = []Attribute{}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", fmt.Errorf("identity %q: attributes: %w", id.Name, err)
	}
	return string(b), nil
}

func (s *sqlStore) CreateIdentity(ctx context.Context, id *Identity) error {
	if err := checkIdentity(id); err != nil {
		return err
	}
	attrs, err := encodeAttrs(id)
	if err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING reports a duplicate as zero rows on both
	// dialects, without parsing driver-specific error codes.
	res, err := s.db.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (ca_name, name) DO NOTHING`,
		id.CAName, id.Name, id.SecretHash, id.Type, id.Affiliation, attrs,
		id.MaxEnrollments, id.Enrollments, boolInt(id.Revoked), id.IncorrectAttempts, id.Version)
	if err != nil {
		return fmt.Errorf("create identity %q: %w", id.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create identity %q: %w", id.Name, err)
	} else if n == 0 {
		return fmt.Errorf("identity %q: %w", id.Name, ErrExists)
	}
	return nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanIdentity(r rowScanner) (*Identity, error) {
	var id Identity
	var attrs string
	var revoked int
	if err := r.Scan(&id.CAName, &id.Name, &id.SecretHash, &id.Type, &id.Affiliation, &attrs,
		&id.MaxEnrollments, &id.Enrollments, &revoked, &id.IncorrectAttempts, &id.Version); err != nil {
		return nil, err
	}
	id.Revoked = revoked != 0
	if err := json.Unmarshal([]byte(attrs), &id.Attributes); err != nil {
		return nil, fmt.Errorf("identity %q: stored attributes: %w", id.Name, err)
	}
	return &id, nil
}

func (s *sqlStore) GetIdentity(ctx context.Context, caName, name string) (*Identity, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities
		WHERE ca_name = $1 AND name = $2`, caName, name)
	id, err := scanIdentity(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("identity %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", name, err)
	}
	return id, nil
}

func (s *sqlStore) UpdateIdentity(ctx context.Context, id *Identity) error {
	if err := checkIdentity(id); err != nil {
		return err
	}
	attrs, err := encodeAttrs(id)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE identities SET
		secret_hash = $1, type = $2, affiliation = $3, attributes = $4, max_enrollments = $5,
		enrollments = $6, revoked = $7, incorrect_attempts = $8, version = version + 1
		WHERE ca_name = $9 AND name = $10 AND version = $11`,
		id.SecretHash, id.Type, id.Affiliation, attrs, id.MaxEnrollments,
		id.Enrollments, boolInt(id.Revoked), id.IncorrectAttempts,
		id.CAName, id.Name, id.Version)
	if err != nil {
		return fmt.Errorf("update identity %q: %w", id.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update identity %q: %w", id.Name, err)
	}
	if n == 0 {
		// Tell a vanished identity from a lost race: callers retry only
		// the latter.
		if _, err := s.GetIdentity(ctx, id.CAName, id.Name); err != nil {
			return err
		}
		return fmt.Errorf("identity %q version %d: %w", id.Name, id.Version, ErrConflict)
	}
	id.Version++
	return nil
}

func (s *sqlStore) DeleteIdentity(ctx context.Context, caName, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM identities WHERE ca_name = $1 AND name = $2`, caName, name)
	if err != nil {
		return fmt.Errorf("delete identity %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete identity %q: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("identity %q: %w", name, ErrNotFound)
	}
	return nil
}

// belowClause matches column against affiliation prefix p: equal, or
// starting with p+".". substr/length count characters on both dialects
// and, unlike LIKE, treat '%' and '_' in names literally and compare case
// sensitively. It uses placeholders $n (p) and $n+1 (p+".") and $n+2 (the
// character length of p+".").
func belowClause(column string, n int) string {
	return fmt.Sprintf(`(%[1]s = $%[2]d OR substr(%[1]s, 1, $%[4]d) = $%[3]d)`, column, n, n+1, n+2)
}

func belowArgs(p string) []any {
	return []any{p, p + ".", utf8.RuneCountInString(p) + 1}
}

func (s *sqlStore) ListIdentities(ctx context.Context, caName, prefix string) ([]Identity, error) {
	q := `SELECT ` + identityColumns + ` FROM identities WHERE ca_name = $1`
	args := []any{caName}
	if prefix != "" {
		q += ` AND ` + belowClause("affiliation", 2)
		args = append(args, belowArgs(prefix)...)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list identities under %q: %w", prefix, err)
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("list identities under %q: %w", prefix, err)
		}
		out = append(out, *id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list identities under %q: %w", prefix, err)
	}
	// Sort here: PostgreSQL's ORDER BY follows the database collation,
	// SQLite's is bytewise; callers should not see the difference.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
