// Package raft is weft's consensus core: one Raft group member, built on
// go.etcd.io/raft/v3, that totally orders opaque []byte proposals. It knows
// nothing of blocks, channels or gRPC; the orderer supplies a Transport and
// Apply/Snapshot/Restore callbacks.
//
// # Durability
//
// Each member keeps a write-ahead log (Dir/wal, segment files of
// [len][crc32c][type][data] records holding HardStates, entry batches and
// snapshot markers) and snapshot files (Dir/snap). For every raft Ready the
// HardState, entries and any received snapshot are written, and fsynced
// when raft requires it, before the Ready's messages go to the Transport.
// On open, a torn record at the end of the newest segment is dropped;
// damage anywhere else is an error. After a snapshot, WAL segments whose
// entries it covers are deleted.
//
// # Apply contract
//
// Apply sees each committed proposal once, in log order. The application
// owns the record of what it has applied (for the orderer, the block store
// records the raft index of each block) and passes the newest such index as
// Config.AppliedIndex when starting: committed entries at or below it are
// not applied again, while raft still replays the membership changes among
// them. If the newest snapshot lies above AppliedIndex, Restore receives it
// before anything else. Apply must therefore make an entry durable before
// reporting a higher AppliedIndex on the next start; an index that is
// claimed but not on disk would skip entries.
//
// # Proposals
//
// Propose returns once the entry is committed and applied locally, so a
// caller can acknowledge success only after durability on a quorum. A
// follower's proposals are forwarded to the leader by raft itself; the
// orderer may still prefer to route work to the leader (as Fabric does)
// because a forwarded proposal can be lost with a failing leader, which
// only the caller's deadline reveals. Proposals that raft refuses, or whose
// log slot is taken by another committed entry, fail with
// ErrProposalDropped.
//
// Peers are trusted: messages are expected to come over an authenticated
// channel. A message that violates raft's invariants stops the node with
// an error (see Node.Err) rather than crashing the process.
package raft
