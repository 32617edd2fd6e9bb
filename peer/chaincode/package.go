package chaincode

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// Package is a parsed chaincode install package.
type Package struct {
	Label string
	Type  string // as written in metadata.json
	Path  string
	// Connection is set for CCaaS packages (type "ccaas" or "external").
	Connection *Connection
	// ID is the package ID, also the ccid the chaincode must register with.
	ID string
}

// IsCCaaS tells whether the package describes a chaincode server the peer dials.
func (p *Package) IsCCaaS() bool { return isCCaaSType(p.Type) }

// Size limits guard against decompression bombs; real packages are far smaller.
const (
	maxPackageEntry   = 64 << 20
	maxPackageEntries = 10000
)

var labelRE = regexp.MustCompile(`^[[:alnum:]][[:alnum:]_.+-]*$`)

// PackageID is the identifier Fabric derives for an installed package: the
// label and the SHA-256 of the whole package file.
func PackageID(label string, pkg []byte) string {
	sum := sha256.Sum256(pkg)
	return label + ":" + hex.EncodeToString(sum[:])
}

type packageMetadata struct {
	Type  string `json:"type"`
	Label string `json:"label"`
	Path  string `json:"path"`
}

// knownTypes are the package types Fabric's builders understand.
var knownTypes = map[string]bool{"ccaas": true, "external": true, "golang": true, "node": true, "java": true, "car": true}

func isCCaaSType(t string) bool {
	t = strings.ToLower(t)
	return t == "ccaas" || t == "external"
}

// ParsePackage parses an install package: a gzip'd tar holding metadata.json
// and code.tar.gz. For CCaaS packages code.tar.gz must hold connection.json.
func ParsePackage(pkg []byte) (*Package, error) {
	files, err := readTarGz(pkg, map[string]bool{"metadata.json": true, "code.tar.gz": true})
	if err != nil {
		return nil, fmt.Errorf("chaincode package: %w", err)
	}
	mdBytes, ok := files["metadata.json"]
	if !ok {
		return nil, errors.New("chaincode package: missing metadata.json")
	}
	code, ok := files["code.tar.gz"]
	if !ok {
		return nil, errors.New("chaincode package: missing code.tar.gz")
	}
	var md packageMetadata
	if err := json.Unmarshal(mdBytes, &md); err != nil {
		return nil, fmt.Errorf("chaincode package: metadata.json: %w", err)
	}
	if !labelRE.MatchString(md.Label) {
		return nil, fmt.Errorf("chaincode package: metadata.json: label %q must match %s", md.Label, labelRE)
	}
	if md.Type == "" {
		return nil, errors.New("chaincode package: metadata.json: type is empty")
	}
	if !knownTypes[strings.ToLower(md.Type)] {
		return nil, fmt.Errorf("chaincode package: metadata.json: type %q is not supported (want ccaas, external, golang, node, java or car)", md.Type)
	}
	p := &Package{Label: md.Label, Type: md.Type, Path: md.Path, ID: PackageID(md.Label, pkg)}
	if !isCCaaSType(md.Type) {
		return p, nil
	}
	inner, err := readTarGz(code, nil)
	if err != nil {
		return nil, fmt.Errorf("chaincode package: code.tar.gz: %w", err)
	}
	cj, ok := inner["connection.json"]
	if !ok {
		return nil, fmt.Errorf("chaincode package: code.tar.gz: missing connection.json (required for type %q)", md.Type)
	}
	conn, err := ParseConnection(cj)
	if err != nil {
		return nil, fmt.Errorf("chaincode package: code.tar.gz: %w", err)
	}
	p.Connection = conn
	return p, nil
}

// readTarGz returns the regular files of a gzip'd tar by name. When keep is
// non-nil only those names are kept (others are still checked).
func readTarGz(data []byte, keep map[string]bool) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a gzip stream: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for n := 0; ; n++ {
		if n >= maxPackageEntries {
			return nil, fmt.Errorf("more than %d tar entries", maxPackageEntries)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			continue
		default:
			return nil, fmt.Errorf("tar entry %q is not a regular file (type %q)", hdr.Name, hdr.Typeflag)
		}
		if hdr.Size > maxPackageEntry {
			return nil, fmt.Errorf("tar entry %q: size %d exceeds %d bytes", hdr.Name, hdr.Size, maxPackageEntry)
		}
		if keep != nil && !keep[name] {
			continue
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("tar entry %q appears twice", hdr.Name)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxPackageEntry+1))
		if err != nil {
			return nil, fmt.Errorf("tar entry %q: %w", hdr.Name, err)
		}
		files[name] = b
	}
	return files, nil
}

// cleanEntryName rejects names that would escape a directory they were
// extracted into and normalises "./x" to "x".
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", errors.New("tar entry with an empty name")
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("tar entry %q: absolute or backslash path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("tar entry %q: path traversal", name)
		}
	}
	return strings.TrimSuffix(path.Clean(name), "/"), nil
}
