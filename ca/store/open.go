package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/lib/pq"  // registers the "postgres" database/sql driver
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Driver names accepted by Open (the CA config's db.type).
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// sqlStore implements Store on database/sql. All SQL uses $n placeholders
// and types both SQLite and PostgreSQL accept; the few differences live
// in the dialect fields.
type sqlStore struct {
	db     *sql.DB
	driver string
}

// Open connects to (creating if need be) the database and brings its
// schema up to date. driver is "sqlite" (dsn: a file path; the file is
// created with mode 0600 because it holds secret hashes) or "postgres"
// (dsn: a libpq URL or key=value string).
func Open(ctx context.Context, driver, dsn string) (Store, error) {
	var db *sql.DB
	var err error
	switch driver {
	case DriverSQLite:
		db, err = openSQLite(dsn)
	case DriverPostgres:
		db, err = openPostgres(dsn)
	case "":
		return nil, errors.New("db.type: empty; want \"sqlite\" or \"postgres\"")
	default:
		return nil, fmt.Errorf("db.type: unknown database type %q; want \"sqlite\" or \"postgres\"", driver)
	}
	if err != nil {
		return nil, err
	}
	s := &sqlStore{db: db, driver: driver}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("db.datasource: connect to %s database: %w", driver, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s database schema: %w", driver, err)
	}
	return s, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("db.datasource: empty; want the SQLite file path")
	}
	// The driver reads its own options after '?', so a path containing
	// one would be silently truncated.
	if strings.ContainsAny(path, "?\x00") {
		return nil, fmt.Errorf("db.datasource: SQLite path %q must not contain '?' or NUL", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("db.datasource: %q: %w", path, err)
	}
	// Create the file ourselves so it never exists with a wider mode;
	// SQLite gives its -wal and -shm files the main file's mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db.datasource: create SQLite file: %w", err)
	}
	f.Close()
	// WAL lets readers run beside the one writer; synchronous=FULL syncs
	// the WAL on every commit so an acknowledged write (a used token, an
	// issued certificate) is on disk before we answer. _txlock=immediate
	// takes the write lock at BEGIN, where busy_timeout applies, instead
	// of failing with SQLITE_BUSY when a read transaction later upgrades.
	dsn := abs + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db.datasource: open SQLite %q: %w", abs, err)
	}
	return db, nil
}

func openPostgres(dsn string) (*sql.DB, error) {
	if dsn == "" {
		return nil, errors.New("db.datasource: empty; want a PostgreSQL URL or key=value string")
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		// Do not echo dsn: it usually carries the password.
		return nil, fmt.Errorf("db.datasource: open PostgreSQL: %w", err)
	}
	return db, nil
}

func (s *sqlStore) Close() error { return s.db.Close() }

// blobType is the binary column type; the only DDL difference.
func (s *sqlStore) blobType() string {
	if s.driver == DriverPostgres {
		return "BYTEA"
	}
	return "BLOB"
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *sqlStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
