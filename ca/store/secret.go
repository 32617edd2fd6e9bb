package store

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	secretScheme = "pbkdf2-sha256"
	// DefaultSecretIterations is HashSecret's PBKDF2 work factor. The count
	// is stored in each hash, so raising it later keeps old hashes valid.
	DefaultSecretIterations = 60000
	saltLen                 = 16
	keyLen                  = 32
	// maxIterations bounds the work a stored (possibly tampered) hash can
	// make CheckSecret do.
	maxIterations = 10_000_000
)

var b64 = base64.RawStdEncoding

// HashSecret returns "pbkdf2-sha256$<iterations>$<salt>$<key>" (salt and
// key unpadded standard base64) for secret, with a fresh random salt.
func HashSecret(secret string) (string, error) {
	return hashSecret(secret, DefaultSecretIterations)
}

func hashSecret(secret string, iter int) (string, error) {
	if secret == "" {
		return "", errors.New("secret: empty")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("secret: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, secret, salt, iter, keyLen)
	if err != nil {
		return "", fmt.Errorf("secret: pbkdf2: %w", err)
	}
	return secretScheme + "$" + strconv.Itoa(iter) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), nil
}

// CheckSecret reports whether secret matches hash. A malformed hash
// matches nothing.
func CheckSecret(hash, secret string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != secretScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxIterations || parts[1] != strconv.Itoa(iter) {
		return false
	}
	salt, err := b64.DecodeString(parts[2])
	if err != nil || len(salt) != saltLen {
		return false
	}
	want, err := b64.DecodeString(parts[3])
	// An exact length: a PBKDF2 key's prefix is the shorter key, so a
	// truncated hash would otherwise still verify.
	if err != nil || len(want) != keyLen {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, secret, salt, iter, keyLen)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}
