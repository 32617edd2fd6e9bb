// Package cluster is the orderer-to-orderer transport: the gRPC service
// orderer.Cluster/Step over mutual TLS, carrying raft messages and
// transactions forwarded to the leader.
//
// # Authentication
//
// Every inbound request names a channel. The TLS client certificate of the
// stream must equal (DER) the ClientTLSCert of a member of that channel, and
// that member's ID is the sender; raft messages must also carry that ID as
// From and this node's ID as To. Anything else ends the stream with a gRPC
// error (NotFound for an unknown channel, PermissionDenied for a stranger,
// InvalidArgument for a malformed or misaddressed message) and is logged with
// the channel and the certificate subject. Membership is checked on every
// request, so a member removed by Configure is cut off at its next message.
// Outbound connections pin the member's ServerTLSCert instead of checking
// host names, because consenter endpoints need not match certificate SANs.
//
// # Framing
//
// A stream carries either consensus traffic or submissions:
//
//   - Consensus: per (channel, remote member) one long-lived stream of
//     ConsensusRequest{channel, payload = marshaled raftpb.Message}. The
//     server never answers on it. Send queues messages in a bounded
//     per-member queue and drops them when it is full: raft retransmits, and
//     the caller (raft's run loop) must never block. A broken stream is
//     reopened with exponential backoff once there is something to send.
//
//   - Submit: each Comm.Submit opens its own stream, sends one SubmitRequest
//     and waits for one SubmitResponse, so correlation is by stream. The
//     server processes the SubmitRequests of a stream one at a time and
//     answers each in order, so a client may also pipeline several on one
//     stream. last_validation_seq is sent as 0: the leader validates
//     against its own current config.
//
// A handler error becomes a SubmitResponse with status SERVICE_UNAVAILABLE
// (or the status of a *SubmitError) and the error text as info; the client
// side returns it as a *SubmitError.
package cluster
