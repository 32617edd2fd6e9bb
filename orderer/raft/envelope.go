package raft

import (
	"encoding/binary"
	"fmt"
)

// Every proposal is wrapped in a small header naming the node instance that
// proposed it, so that the proposer can recognise its own entry when it
// commits and release the waiting Propose call. The nonce is random per
// Start, so entries proposed before a restart never match a new waiter.
//
//	[version 1][proposer id uint64 BE][nonce uint64 BE][seq uint64 BE][payload]
const (
	envVersion   = 1
	envHeaderLen = 25
)

type proposalKey struct {
	proposer, nonce, seq uint64
}

func wrapProposal(k proposalKey, payload []byte) []byte {
	b := make([]byte, envHeaderLen, envHeaderLen+len(payload))
	b[0] = envVersion
	binary.BigEndian.PutUint64(b[1:9], k.proposer)
	binary.BigEndian.PutUint64(b[9:17], k.nonce)
	binary.BigEndian.PutUint64(b[17:25], k.seq)
	return append(b, payload...)
}

func unwrapProposal(b []byte) (proposalKey, []byte, error) {
	if len(b) < envHeaderLen {
		return proposalKey{}, nil, fmt.Errorf("proposal envelope: %d bytes, need at least %d", len(b), envHeaderLen)
	}
	if b[0] != envVersion {
		return proposalKey{}, nil, fmt.Errorf("proposal envelope: version %d, want %d", b[0], envVersion)
	}
	k := proposalKey{
		proposer: binary.BigEndian.Uint64(b[1:9]),
		nonce:    binary.BigEndian.Uint64(b[9:17]),
		seq:      binary.BigEndian.Uint64(b[17:25]),
	}
	return k, b[envHeaderLen:], nil
}
