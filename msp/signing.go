package msp

import (
	"errors"
	"fmt"

	"weft/fabcrypto"
)

// SigningIdentity is an identity together with the key that signs for it.
type SigningIdentity struct {
	*Identity
	Signer fabcrypto.Signer
}

// Sign returns a low-S ECDSA signature over SHA-256(msg).
func (s *SigningIdentity) Sign(msg []byte) ([]byte, error) {
	if s == nil || s.Signer == nil {
		return nil, errors.New("sign: signing identity has no signer")
	}
	sig, err := s.Signer.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("sign as %s: %w", s.Identity, err)
	}
	return sig, nil
}

// Serialize returns the marshaled SerializedIdentity used as creator.
func (s *SigningIdentity) Serialize() []byte {
	if s == nil || s.Identity == nil {
		return nil
	}
	return s.Serialized
}
