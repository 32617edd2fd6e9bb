package render

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/network"
	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/wire/common"
)

// channelGroup builds a channel's config group from the material under l, with
// the consenters, orderer endpoints and anchor peers at their in-cluster
// addresses. gen/network's profile puts every node on one host, so its
// addresses are replaced here.
func (t *topology) channelGroup(channel string, l network.Layout) (*common.ConfigGroup, error) {
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
	return group, nil
}

// ChannelGroup is the channel group a genesis block of channel would hold
// for the Network as it is now, from the material under dir: the operator
// takes the groups of orgs added later from it, so they match orgs that
// were there from the start.
func ChannelGroup(res *v1alpha1.Network, channel, dir string) (*common.ConfigGroup, error) {
	t, err := newTopology(res)
	if err != nil {
		return nil, err
	}
	return t.channelGroup(channel, network.Layout{Dir: dir})
}

// genesis builds a channel's genesis block from the material under l.
func (t *topology) genesis(channel string, l network.Layout) ([]byte, error) {
	group, err := t.channelGroup(channel, l)
	if err != nil {
		return nil, err
	}
	block, err := channelconfig.GenesisBlock(channel, group)
	if err != nil {
		return nil, fmt.Errorf("channel %q: genesis block: %w", channel, err)
	}
	return proto.Marshal(block)
}
