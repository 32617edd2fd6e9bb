// Package comm holds weft's gRPC plumbing shared by orderers and peers: TLS
// configurations in the shape Fabric nodes expect (TLS 1.2+, optional mutual
// TLS, certificate pinning for orderer-to-orderer links), a gRPC server with
// keepalive enforcement and Fabric's 100 MiB message limits, a blocking Dial,
// and access to the TLS client certificate of an incoming call.
package comm
