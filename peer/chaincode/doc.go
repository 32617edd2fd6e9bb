// Package chaincode implements chaincode install packages and the
// chaincode-as-a-service runtime of a weft peer.
//
// The peer is the gRPC client: it dials the address found in the package's
// connection.json, opens /protos.Chaincode/Connect and speaks Fabric's shim
// protocol (REGISTER → REGISTERED, READY; TRANSACTION/INIT; state requests;
// COMPLETED/ERROR) so that unmodified fabric-shim chaincode servers work.
// One stream is kept per package ID (ccid) and carries any number of
// concurrent transactions, told apart by (channel, txid).
//
// The runtime never sends KEEPALIVE messages: fabric-shim 2.5.8 exits when it
// receives one. Liveness is left to HTTP/2 pings.
//
// Not supported yet: private data (requests naming a collection are answered
// with an ERROR), connection.json templates such as {{.peername}}, and
// non-CCaaS package types, which parse but cannot be run.
package chaincode
