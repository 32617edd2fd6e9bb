package spec

import "strconv"

// Org returns the peer organization with the given name, or nil.
func (n *Network) Org(name string) *Org {
	for i := range n.Orgs {
		if n.Orgs[i].Name == name {
			return &n.Orgs[i]
		}
	}
	return nil
}

// Channel returns the channel with the given name, or nil.
func (n *Network) Channel(name string) *Channel {
	if i := n.channelIndex(name); i >= 0 {
		return &n.Channels[i]
	}
	return nil
}

func (n *Network) channelIndex(name string) int {
	for i := range n.Channels {
		if n.Channels[i].Name == name {
			return i
		}
	}
	return -1
}

// MSPID returns the MSP ID of the named organization, peer or orderer, with
// the "<name>MSP" default applied; ok is false if no such org exists.
func (n *Network) MSPID(org string) (id string, ok bool) {
	if org == "" {
		return "", false
	}
	if org == n.Orderer.Org {
		if n.Orderer.MSPID != "" {
			return n.Orderer.MSPID, true
		}
		return org + "MSP", true
	}
	if o := n.Org(org); o != nil {
		if o.MSPID != "" {
			return o.MSPID, true
		}
		return org + "MSP", true
	}
	return "", false
}

// PeerHosts returns the host names of the org's peers, peer0.<domain> first;
// nil if the org does not exist.
func (n *Network) PeerHosts(org string) []string {
	o := n.Org(org)
	if o == nil {
		return nil
	}
	return o.PeerHosts()
}

// PeerHosts returns peer0.<domain> ... peer<N-1>.<domain>.
func (o *Org) PeerHosts() []string {
	return hosts("peer", o.Peers, o.Domain)
}

// OrdererHosts returns orderer0.<domain> ... orderer<N-1>.<domain>. Unlike
// Fabric's single-orderer test network (orderer.example.com), every node is
// numbered, so adding consenters never renames the first one.
func (n *Network) OrdererHosts() []string {
	return hosts("orderer", n.Orderer.Nodes, n.Orderer.Domain)
}

func hosts(prefix string, count int, domain string) []string {
	if count <= 0 {
		return nil
	}
	out := make([]string, count)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i) + "." + domain
	}
	return out
}
