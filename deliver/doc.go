// Package deliver implements Fabric's Deliver service: the server side that
// streams a channel's blocks to authorised readers (orderer
// AtomicBroadcast/Deliver now, peer Deliver later) and the client side (Pull)
// with which orderers fetch blocks from each other.
//
// A stream carries seek requests one after the other. Each request is a
// signed Envelope whose payload data is an orderer.SeekInfo; the server
// answers with the requested blocks in order and then a SUCCESS status, or
// with a single error status, after which the stream ends (as Fabric does).
// The official clients treat any status message as the end of the stream, so
// SUCCESS is sent only once the stop block has gone out.
package deliver
