package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"weft/peer/chaincode"
)

// ErrPackageNotFound is returned (wrapped) for package IDs that are not
// installed.
var ErrPackageNotFound = errors.New("chaincode install package not found")

// InstalledPackage names one installed package.
type InstalledPackage struct {
	ID    string
	Label string
}

// Store keeps installed chaincode packages in one directory, one file per
// package named after its ID. Because the ID contains the SHA-256 of the
// package, two different packages can never claim the same file.
type Store struct {
	dir string
	mu  sync.Mutex // serialises installs so concurrent ones of one package do not race on the rename
	// parsed caches Package results by ID. An ID names the package's exact
	// bytes (it contains their hash, checked when read), so a parse cannot
	// go stale; only packages read successfully are cached, which bounds
	// the cache by what is installed.
	parsed sync.Map // id → parsedPackage
}

// parsedPackage is a cached parse with the file's size and modification
// time when it was read: a file removed or rewritten since (an operator's
// doing, or corruption) is read again, so that Package reports it exactly
// as it would without the cache.
type parsedPackage struct {
	pkg     *chaincode.Package
	size    int64
	modTime time.Time
}

// packageIDRE is label ":" hex(sha256); labels follow Fabric's rule.
var packageIDRE = regexp.MustCompile(`^([[:alnum:]][[:alnum:]_.+-]*):([0-9a-f]{64})$`)

const packageFileSuffix = ".tar.gz"

// OpenStore opens (creating if needed) the package directory dir.
func OpenStore(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("package store: directory is empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("package store: %w", err)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) fileFor(id string) (string, error) {
	m := packageIDRE.FindStringSubmatch(id)
	if m == nil {
		return "", fmt.Errorf("package id %q: want <label>:<64 hex digits>", id)
	}
	// ':' is not portable in file names, so the hash follows a '.'.
	return filepath.Join(s.dir, m[1]+"."+m[2]+packageFileSuffix), nil
}

// Install parses pkg, rejecting malformed packages, and stores it. Installing
// the same bytes again is harmless and returns the same ID.
func (s *Store) Install(pkg []byte) (id, label string, err error) {
	p, err := chaincode.ParsePackage(pkg)
	if err != nil {
		return "", "", fmt.Errorf("could not parse as a chaincode install package: %w", err)
	}
	path, err := s.fileFor(p.ID)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return p.ID, p.Label, nil
	}
	tmp, err := os.CreateTemp(s.dir, ".install-*")
	if err != nil {
		return "", "", fmt.Errorf("package %s: %w", p.ID, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("package %s: %w", p.ID, err)
	}
	if _, err := tmp.Write(pkg); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("package %s: write: %w", p.ID, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("package %s: sync: %w", p.ID, err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("package %s: %w", p.ID, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", "", fmt.Errorf("package %s: %w", p.ID, err)
	}
	return p.ID, p.Label, nil
}

// Get returns the bytes of installed package id. A file whose content no
// longer hashes to the ID is reported as corrupt rather than served.
func (s *Store) Get(id string) ([]byte, error) {
	path, err := s.fileFor(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("package id %q: %w", id, ErrPackageNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("package id %q: %w", id, err)
	}
	sum := sha256.Sum256(b)
	if !strings.HasSuffix(id, ":"+hex.EncodeToString(sum[:])) {
		return nil, fmt.Errorf("package id %q: stored file %s is corrupt (hash mismatch)", id, path)
	}
	return b, nil
}

// Package returns installed package id parsed, e.g. for its connection.json.
// The endorser asks for every proposal, so the parse is cached; the result
// is shared and must not be modified.
func (s *Store) Package(id string) (*chaincode.Package, error) {
	if c, ok := s.parsed.Load(id); ok {
		c := c.(parsedPackage)
		if fi, err := s.stat(id); err == nil && fi.Size() == c.size && fi.ModTime().Equal(c.modTime) {
			return c.pkg, nil
		}
		s.parsed.Delete(id)
	}
	// Stat before reading: if the file changes in between, the cached
	// stamp is older than the content and the next call reads it again.
	fi, statErr := s.stat(id)
	b, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	p, err := chaincode.ParsePackage(b)
	if err != nil {
		return nil, fmt.Errorf("package id %q: %w", id, err)
	}
	if statErr == nil {
		s.parsed.Store(id, parsedPackage{pkg: p, size: fi.Size(), modTime: fi.ModTime()})
	}
	return p, nil
}

func (s *Store) stat(id string) (fs.FileInfo, error) {
	path, err := s.fileFor(id)
	if err != nil {
		return nil, err
	}
	return os.Stat(path)
}

// Has reports whether package id is installed.
func (s *Store) Has(id string) bool {
	path, err := s.fileFor(id)
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}

// List returns the installed packages sorted by ID.
func (s *Store) List() ([]InstalledPackage, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("package store: %w", err)
	}
	var out []InstalledPackage
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, packageFileSuffix) {
			continue
		}
		base := strings.TrimSuffix(name, packageFileSuffix)
		dot := strings.LastIndexByte(base, '.')
		if dot < 0 {
			continue
		}
		id := base[:dot] + ":" + base[dot+1:]
		m := packageIDRE.FindStringSubmatch(id)
		if m == nil {
			continue // not ours (e.g. an operator's stray file)
		}
		out = append(out, InstalledPackage{ID: id, Label: m[1]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
