// Package txsim simulates one transaction against the committed world state
// and builds its read-write set, the way a Fabric peer's transaction simulator
// does.
//
// Semantics follow Fabric's lock-based simulator:
//   - reads always see committed state, never the transaction's own writes;
//   - every point read (GetState, GetStateMetadata) records the key with the
//     committed version, or no version when the key is absent; the first read
//     of a key wins, so a commit that lands mid-simulation is caught by MVCC
//     validation instead of being silently absorbed;
//   - writes are kept per key, the last one winning; an empty value is a
//     delete;
//   - range scans record a RangeQueryInfo with the keys and versions actually
//     returned, for phantom-read validation at commit; rich queries record the
//     returned keys as ordinary reads (Fabric adds them to the read set, but
//     they are not re-executed at commit).
//
// Results are deterministic: namespaces and keys are sorted and every message
// is marshaled deterministically, so peers that run the same simulation return
// byte-identical results, which the gateway requires of endorsements.
package txsim
