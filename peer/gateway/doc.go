// Package gateway implements the gateway.Gateway gRPC service the official
// @hyperledger/fabric-gateway clients talk to: Evaluate and Endorse run the
// proposal on this peer (and, for Endorse, on peers of the other channel
// organisations until the chaincode's endorsement policy is met), Submit
// hands the client-signed transaction to an orderer, CommitStatus waits for
// the commit, and ChaincodeEvents streams chaincode events from committed
// blocks. Status codes, messages and gateway.ErrorDetail details follow
// Fabric's gateway so that client-side error handling behaves the same.
package gateway
