// Package population holds the steps that turn running nodes into a working
// network, shared by `weft up` (package runner, nodes on loopback) and the
// Kubernetes operator (nodes behind cluster Services): identities that talk
// to orderers, chaincode lifecycle queries and definitions, channel config
// update signing. Nothing here knows where a node runs; callers dial.
package population
