package chain

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"weft/wire/orderer/etcdraft"
)

// membership is the consenter set as of some block: the consenters in
// config order and their raft ids at the same positions, as recorded in
// the block's etcdraft BlockMetadata.
type membership struct {
	consenters []*etcdraft.Consenter
	ids        []uint64
	next       uint64
}

// genesisMembership numbers the consenters 1..n in config order, as a
// Fabric orderer does for a channel's first block.
func genesisMembership(cons []*etcdraft.Consenter) membership {
	m := membership{consenters: cons, next: uint64(len(cons)) + 1}
	for i := range cons {
		m.ids = append(m.ids, uint64(i)+1)
	}
	return m
}

// membershipFrom pairs the consenters of a config with the ids recorded in
// a block's metadata (nil metadata: the genesis numbering).
func membershipFrom(cons []*etcdraft.Consenter, md *etcdraft.BlockMetadata) (membership, error) {
	if len(cons) == 0 {
		return membership{}, errors.New("config has no etcdraft consenters")
	}
	if md == nil {
		return genesisMembership(cons), nil
	}
	if len(md.ConsenterIds) != len(cons) {
		return membership{}, fmt.Errorf("block metadata lists %d consenter ids for %d consenters", len(md.ConsenterIds), len(cons))
	}
	for _, id := range md.ConsenterIds {
		if id == 0 || id >= md.NextConsenterId {
			return membership{}, fmt.Errorf("block metadata: consenter id %d outside 1..%d", id, md.NextConsenterId-1)
		}
	}
	return membership{consenters: cons, ids: slices.Clone(md.ConsenterIds), next: md.NextConsenterId}, nil
}

// change computes the membership after a config update to cons. Consenters
// are matched by client TLS certificate; like Fabric, at most one may be
// added or removed per config update so that raft can follow with a single
// conf change.
func (m membership) change(cons []*etcdraft.Consenter) (membership, error) {
	if len(cons) == 0 {
		return membership{}, fmt.Errorf("%w: the update removes every consenter", ErrBadConfig)
	}
	seen := map[string]bool{}
	for i, c := range cons {
		k := string(certDER(c.ClientTlsCert))
		if k == "" {
			return membership{}, fmt.Errorf("%w: consenter %d (%s:%d) has no client TLS certificate", ErrBadConfig, i, c.Host, c.Port)
		}
		if seen[k] {
			return membership{}, fmt.Errorf("%w: consenter %d (%s:%d) repeats a client TLS certificate", ErrBadConfig, i, c.Host, c.Port)
		}
		seen[k] = true
	}
	out := membership{consenters: cons, next: m.next}
	added := 0
	for _, c := range cons {
		if id := m.idOf(c.ClientTlsCert); id != 0 {
			out.ids = append(out.ids, id)
			continue
		}
		added++
		out.ids = append(out.ids, out.next)
		out.next++
	}
	removed := len(m.ids) - (len(out.ids) - added)
	if added+removed > 1 {
		return membership{}, fmt.Errorf("%w: the update adds %d and removes %d consenters; change one consenter per config update", ErrBadConfig, added, removed)
	}
	return out, nil
}

// idOf returns the raft id of the consenter with this client TLS
// certificate, 0 if there is none.
func (m membership) idOf(clientCert []byte) uint64 {
	der := certDER(clientCert)
	if len(der) == 0 {
		return 0
	}
	for i, c := range m.consenters {
		if bytes.Equal(certDER(c.ClientTlsCert), der) {
			return m.ids[i]
		}
	}
	return 0
}

func (m membership) members() []Member {
	out := make([]Member, len(m.consenters))
	for i, c := range m.consenters {
		out[i] = Member{
			ID:            m.ids[i],
			Endpoint:      net.JoinHostPort(c.Host, strconv.FormatUint(uint64(c.Port), 10)),
			ServerTLSCert: slices.Clone(c.ServerTlsCert),
			ClientTLSCert: slices.Clone(c.ClientTlsCert),
		}
	}
	return out
}

func sameIDs(a, b []uint64) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// certDER returns the DER of the first certificate in a PEM blob, or the
// bytes themselves when they are not PEM, so that re-encoded PEM (other
// line breaks, headers) still matches.
func certDER(b []byte) []byte {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes
	}
	return b
}
