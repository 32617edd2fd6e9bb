package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// checkAffiliation accepts dotted names with non-empty segments.
func checkAffiliation(field, name string) error {
	if name == "" {
		return fmt.Errorf("%s: empty", field)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%s %q: not valid UTF-8", field, name)
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" {
			return fmt.Errorf("%s %q: empty segment (leading, trailing or doubled '.')", field, name)
		}
	}
	return nil
}

// parents returns the ancestors of a dotted name, outermost first:
// "a.b.c" -> ["a", "a.b"].
func parents(name string) []string {
	var out []string
	for i := range len(name) {
		if name[i] == '.' {
			out = append(out, name[:i])
		}
	}
	return out
}

// lockCA serialises affiliation tree changes of one CA. SQLite needs
// nothing: every transaction takes the database write lock at BEGIN.
func (s *sqlStore) lockCA(ctx context.Context, tx *sql.Tx, caName string) error {
	if s.driver != DriverPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "weft-ca-affiliations/"+caName); err != nil {
		return fmt.Errorf("lock affiliations of CA %q: %w", caName, err)
	}
	return nil
}

// insertAffiliations adds names, skipping ones that exist, and reports
// how many were new.
func insertAffiliations(ctx context.Context, tx *sql.Tx, caName string, names ...string) (int64, error) {
	var added int64
	for _, n := range names {
		res, err := tx.ExecContext(ctx, `INSERT INTO affiliations (ca_name, name) VALUES ($1, $2)
			ON CONFLICT (ca_name, name) DO NOTHING`, caName, n)
		if err != nil {
			return added, fmt.Errorf("add affiliation %q: %w", n, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return added, fmt.Errorf("add affiliation %q: %w", n, err)
		}
		added += k
	}
	return added, nil
}

// AddAffiliation creates name and any missing ancestors ("a.b.c" also
// creates "a" and "a.b"), so a configured tree can be loaded in any order.
func (s *sqlStore) AddAffiliation(ctx context.Context, caName, name string) error {
	if err := checkAffiliation("affiliation", name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockCA(ctx, tx, caName); err != nil {
			return err
		}
		if _, err := insertAffiliations(ctx, tx, caName, parents(name)...); err != nil {
			return err
		}
		n, err := insertAffiliations(ctx, tx, caName, name)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("affiliation %q: %w", name, ErrExists)
		}
		return nil
	})
}

func (s *sqlStore) ListAffiliations(ctx context.Context, caName string) ([]string, error) {
	return listAffiliations(ctx, s.db, caName, "")
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// listAffiliations returns the sorted affiliations at or below prefix
// ("" = all).
func listAffiliations(ctx context.Context, q querier, caName, prefix string) ([]string, error) {
	query := `SELECT name FROM affiliations WHERE ca_name = $1`
	args := []any{caName}
	if prefix != "" {
		query += ` AND ` + belowClause("name", 2)
		args = append(args, belowArgs(prefix)...)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list affiliations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list affiliations: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list affiliations: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// DeleteAffiliation does not touch certificates: with force the caller
// (the CA server) lists the affected identities first and revokes their
// certificates itself, as that needs CA policy the store does not have.
func (s *sqlStore) DeleteAffiliation(ctx context.Context, caName, name string, force bool) error {
	if err := checkAffiliation("affiliation", name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockCA(ctx, tx, caName); err != nil {
			return err
		}
		tree, err := listAffiliations(ctx, tx, caName, name)
		if err != nil {
			return err
		}
		if len(tree) == 0 || tree[0] != name {
			return fmt.Errorf("affiliation %q: %w", name, ErrNotFound)
		}
		if !force {
			if len(tree) > 1 {
				return fmt.Errorf("affiliation %q has sub-affiliation %q: %w", name, tree[1], ErrInUse)
			}
			var ids int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM identities
				WHERE ca_name = $1 AND affiliation = $2`, caName, name).Scan(&ids); err != nil {
				return fmt.Errorf("count identities in %q: %w", name, err)
			}
			if ids > 0 {
				return fmt.Errorf("affiliation %q has %d identities: %w", name, ids, ErrInUse)
			}
		}
		args := append([]any{caName}, belowArgs(name)...)
		if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE ca_name = $1 AND `+belowClause("affiliation", 2), args...); err != nil {
			return fmt.Errorf("delete identities under %q: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM affiliations WHERE ca_name = $1 AND `+belowClause("name", 2), args...); err != nil {
			return fmt.Errorf("delete affiliation %q: %w", name, err)
		}
		return nil
	})
}

// RenameAffiliation moves name and its subtree under newName, creating
// newName's missing ancestors, and rewrites the identities' affiliations
// (bumping their Version, so a concurrent UpdateIdentity cannot put the
// old affiliation back).
func (s *sqlStore) RenameAffiliation(ctx context.Context, caName, name, newName string) error {
	if err := checkAffiliation("affiliation", name); err != nil {
		return err
	}
	if err := checkAffiliation("new affiliation", newName); err != nil {
		return err
	}
	if newName == name || strings.HasPrefix(newName, name+".") {
		return fmt.Errorf("new affiliation %q: must not be %q or below it", newName, name)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockCA(ctx, tx, caName); err != nil {
			return err
		}
		tree, err := listAffiliations(ctx, tx, caName, name)
		if err != nil {
			return err
		}
		if len(tree) == 0 || tree[0] != name {
			return fmt.Errorf("affiliation %q: %w", name, ErrNotFound)
		}
		// Check the whole target subtree first so a clash cannot leave a
		// half-moved tree (the transaction would roll back, but the error
		// should name the clash, not a primary key).
		moved := make([]string, len(tree))
		for i, old := range tree {
			moved[i] = newName + old[len(name):]
		}
		existing, err := listAffiliations(ctx, tx, caName, newName)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return fmt.Errorf("new affiliation %q: %w", existing[0], ErrExists)
		}
		args := append([]any{caName}, belowArgs(name)...)
		if _, err := tx.ExecContext(ctx, `DELETE FROM affiliations WHERE ca_name = $1 AND `+belowClause("name", 2), args...); err != nil {
			return fmt.Errorf("rename affiliation %q: %w", name, err)
		}
		if _, err := insertAffiliations(ctx, tx, caName, parents(newName)...); err != nil {
			return err
		}
		if _, err := insertAffiliations(ctx, tx, caName, moved...); err != nil {
			return err
		}
		// affiliation = newName || (the rest after name); CAST keeps
		// PostgreSQL from guessing the parameter's type.
		args = append(args, newName, utf8.RuneCountInString(name)+1)
		if _, err := tx.ExecContext(ctx, `UPDATE identities
			SET affiliation = CAST($5 AS TEXT) || substr(affiliation, $6), version = version + 1
			WHERE ca_name = $1 AND `+belowClause("affiliation", 2), args...); err != nil {
			return fmt.Errorf("move identities from %q to %q: %w", name, newName, err)
		}
		return nil
	})
}
