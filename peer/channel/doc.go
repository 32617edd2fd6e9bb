// Package channel holds one channel of a peer: its ledger (a block store and a
// state database under one directory) and its committer, which pulls blocks
// from the ordering service, checks that the orderers produced them,
// validates their transactions and commits them.
//
// Commit order is block first, then state. The block carries the validation
// codes of its transactions (the TRANSACTIONS_FILTER metadata), so when the
// process dies between the two writes, Open replays the write sets of the
// valid transactions of the blocks beyond the state's savepoint without
// validating anything again.
package channel
