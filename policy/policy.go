// Package policy implements Fabric's channel policies: the signature-policy
// DSL (AND/OR/OutOf over 'MSPID.role' principals), signature-policy and
// ImplicitMeta evaluation with Fabric's exact semantics, and the policy tree
// of a channel config.
package policy

// SignedData is one signature to evaluate: Data was signed by the identity
// whose marshaled SerializedIdentity is Identity.
type SignedData struct {
	Data      []byte
	Identity  []byte
	Signature []byte

	// memo, when set by WithMemo, is where the signature is verified.
	memo *VerifyMemo
}

// Policy decides whether a set of signatures satisfies it.
type Policy interface {
	// EvaluateSignedData returns nil when sd satisfies the policy and an
	// error saying why not otherwise.
	EvaluateSignedData(sd []SignedData) error
}
