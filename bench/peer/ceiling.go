package peer

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"weft/fabcrypto"
)

// Shape is what one transaction costs in ECDSA operations across the
// pipeline, per node role, for a network of Peers committing peers and
// Endorsers endorsing organisations, with blocks of TxPerBlock
// transactions.
type Shape struct {
	Endorsers, Peers int
	TxPerBlock       float64
}

// Validate checks the shape.
func (s Shape) Validate() error {
	switch {
	case s.Endorsers <= 0:
		return fmt.Errorf("shape: endorsers %d must be positive", s.Endorsers)
	case s.Peers <= 0:
		return fmt.Errorf("shape: peers %d must be positive", s.Peers)
	case s.TxPerBlock < 1:
		return fmt.Errorf("shape: %v transactions per block; want at least 1", s.TxPerBlock)
	}
	return nil
}

// Signs per transaction: the client signs the proposal, the transaction
// envelope and the commit-status request; each endorser signs its
// endorsement; the orderer signs each block once.
func (s Shape) Signs() float64 {
	return 3 + float64(s.Endorsers) + 1/s.TxPerBlock
}

// Verifies per transaction: each endorser verifies the proposal; the
// gateway verifies the commit-status request; the orderer verifies the
// envelope; each peer verifies the envelope, every endorsement and each
// block's signature once.
func (s Shape) Verifies() float64 {
	return float64(s.Endorsers) + 1 + 1 + float64(s.Peers)*float64(1+s.Endorsers) + float64(s.Peers)/s.TxPerBlock
}

// CryptoCost is the time of one ECDSA P-256 operation (SHA-256 of a
// proposal-sized message included) on one core.
type CryptoCost struct {
	Sign, Verify time.Duration
}

// MeasureECDSA times signing and verifying with fabcrypto (low-S
// signatures, as every weft node makes) for about d each.
func MeasureECDSA(d time.Duration) (CryptoCost, error) {
	if d <= 0 {
		return CryptoCost{}, fmt.Errorf("measure: duration %s must be positive", d)
	}
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return CryptoCost{}, err
	}
	msg := make([]byte, 2048)
	if _, err := rand.Read(msg); err != nil {
		return CryptoCost{}, err
	}
	var sig []byte
	signs := 0
	start := time.Now()
	for time.Since(start) < d {
		if sig, err = fabcrypto.Sign(key, msg); err != nil {
			return CryptoCost{}, err
		}
		signs++
	}
	sign := time.Since(start) / time.Duration(signs)
	verifies := 0
	start = time.Now()
	for time.Since(start) < d {
		if err := fabcrypto.Verify(&key.PublicKey, msg, sig); err != nil {
			return CryptoCost{}, fmt.Errorf("measure: own signature does not verify: %w", err)
		}
		verifies++
	}
	return CryptoCost{Sign: sign, Verify: time.Since(start) / time.Duration(verifies)}, nil
}

// Ceiling is the transactions per second cores could commit if they did
// nothing but the shape's ECDSA work: cores / (crypto seconds per tx).
func Ceiling(c CryptoCost, s Shape, cores int) (float64, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if cores <= 0 {
		return 0, fmt.Errorf("ceiling: cores %d must be positive", cores)
	}
	if c.Sign <= 0 || c.Verify <= 0 {
		return 0, errors.New("ceiling: sign and verify costs must be positive")
	}
	perTx := s.Signs()*c.Sign.Seconds() + s.Verifies()*c.Verify.Seconds()
	return float64(cores) / perTx, nil
}
