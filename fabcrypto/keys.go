package fabcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PrivateKeyFileMode is the permission every private key file is created with.
const PrivateKeyFileMode fs.FileMode = 0o600

// GenerateKey creates a P-256 key, the only curve cryptogen produces.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	return key, nil
}

// MarshalPrivateKeyPEM encodes key as PKCS#8 in a "PRIVATE KEY" PEM block,
// the form Fabric's keystore and fabric-ca-client read.
func MarshalPrivateKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	if key == nil {
		return nil, errors.New("marshal private key: key is nil")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM reads the first PEM block of data as a PKCS#8
// ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY") ECDSA key.
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parse private key: no PEM block found")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse private key: PKCS#8: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("parse private key: PKCS#8 holds %T, want an ECDSA key", k)
		}
		return ek, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse private key: SEC 1: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("parse private key: PEM block type %q, want \"PRIVATE KEY\" or \"EC PRIVATE KEY\"", block.Type)
	}
}

// ReadPrivateKeyFile loads a PEM private key from path.
func ReadPrivateKeyFile(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WritePrivateKeyFile writes key as PKCS#8 PEM to path. An existing file is
// removed first so the new one is always created with mode 0600: rewriting
// in place would keep whatever wider mode the old file had, and a chmod
// after writing would leave a window where the key is readable.
func WritePrivateKeyFile(path string, key *ecdsa.PrivateKey) error {
	data, err := MarshalPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write private key: replace %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, PrivateKeyFileMode)
	if err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write private key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write private key %s: %w", path, err)
	}
	return nil
}

// SKI is the subject key identifier Fabric uses for an ECDSA key: SHA-256
// over the uncompressed EC point (0x04 || X || Y).
func SKI(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil {
		return nil, errors.New("ski: public key is nil")
	}
	ek, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("ski: %w", err)
	}
	sum := sha256.Sum256(ek.Bytes())
	return sum[:], nil
}

// KeyFileName is the keystore file name Fabric's software BCCSP (and older
// cryptogen releases) give a private key: hex(SKI) + "_sk". Current
// cryptogen writes "priv_sk" instead; both are found by the "_sk" suffix.
func KeyFileName(pub *ecdsa.PublicKey) (string, error) {
	ski, err := SKI(pub)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(ski) + "_sk", nil
}
