// Package statedb is the peer's versioned world state for one channel, kept
// in a single bbolt file.
//
// Layout (bucket → key → value):
//
//	state:   ns \x00 key                          → encoded {version, metadata, value}
//	history: ns \x00 key \x00 block(8B BE) \x00 tx(8B BE) → empty
//	meta:    "savepoint"                          → block number (8B BE)
//
// Namespaces never contain \x00 (they are chaincode names), so within one
// namespace the state bucket is ordered by the raw key bytes; fabric-shim's
// composite keys ("\x00" objectType "\x00" attr "\x00" ...) and partial
// composite key ranges [prefix, prefix+"\U0010FFFF") are plain range scans.
//
// Commit writes a block's state updates, its history entries and the new
// savepoint in one bbolt transaction, which bbolt fsyncs before returning: after
// a crash the file holds either the state before or after that block, and the
// peer replays blocks after Savepoint from its block store.
//
// Iterators never keep a bbolt read transaction open between calls: they read
// pages of results, each page from its own consistent snapshot. A commit that
// lands between two pages is therefore visible to the later page; Fabric's
// MVCC and phantom-read validation at commit time is what makes that safe.
// Calling Close is still good practice but forgetting it leaks nothing.
//
// Query implements a CouchDB Mango subset over JSON object values; see
// query_parse.go for the supported grammar and the differences from CouchDB.
package statedb
