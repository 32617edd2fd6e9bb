package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations[i] brings the schema from version i to i+1. Append only:
// a released step must never change, databases in the field ran it.
// "{blob}" stands for the dialect's binary type. Times are Unix
// microseconds (BIGINT), which both dialects store and compare alike and
// which reach past year 9999 (X.509's "no expiry" date).
var migrations = [][]string{
	{
		`CREATE TABLE identities (
			ca_name            TEXT    NOT NULL,
			name               TEXT    NOT NULL,
			secret_hash        TEXT    NOT NULL,
			type               TEXT    NOT NULL,
			affiliation        TEXT    NOT NULL,
			attributes         TEXT    NOT NULL,
			max_enrollments    INTEGER NOT NULL,
			enrollments        INTEGER NOT NULL,
			revoked            INTEGER NOT NULL,
			incorrect_attempts INTEGER NOT NULL,
			version            INTEGER NOT NULL,
			PRIMARY KEY (ca_name, name))`,
		`CREATE INDEX identities_affiliation ON identities (ca_name, affiliation)`,
		`CREATE TABLE affiliations (
			ca_name TEXT NOT NULL,
			name    TEXT NOT NULL,
			PRIMARY KEY (ca_name, name))`,
		`CREATE TABLE certificates (
			ca_name    TEXT    NOT NULL,
			serial     TEXT    NOT NULL,
			aki        TEXT    NOT NULL,
			id         TEXT    NOT NULL,
			status     TEXT    NOT NULL,
			reason     INTEGER NOT NULL,
			not_before BIGINT  NOT NULL,
			expiry     BIGINT  NOT NULL,
			revoked_at BIGINT  NOT NULL,
			pem        {blob}  NOT NULL,
			PRIMARY KEY (ca_name, serial, aki))`,
		`CREATE INDEX certificates_id ON certificates (ca_name, id)`,
		`CREATE TABLE used_tokens (
			ca_name TEXT   NOT NULL,
			hash    {blob} NOT NULL,
			seen    BIGINT NOT NULL,
			PRIMARY KEY (ca_name, hash))`,
	},
}

// schemaVersion is the version this code writes and understands.
var schemaVersion = len(migrations)

// migrate creates or upgrades the schema in one transaction, so a crash
// mid-way leaves the previous version intact.
func (s *sqlStore) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.driver == DriverPostgres {
			// Two servers starting against an empty database would
			// otherwise both try to create the tables.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7302191)`); err != nil {
				return fmt.Errorf("lock for migration: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var have int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&have)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("init schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read schema_version: %w", err)
		}
		if have > schemaVersion {
			return fmt.Errorf("database is at schema version %d, newer than the %d this weft understands", have, schemaVersion)
		}
		if have < 0 {
			return fmt.Errorf("schema_version: corrupt value %d", have)
		}
		for v := have; v < schemaVersion; v++ {
			for _, stmt := range migrations[v] {
				stmt = strings.ReplaceAll(stmt, "{blob}", s.blobType())
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migrate to version %d: %w", v+1, err)
				}
			}
		}
		if have != schemaVersion {
			if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = $1`, schemaVersion); err != nil {
				return fmt.Errorf("write schema_version: %w", err)
			}
		}
		return nil
	})
}
