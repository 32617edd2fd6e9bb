package validator

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// OwnSignatures remembers signatures this peer made with its own key — its
// endorsements — so that validating a block that carries one needs no
// ECDSA verification: a signature the peer's key produced over exactly
// these bytes is valid. The identity is still deserialized and checked
// (validity, revocation) as for any endorsement; only the signature
// arithmetic is skipped. Entries are keyed by a SHA-256 over identity,
// data and signature, so a match means the same triple; the oldest are
// forgotten beyond the capacity, after which they are verified as usual.
// Safe for concurrent use; a nil *OwnSignatures knows nothing.
type OwnSignatures struct {
	mu   sync.Mutex
	set  map[[sha256.Size]byte]struct{}
	ring [][sha256.Size]byte
	next int
}

// NewOwnSignatures remembers up to capacity signatures (at least 1).
func NewOwnSignatures(capacity int) *OwnSignatures {
	capacity = max(capacity, 1)
	return &OwnSignatures{set: make(map[[sha256.Size]byte]struct{}, capacity), ring: make([][sha256.Size]byte, 0, capacity)}
}

// Record notes that identity (a marshaled SerializedIdentity) signed data
// with sig. Call it only with signatures this process's key made.
func (o *OwnSignatures) Record(identity, data, sig []byte) {
	if o == nil {
		return
	}
	k := ownKey(identity, data, sig)
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.set[k]; ok {
		return
	}
	if len(o.ring) < cap(o.ring) {
		o.ring = append(o.ring, k)
	} else {
		delete(o.set, o.ring[o.next])
		o.ring[o.next] = k
		o.next = (o.next + 1) % len(o.ring)
	}
	o.set[k] = struct{}{}
}

// Made reports whether Record was called with exactly this triple (and
// it is not forgotten yet).
func (o *OwnSignatures) Made(identity, data, sig []byte) bool {
	if o == nil {
		return false
	}
	k := ownKey(identity, data, sig)
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.set[k]
	return ok
}

// ownKey length-prefixes each part so no two different triples hash the
// same input.
func ownKey(identity, data, sig []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{identity, data, sig} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}
