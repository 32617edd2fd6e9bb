// Package shim is the chaincode side of Fabric's chaincode protocol, for
// chaincode written in Go and run as a service (CCaaS).
//
// Serve starts a gRPC server offering /protos.Chaincode/Connect. A peer
// dials it and opens a stream; the chaincode registers under its package ID
// (REGISTER), waits for REGISTERED and READY, and from then on runs every
// TRANSACTION or INIT it receives in its own goroutine, so one stream carries
// any number of concurrent transactions. While a transaction runs, its Stub
// turns calls such as GetState into requests on the stream, tagged with the
// transaction's channel and id, and waits for the peer's RESPONSE or ERROR.
// The result goes back as COMPLETED (a marshaled peer.Response plus the
// transaction's event, if any) or, when the chaincode could not be run at
// all, as ERROR.
//
// Composite keys use the encoding shared by all Fabric shims, so keys
// written by a Go chaincode can be read by a Node one and the reverse.
package shim
