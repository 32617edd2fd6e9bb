package gateway

import (
	"cmp"
	"fmt"
	"slices"
)

// orgTargets lists the peers of org mspID to ask on channel ch, in order:
// the live members the membership reports, highest ledger first and
// without those far behind the channel's highest known height, then the
// org's anchor peers not already listed. This peer itself is not listed.
// Every target carries the org's TLS roots from the channel config, so a
// learnt address is only trusted if it presents a certificate of the org.
func (g *Gateway) orgTargets(ch Channel, mspID string) []target {
	b := ch.Bundle()
	var anchors []target
	isOrg := false
	for _, o := range b.ApplicationOrgs() {
		if o.MSPID != mspID {
			continue
		}
		isOrg = true
		for _, a := range o.AnchorPeers {
			anchors = append(anchors, target{mspID: mspID, address: fmt.Sprintf("%s:%d", a.GetHost(), a.GetPort())})
		}
	}
	if !isOrg {
		return nil
	}
	var members []Member
	if g.opts.Membership != nil {
		all := g.opts.Membership.Members(b.ChannelID())
		top := ch.Ledger().Height()
		for _, m := range all {
			top = max(top, m.Height)
		}
		for _, m := range all {
			if m.MSPID == mspID && m.Height+g.opts.MaxHeightLag >= top {
				members = append(members, m)
			}
		}
		slices.SortStableFunc(members, func(a, b Member) int {
			return cmp.Or(cmp.Compare(b.Height, a.Height), cmp.Compare(a.Address, b.Address))
		})
	}
	roots := tlsRoots(b, mspID)
	var out []target
	seen := map[string]bool{g.opts.LocalAddress: true}
	add := func(t target) {
		if seen[t.address] {
			return
		}
		seen[t.address] = true
		t.roots = roots
		out = append(out, t)
	}
	for _, m := range members {
		add(target{mspID: mspID, address: m.Address})
	}
	for _, a := range anchors {
		add(a)
	}
	return out
}

// localOrgTargets is this peer, then the other peers of its org.
func (g *Gateway) localOrgTargets(ch Channel) []target {
	return append([]target{g.localTarget()}, g.orgTargets(ch, g.opts.LocalMSPID)...)
}
