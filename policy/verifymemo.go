package policy

import (
	"bytes"
	"encoding/binary"
	"sync"

	"weft/msp"
)

// VerifyMemo remembers the outcome of signature verifications for the
// checks of one request or transaction. The same signature is typically
// looked at several times: by an explicit creator or endorsement check, then
// by each sub-policy of an ImplicitMeta policy; with a memo it is verified
// once. The memo only ever returns an outcome it computed itself for the
// same public key, data and signature, so sharing it cannot change a
// result. It is safe for concurrent use.
type VerifyMemo struct {
	mu       sync.Mutex
	done     map[string]verifyOutcome
	verified int
}

// identityVerify is the verification itself; tests count calls through it.
var identityVerify = (*msp.Identity).Verify

type verifyOutcome struct {
	data []byte
	err  error
}

// NewVerifyMemo returns an empty memo.
func NewVerifyMemo() *VerifyMemo {
	return &VerifyMemo{done: map[string]verifyOutcome{}}
}

// Verify is id.Verify(data, sig), answered from the memo when the same
// identity already verified the same signature over the same data. A nil
// memo just verifies.
func (vm *VerifyMemo) Verify(id *msp.Identity, data, sig []byte) error {
	if vm == nil || id == nil || id.Cert == nil {
		return identityVerify(id, data, sig)
	}
	key := memoKey(id, sig)
	vm.mu.Lock()
	o, ok := vm.done[key]
	vm.mu.Unlock()
	if ok && bytes.Equal(o.data, data) {
		return o.err
	}
	err := identityVerify(id, data, sig)
	// The data is copied: a caller reusing its buffer must not make a
	// remembered outcome apply to different bytes.
	vm.mu.Lock()
	vm.done[key] = verifyOutcome{data: bytes.Clone(data), err: err}
	vm.verified++
	vm.mu.Unlock()
	return err
}

// Verifications reports how many signatures the memo actually verified, as
// opposed to answered from memory.
func (vm *VerifyMemo) Verifications() int {
	if vm == nil {
		return 0
	}
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.verified
}

// memoKey names the verifying key (by the certificate carrying it) and the
// signature; the MSP ID is included because it appears in error messages.
// Lengths are prefixed so that no two different triples share a key.
func memoKey(id *msp.Identity, sig []byte) string {
	b := make([]byte, 0, 8+len(id.MSPID)+len(id.Cert.Raw)+len(sig))
	b = binary.BigEndian.AppendUint32(b, uint32(len(id.MSPID)))
	b = append(b, id.MSPID...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(id.Cert.Raw)))
	b = append(b, id.Cert.Raw...)
	b = append(b, sig...)
	return string(b)
}

// WithMemo returns a copy of sds whose signatures every policy evaluating
// them verifies through vm, so that signatures the caller already verified
// through vm are not verified again.
func WithMemo(sds []SignedData, vm *VerifyMemo) []SignedData {
	out := make([]SignedData, len(sds))
	for i, sd := range sds {
		sd.memo = vm
		out[i] = sd
	}
	return out
}

// Verify checks sd's signature over sd's data with id, the identity
// deserialized from sd.Identity, through the memo attached to sd if any.
func (sd SignedData) Verify(id *msp.Identity) error {
	return sd.memo.Verify(id, sd.Data, sd.Signature)
}

// Memo returns the memo WithMemo attached to sd, or nil.
func (sd SignedData) Memo() *VerifyMemo { return sd.memo }

// withSharedMemo gives entries that have no memo a common fresh one, so that
// the sub-policies of one evaluation share their verifications.
func withSharedMemo(sds []SignedData) []SignedData {
	var vm *VerifyMemo
	var out []SignedData
	for i, sd := range sds {
		if sd.memo != nil {
			continue
		}
		if vm == nil {
			vm = NewVerifyMemo()
			out = append([]SignedData(nil), sds...)
		}
		out[i].memo = vm
	}
	if out == nil {
		return sds
	}
	return out
}
