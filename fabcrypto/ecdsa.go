package fabcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// Errors returned by Verify; callers can match them with errors.Is.
var (
	ErrMalformedSignature = errors.New("malformed ECDSA signature")
	ErrHighS              = errors.New("ECDSA signature is not in low-S form")
	ErrBadSignature       = errors.New("ECDSA signature does not verify")
)

// ecdsaSig is the ASN.1 SEQUENCE{INTEGER r, INTEGER s} Fabric exchanges.
type ecdsaSig struct {
	R, S *big.Int
}

// Sign hashes msg with SHA-256 and signs it with key. Fabric uses SHA-256
// for its SHA2 family whatever the curve, so the digest is fixed here.
func Sign(key *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	return SignDigest(key, digest[:])
}

// SignDigest signs an already computed digest, returning low-S DER.
func SignDigest(key *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	if key == nil {
		return nil, errors.New("sign: private key is nil")
	}
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	s = toLowS(key.Curve, s)
	der, err := asn1.Marshal(ecdsaSig{R: r, S: s})
	if err != nil {
		return nil, fmt.Errorf("sign: encode signature: %w", err)
	}
	return der, nil
}

// Verify checks a DER signature over SHA-256(msg) the way a Fabric peer
// does, including its refusal of high-S signatures.
func Verify(pub *ecdsa.PublicKey, msg, sig []byte) error {
	digest := sha256.Sum256(msg)
	return VerifyDigest(pub, digest[:], sig)
}

// VerifyDigest is Verify for an already computed digest.
func VerifyDigest(pub *ecdsa.PublicKey, digest, sig []byte) error {
	if pub == nil || pub.Curve == nil {
		return errors.New("verify: public key is nil")
	}
	r, s, err := UnmarshalSignature(sig)
	if err != nil {
		return err
	}
	n := pub.Curve.Params().N
	if r.Sign() <= 0 || r.Cmp(n) >= 0 {
		return fmt.Errorf("%w: r is out of range [1, n-1]", ErrMalformedSignature)
	}
	if s.Sign() <= 0 || s.Cmp(n) >= 0 {
		return fmt.Errorf("%w: s is out of range [1, n-1]", ErrMalformedSignature)
	}
	if !isLowS(pub.Curve, s) {
		return fmt.Errorf("%w: s is greater than n/2", ErrHighS)
	}
	if !ecdsa.Verify(pub, digest, r, s) {
		return ErrBadSignature
	}
	return nil
}

// UnmarshalSignature decodes a DER (r, s) pair, refusing trailing bytes and
// any encoding that does not re-encode to the same bytes, so a signature has
// exactly one accepted byte form.
func UnmarshalSignature(sig []byte) (r, s *big.Int, err error) {
	var v ecdsaSig
	rest, err := asn1.Unmarshal(sig, &v)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformedSignature, err)
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes after DER sequence", ErrMalformedSignature, len(rest))
	}
	if v.R == nil || v.S == nil {
		return nil, nil, fmt.Errorf("%w: missing r or s", ErrMalformedSignature)
	}
	again, err := asn1.Marshal(v)
	if err != nil || string(again) != string(sig) {
		return nil, nil, fmt.Errorf("%w: non-canonical DER encoding", ErrMalformedSignature)
	}
	return v.R, v.S, nil
}

// MarshalSignature encodes (r, s) as DER without touching S.
func MarshalSignature(r, s *big.Int) ([]byte, error) {
	if r == nil || s == nil {
		return nil, errors.New("marshal signature: r or s is nil")
	}
	return asn1.Marshal(ecdsaSig{R: r, S: s})
}

// IsLowS reports whether the DER signature sig has s <= n/2 for pub's curve.
func IsLowS(pub *ecdsa.PublicKey, sig []byte) (bool, error) {
	if pub == nil || pub.Curve == nil {
		return false, errors.New("is low-S: public key is nil")
	}
	_, s, err := UnmarshalSignature(sig)
	if err != nil {
		return false, err
	}
	return isLowS(pub.Curve, s), nil
}

// ToLowS rewrites a DER signature into low-S form (s -> n-s when s > n/2).
// Signatures already in low-S form come back byte-identical.
func ToLowS(pub *ecdsa.PublicKey, sig []byte) ([]byte, error) {
	if pub == nil || pub.Curve == nil {
		return nil, errors.New("to low-S: public key is nil")
	}
	r, s, err := UnmarshalSignature(sig)
	if err != nil {
		return nil, err
	}
	if isLowS(pub.Curve, s) {
		return sig, nil
	}
	return MarshalSignature(r, toLowS(pub.Curve, s))
}

func halfOrder(c elliptic.Curve) *big.Int {
	return new(big.Int).Rsh(c.Params().N, 1)
}

func isLowS(c elliptic.Curve, s *big.Int) bool {
	return s.Cmp(halfOrder(c)) <= 0
}

func toLowS(c elliptic.Curve, s *big.Int) *big.Int {
	if isLowS(c, s) {
		return s
	}
	return new(big.Int).Sub(c.Params().N, s)
}
