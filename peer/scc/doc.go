// Package scc holds the peer's configuration and query system chaincodes,
// cscc and qscc, answering the argument layouts Fabric clients send (see
// Fabric core/scc/cscc and core/scc/qscc): args[0] is the function name,
// the rest are raw strings or bytes, and a successful Response carries the
// marshaled result message.
//
// Access: cscc JoinChain and JoinBySnapshotStatus need a local MSP admin, as
// Fabric's default ACLs do. The channel-scoped ACLs Fabric applies to qscc
// and to cscc's config queries (/Channel/Application/Readers) are left to
// the endorser, which authorises every proposal against the channel before
// a system chaincode runs.
package scc

import (
	"weft/msp"
	"weft/wire/peer"
)

// Stub is what cscc and qscc need from an invocation; the endorser's system
// chaincode stub (lifecycle.SysStub) satisfies it.
type Stub interface {
	Args() [][]byte
	// Creator is the validated creator of the proposal.
	Creator() *msp.Identity
}

func success(payload []byte) *peer.Response { return &peer.Response{Status: 200, Payload: payload} }

func failure(msg string) *peer.Response { return &peer.Response{Status: 500, Message: msg} }
