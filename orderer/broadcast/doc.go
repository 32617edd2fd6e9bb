// Package broadcast serves the orderer's AtomicBroadcast/Broadcast stream:
// clients (the gateway peer, the peer CLI, osnadmin-style tools) send
// envelopes and get exactly one BroadcastResponse per envelope, in the order
// the envelopes arrived.
//
// # Checks
//
// Every envelope passes the same gauntlet, cheapest first so that junk never
// costs a signature verification:
//
//  1. Structure (400 BAD_REQUEST): payload present, payload, header,
//     channel header and signature header decode and re-encode to exactly
//     the bytes received (no unknown fields, no trailing bytes, no
//     non-canonical protobuf), a valid channel name, header type
//     ENDORSER_TRANSACTION or CONFIG_UPDATE.
//  2. Channel (400 BAD_REQUEST for an unknown one, as Fabric answers).
//  3. Size against BatchSize.AbsoluteMaxBytes (400 BAD_REQUEST, as Fabric
//     answers; the info text says the envelope is too large).
//     Fabric itself answers 400 here; the fabric-gateway client treats both
//     as a failed submit, and 413 tells an operator what went wrong.
//  4. Creator and signature present, creator valid in the channel's MSPs,
//     signature valid (low-S), and /Channel/Writers satisfied (403
//     FORBIDDEN; Fabric's signature filter also answers a missing signature
//     or signature header so). Then nonce present and, for transactions,
//     tx_id = SHA-256(nonce ‖ creator) (400 BAD_REQUEST).
//  5. Transactions are handed to Support.Order (503 while the channel is in
//     maintenance mode, as in Fabric); config updates are
//     authorised and applied by the channel config (400 on any validation
//     error), wrapped into a CONFIG envelope signed by this orderer and handed
//     to Support.Configure.
//
// SUCCESS is only sent after Order/Configure returned nil, which for the Raft
// chain means the envelope is in a committed block. A failure there becomes
// 503 SERVICE_UNAVAILABLE when retrying may help (deadline, cancellation,
// ErrUnavailable, an error with Temporary() true) and 500 otherwise.
//
// # Pipelining
//
// Acknowledging only after commit would limit a stream to one consensus round
// trip per envelope if envelopes were handled one at a time. Instead the
// stream reader starts a goroutine per envelope and keeps reading while up to
// Window envelopes are in flight; a single writer goroutine answers them
// strictly in arrival order. Each in-flight envelope has a one-slot result
// channel, and the queue of those channels (capacity Window-1 plus the one the
// writer is waiting on) is both the ordering mechanism and the bound on
// concurrency: when it is full the reader stops reading, which pushes back on
// the client through gRPC flow control. Envelopes that arrive together are
// therefore validated in parallel and reach the chain back to back, where they
// end up in the same block instead of one block per round trip.
//
// Stream end: after the client half-closes (io.EOF) every outstanding
// envelope is still answered before Broadcast returns. If the client cancels
// or a Send fails, outstanding work is cancelled through the context and no
// further responses are sent; Broadcast returns once Support has honoured the
// cancellation.
package broadcast
