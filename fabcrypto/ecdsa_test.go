package fabcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
)

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignVerifyRoundTripAlwaysLowS(t *testing.T) {
	key := mustKey(t)
	for i := 0; i < 64; i++ {
		msg := []byte{byte(i), 'm', 's', 'g'}
		sig, err := Sign(key, msg)
		if err != nil {
			t.Fatal(err)
		}
		low, err := IsLowS(&key.PublicKey, sig)
		if err != nil || !low {
			t.Fatalf("iteration %d: IsLowS = %v, %v; want true", i, low, err)
		}
		if err := Verify(&key.PublicKey, msg, sig); err != nil {
			t.Fatalf("iteration %d: Verify: %v", i, err)
		}
	}
}

func TestSignerInterface(t *testing.T) {
	key := mustKey(t)
	var s Signer
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		t.Fatalf("Public() = %T, want the key's *ecdsa.PublicKey", s.Public())
	}
	if err := Verify(pub, []byte("hello"), sig); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(nil); err == nil {
		t.Fatal("NewSigner(nil) succeeded")
	}
}

// highS turns a low-S signature into its high-S twin (r, n-s), which plain
// ECDSA accepts but Fabric must not.
func highS(t *testing.T, key *ecdsa.PrivateKey, sig []byte) []byte {
	t.Helper()
	r, s, err := UnmarshalSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	hs := new(big.Int).Sub(key.Curve.Params().N, s)
	out, err := MarshalSignature(r, hs)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&key.PublicKey, sha256Sum([]byte("payload")), out) {
		t.Fatal("constructed high-S signature is not a mathematically valid ECDSA signature")
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	key := mustKey(t)
	other := mustKey(t)
	msg := []byte("payload")
	sig, err := Sign(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	r, _, _ := UnmarshalSignature(sig)
	n := key.Curve.Params().N
	enc := func(r, s *big.Int) []byte {
		b, err := MarshalSignature(r, s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	longForm := append([]byte{0x30, 0x81, byte(len(sig) - 2)}, sig[2:]...)

	tests := []struct {
		name string
		pub  *ecdsa.PublicKey
		msg  []byte
		sig  []byte
		want error
	}{
		{"valid", &key.PublicKey, msg, sig, nil},
		{"high S", &key.PublicKey, msg, highS(t, key, sig), ErrHighS},
		{"tampered message", &key.PublicKey, []byte("payloaD"), sig, ErrBadSignature},
		{"wrong key", &other.PublicKey, msg, sig, ErrBadSignature},
		{"trailing bytes", &key.PublicKey, msg, append(append([]byte{}, sig...), 0x00), ErrMalformedSignature},
		{"truncated", &key.PublicKey, msg, sig[:len(sig)-1], ErrMalformedSignature},
		{"empty", &key.PublicKey, msg, nil, ErrMalformedSignature},
		{"non-minimal length", &key.PublicKey, msg, longForm, ErrMalformedSignature},
		{"r zero", &key.PublicKey, msg, enc(big.NewInt(0), big.NewInt(1)), ErrMalformedSignature},
		{"r equals n", &key.PublicKey, msg, enc(n, big.NewInt(1)), ErrMalformedSignature},
		{"s zero", &key.PublicKey, msg, enc(r, big.NewInt(0)), ErrMalformedSignature},
		{"s negative", &key.PublicKey, msg, enc(r, big.NewInt(-5)), ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.pub, tc.msg, tc.sig)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
	if err := Verify(nil, msg, sig); err == nil {
		t.Fatal("Verify with nil key succeeded")
	}
}

func TestToLowS(t *testing.T) {
	key := mustKey(t)
	sig, err := Sign(key, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	hs := highS(t, key, sig)
	if low, _ := IsLowS(&key.PublicKey, hs); low {
		t.Fatal("IsLowS(high-S) = true")
	}
	fixed, err := ToLowS(&key.PublicKey, hs)
	if err != nil {
		t.Fatal(err)
	}
	if string(fixed) != string(sig) {
		t.Fatal("ToLowS(high-S) did not give back the original low-S signature")
	}
	same, err := ToLowS(&key.PublicKey, sig)
	if err != nil || string(same) != string(sig) {
		t.Fatalf("ToLowS(low-S) changed the signature (err %v)", err)
	}
	if _, err := ToLowS(&key.PublicKey, []byte{1, 2, 3}); !errors.Is(err, ErrMalformedSignature) {
		t.Fatalf("ToLowS(garbage) error = %v", err)
	}
}

func TestSignOtherCurveUsesSHA256(t *testing.T) {
	// Fabric hashes with SHA-256 even for P-384 keys; Verify must agree.
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(key, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&key.PublicKey, sha256Sum([]byte("x")), sig) {
		t.Fatal("P-384 signature is not over SHA-256(msg)")
	}
	if err := Verify(&key.PublicKey, []byte("x"), sig); err != nil {
		t.Fatal(err)
	}
}
