package render

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/network"
)

// genesis builds a channel's genesis block from the material under l, with
// the consenters, orderer endpoints and anchor peers at their in-cluster
// addresses. gen/network's profile puts every node on one host, so its
// addresses are replaced here.
func (t *topology) genesis(channel string, l network.Layout) ([]byte, error) {
	prof, err := network.ChannelProfile(t.net, channel, l, network.DefaultEndpoints())
	if err != nil {
		return nil, err
	}
	raft := prof.Orderer.EtcdRaft
	if raft == nil || len(raft.Consenters) != len(t.orderers) || len(prof.Orderer.Organizations) != 1 {
		return nil, fmt.Errorf("channel %q: unexpected orderer profile", channel)
	}
	var endpoints []string
	for i := range t.orderers {
		raft.Consenters[i].Host, raft.Consenters[i].Port = t.orderers[i].internal(), OrdererPort
		endpoints = append(endpoints, t.orderers[i].internalAddr())
	}
	prof.Orderer.Organizations[0].OrdererEndpoints = endpoints
	for i := range prof.Application.Organizations {
		org := &prof.Application.Organizations[i]
		if len(org.AnchorPeers) == 0 {
			continue
		}
		name := ""
		for _, o := range t.net.Orgs {
			if o.MSPID == org.ID {
				name = o.Name
			}
		}
		peers := t.orgPeers(name)
		if len(peers) == 0 {
			return nil, fmt.Errorf("channel %q: no peers for anchor of %s", channel, org.ID)
		}
		org.AnchorPeers = []channelconfig.AnchorPeer{{Host: peers[0].internal(), Port: PeerPort}}
	}
	group, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		return nil, fmt.Errorf("channel %q: config: %w", channel, err)
	}
	block, err := channelconfig.GenesisBlock(channel, group)
	if err != nil {
		return nil, fmt.Errorf("channel %q: genesis block: %w", channel, err)
	}
	return proto.Marshal(block)
}
