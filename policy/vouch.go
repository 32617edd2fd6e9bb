package policy

import (
	"bytes"

	"weft/msp"
)

// Vouch records in vm that sig is id's valid signature over data without
// verifying it, for a caller that knows so by other means: the signature
// is one this process made itself with id's key over exactly data. The
// policies that later evaluate signed data carrying vm trust the record,
// so vouching for anything less certain would let forgeries through.
func (vm *VerifyMemo) Vouch(id *msp.Identity, data, sig []byte) {
	if vm == nil || id == nil || id.Cert == nil {
		return
	}
	vm.mu.Lock()
	vm.done[memoKey(id, sig)] = verifyOutcome{data: bytes.Clone(data)}
	vm.mu.Unlock()
}
