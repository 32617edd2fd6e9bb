package network

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"weft/channelconfig"
	"weft/msp"
	"weft/spec"
)

// ChannelProfile builds the configtx profile of one spec channel from the
// crypto material under l: the orderer org with its Raft consenters, and
// the channel's peer orgs with their anchor peers, all with the policies
// of Fabric's test network.
func ChannelProfile(n *spec.Network, channel string, l Layout, ep Endpoints) (*channelconfig.Profile, error) {
	ch := n.Channel(channel)
	if ch == nil {
		return nil, fmt.Errorf("channel %q is not in the spec", channel)
	}
	ord, err := ordererSpec(n, l, ep)
	if err != nil {
		return nil, err
	}
	app := &channelconfig.ApplicationSpec{
		Policies:     channelconfig.DefaultApplicationPolicies(),
		Capabilities: []string{channelconfig.DefaultApplicationCapability},
	}
	for _, name := range ch.Orgs {
		o := n.Org(name)
		if o == nil {
			return nil, fmt.Errorf("channel %q: org %q is not in the spec", channel, name)
		}
		id, _ := n.MSPID(name)
		mspCfg, err := msp.ConfigFromDir(filepath.Join(l.PeerOrgDir(o), "msp"), id)
		if err != nil {
			return nil, fmt.Errorf("channel %q: org %q: %w", channel, name, err)
		}
		org := channelconfig.Org{Name: id, ID: id, MSP: mspCfg, Policies: channelconfig.DefaultOrgPolicies(id)}
		if ch.HasAnchorPeers() && o.Peers > 0 {
			org.AnchorPeers = []channelconfig.AnchorPeer{{Host: ep.Host, Port: ep.Peer(orgIndex(n, name), 0)}}
		}
		app.Organizations = append(app.Organizations, org)
	}
	return &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: []string{channelconfig.DefaultChannelCapability},
		Orderer:      ord,
		Application:  app,
	}, nil
}

func ordererSpec(n *spec.Network, l Layout, ep Endpoints) (*channelconfig.OrdererSpec, error) {
	id, _ := n.MSPID(n.Orderer.Org)
	mspCfg, err := msp.ConfigFromDir(filepath.Join(l.OrdererOrgDir(n), "msp"), id)
	if err != nil {
		return nil, fmt.Errorf("orderer org %q: %w", n.Orderer.Org, err)
	}
	var timeout time.Duration // zero takes the configtx default
	if n.Orderer.BatchTimeout != "" {
		if timeout, err = time.ParseDuration(n.Orderer.BatchTimeout); err != nil {
			return nil, fmt.Errorf("orderer.batchTimeout: %w", err)
		}
	}
	raft := &channelconfig.EtcdRaftSpec{Options: channelconfig.DefaultEtcdRaftOptions()}
	var endpoints []string
	for i, host := range n.OrdererHosts() {
		cert, err := os.ReadFile(filepath.Join(l.OrdererDir(n, host), "tls", "server.crt"))
		if err != nil {
			return nil, fmt.Errorf("orderer %s: TLS certificate: %w", host, err)
		}
		raft.Consenters = append(raft.Consenters, channelconfig.Consenter{
			Host: ep.Host, Port: ep.Orderer(i), ClientTLSCert: cert, ServerTLSCert: cert,
		})
		endpoints = append(endpoints, ep.Address(ep.Orderer(i)))
	}
	return &channelconfig.OrdererSpec{
		OrdererType:  channelconfig.OrdererTypeEtcdRaft,
		BatchTimeout: timeout,
		BatchSize: channelconfig.BatchSizeSpec{
			MaxMessageCount:   n.Orderer.BatchSize.MaxMessageCount,
			AbsoluteMaxBytes:  n.Orderer.BatchSize.AbsoluteMaxBytes,
			PreferredMaxBytes: n.Orderer.BatchSize.PreferredMaxBytes,
		},
		EtcdRaft: raft,
		// Group keys as in Fabric's test network: the orderer org by its
		// name ("OrdererOrg"), application orgs by MSP ID ("Org1MSP").
		Organizations: []channelconfig.Org{{
			Name:             n.Orderer.Org,
			ID:               id,
			MSP:              mspCfg,
			Policies:         channelconfig.DefaultOrdererOrgPolicies(id),
			OrdererEndpoints: endpoints,
		}},
		Policies:     channelconfig.DefaultOrdererPolicies(),
		Capabilities: []string{channelconfig.DefaultOrdererCapability},
	}, nil
}
