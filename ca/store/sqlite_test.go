package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, driver, dsn, want string
	}{
		{"unknown driver", "mysql", "x", `db.type: unknown database type "mysql"`},
		{"empty driver", "", "x", "db.type: empty"},
		{"case matters", "SQLite", "x", `db.type: unknown database type "SQLite"`},
		{"sqlite empty path", DriverSQLite, "", "db.datasource: empty"},
		{"sqlite query in path", DriverSQLite, filepath.Join(dir, "a.db?mode=ro"), "must not contain '?'"},
		{"sqlite missing dir", DriverSQLite, filepath.Join(dir, "no", "such", "a.db"), "db.datasource: create SQLite file"},
		{"postgres empty dsn", DriverPostgres, "", "db.datasource: empty"},
		{"postgres bad dsn", DriverPostgres, "postgres://%zz", "db.datasource"},
	} {
		s, err := Open(ctx, tc.driver, tc.dsn)
		if err == nil {
			s.Close()
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %q, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestSQLiteFileAndPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ca.db")
	s, err := Open(ctx, DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UseToken(ctx, "ca", []byte("t"), testNow); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	db := s.(*sqlStore).db
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
}

func TestSQLiteSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ca.db")
	s, err := Open(ctx, DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	db := s.(*sqlStore).db
	var v int
	if err := db.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema version: %d, %v; want %d", v, err, schemaVersion)
	}
	if _, err := db.ExecContext(ctx, "UPDATE schema_version SET version = $1", schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, DriverSQLite, path); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	} else if !strings.Contains(err.Error(), "newer than") {
		t.Fatalf("newer schema: got %v", err)
	}
}

// TestSQLiteKilled: a write acknowledged before the process dies with
// SIGKILL (no Close, no deferred cleanup) is there after reopening. The
// test binary re-runs itself as the writer.
func TestSQLiteKilled(t *testing.T) {
	if path := os.Getenv("WEFT_STORE_KILL_WRITER"); path != "" {
		ctx := context.Background()
		s, err := Open(ctx, DriverSQLite, path)
		if err != nil {
			os.Exit(3)
		}
		if err := s.UseToken(ctx, "ca", []byte("before-kill"), testNow); err != nil {
			os.Exit(4)
		}
		if err := s.CreateIdentity(ctx, newIdentity("ca", "killed", "")); err != nil {
			os.Exit(5)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	path := filepath.Join(t.TempDir(), "ca.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteKilled$")
	cmd.Env = append(os.Environ(), "WEFT_STORE_KILL_WRITER="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer: got %v, want death by SIGKILL", err)
	}
	ctx := context.Background()
	s, err := Open(ctx, DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UseToken(ctx, "ca", []byte("before-kill"), testNow); !errors.Is(err, ErrReplay) {
		t.Fatalf("token written before kill: got %v, want ErrReplay", err)
	}
	if _, err := s.GetIdentity(ctx, "ca", "killed"); err != nil {
		t.Fatalf("identity written before kill: %v", err)
	}
}
