// Package fabcrypto holds the cryptographic primitives weft shares with
// Hyperledger Fabric: SHA-256/ECDSA signatures in Fabric's canonical low-S
// form, PEM key and certificate I/O, and a small x509 CA used to issue
// MSP and TLS certificates.
//
// Everything here must produce bytes that unmodified Fabric clients accept,
// so the encodings follow Fabric rather than Go defaults where they differ
// (Go's crypto/ecdsa does not normalise S, Fabric rejects high-S).
package fabcrypto
