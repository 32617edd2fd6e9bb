package fabcrypto

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPrivateKeyPEM(t *testing.T) {
	key := mustKey(t)
	pkcs8, err := MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pkcs8), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("PEM header = %q", strings.SplitN(string(pkcs8), "\n", 2)[0])
	}
	secDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: secDER})
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	ed := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})

	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"pkcs8", pkcs8, ""},
		{"sec1", sec1, ""},
		{"not pem", []byte("hello"), "no PEM block"},
		{"wrong type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "PEM block type"},
		{"bad pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}), "PKCS#8"},
		{"ed25519", ed, "want an ECDSA key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Fatal("parsed key differs from the original")
			}
		})
	}
}

func TestWritePrivateKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	key := mustKey(t)
	fresh := filepath.Join(dir, "priv_sk")
	// A pre-existing world-readable file must not keep its mode.
	stale := filepath.Join(dir, "stale_sk")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, stale} {
		if err := WritePrivateKeyFile(p, key); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode = %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
		back, err := ReadPrivateKeyFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Equal(key) {
			t.Fatal("key read back differs")
		}
	}
	if err := WritePrivateKeyFile(filepath.Join(dir, "missing", "k"), key); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if err := WritePrivateKeyFile(filepath.Join(dir, "nil"), nil); err == nil {
		t.Fatal("writing a nil key succeeded")
	}
}

func TestSKIAndKeyFileName(t *testing.T) {
	key := mustKey(t)
	point := make([]byte, 65)
	point[0] = 4
	key.X.FillBytes(point[1:33])
	key.Y.FillBytes(point[33:])
	want := sha256.Sum256(point)

	ski, err := SKI(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(ski) != hex.EncodeToString(want[:]) {
		t.Fatalf("SKI = %x, want %x", ski, want)
	}
	name, err := KeyFileName(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}_sk$`).MatchString(name) || name != hex.EncodeToString(want[:])+"_sk" {
		t.Fatalf("KeyFileName = %q", name)
	}
	if _, err := SKI(nil); err == nil {
		t.Fatal("SKI(nil) succeeded")
	}
	if _, err := KeyFileName((*ecdsa.PublicKey)(nil)); err == nil {
		t.Fatal("KeyFileName(nil) succeeded")
	}
}
