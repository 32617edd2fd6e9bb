// Package endorser implements the peer's protos.Endorser service: it checks a
// signed proposal the way a Fabric v2.5/v3 peer does (headers, transaction
// id, creator, signature, duplicate transaction, ACL), runs the targeted
// system or user chaincode against a transaction simulator and returns a
// ProposalResponse whose payload and endorsement are byte-compatible with
// Fabric's, so that Fabric gateways and committers accept them.
//
// The endorser talks to the rest of the peer only through the small
// interfaces in support.go; the node wires the ledger, lifecycle and
// chaincode runtime into them.
package endorser
