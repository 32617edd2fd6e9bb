// Package chain is the Raft consensus chain of one orderer channel: it
// turns submitted envelopes into blocks that are byte-identical on every
// consenter.
//
// # Blocks
//
// The raft leader cuts batches (weft/orderer/blockcutter), builds and signs
// whole blocks exactly as a Fabric etcdraft orderer lays them out (SIGNATURES
// metadata with OrdererBlockMetadata and the etcdraft BlockMetadata of
// consenter ids, LAST_CONFIG), and proposes them. Raft entries carry one or
// more marshaled blocks in creation order; every member appends the agreed
// blocks to its store unchanged. raft_index in the BlockMetadata is 0: the
// index is unknown when the leader signs, and apply does not need it because
// it recognises replayed blocks by number and header hash.
//
// # Apply
//
// Apply accepts a block only if it extends the newest block the log has
// produced so far (vtip); blocks from a deposed leader that raft forwarded
// late, or built on such blocks, are skipped on every member alike. A block
// below the store's height is a replay and must equal the stored one; a
// difference means a forked ledger and fails the chain.
//
// # Leading
//
// A new leader first commits an empty marker entry of its own term; once it
// has applied it, the store tip is the chain tip and it starts cutting. At
// most one proposal is in flight; blocks cut meanwhile (up to the channel's
// MaxInflightBlocks) go into the next one. Order returns nil when the
// envelope's block has been applied after commit. Any proposal failure or
// loss of leadership fails the waiting submissions with a retriable error;
// they are resubmitted to the current leader, whose window of recently
// committed envelope hashes answers those that did get ordered, so an
// envelope is ordered once even across leader changes.
//
// # Config
//
// A CONFIG transaction is cut into a block of its own. Its block metadata
// already carries the new consenter ids (one consenter added or removed per
// update); after it is applied, every member switches to the new Bundle and
// transport membership, and the leader proposes the matching raft conf
// change. A consenter that is removed halts its chain (status inactive).
//
// # Snapshots and catching up
//
// Raft snapshots hold only the header of the newest block. A member whose
// store is behind a snapshot it receives pulls the missing blocks from the
// other orderers through the BlockPuller; so does a chain joined with a later
// config block, and a follower (an orderer that is not a consenter), which
// only pulls.
package chain
