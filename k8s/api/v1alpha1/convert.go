package v1alpha1

import "weft/spec"

// NetworkSpec returns the weft network spec of the resource with defaults
// applied. An empty spec.name takes metadata.name, so a resource need not
// repeat its name. The result is not validated; see Validate.
func (n *Network) NetworkSpec() *spec.Network {
	f := &n.Spec.FabricNetwork
	out := &spec.Network{
		Name:    f.Name,
		Orderer: f.Orderer.toSpec(),
	}
	if out.Name == "" {
		out.Name = n.Name
	}
	for _, o := range f.Orgs {
		out.Orgs = append(out.Orgs, spec.Org{
			Name: o.Name, Domain: o.Domain, MSPID: o.MSPID, Peers: o.Peers, Users: o.Users, CA: copyBool(o.CA),
		})
	}
	for _, c := range f.Channels {
		out.Channels = append(out.Channels, spec.Channel{
			Name: c.Name, Orgs: append([]string(nil), c.Orgs...), AnchorPeers: copyBool(c.AnchorPeers),
		})
	}
	for _, c := range f.Chaincodes {
		cc := spec.Chaincode{
			Name: c.Name, Channel: c.Channel, Path: c.Path, Version: c.Version, Sequence: c.Sequence,
			Endorsement: c.Endorsement, InitRequired: c.InitRequired, InitArgs: append([]string(nil), c.InitArgs...),
			Label: c.Label,
		}
		if c.CCaaS != nil {
			cc.CCaaS = &spec.CCaaS{Address: c.CCaaS.Address, TLS: c.CCaaS.TLS}
		}
		out.Chaincodes = append(out.Chaincodes, cc)
	}
	out.SetDefaults()
	return out
}

func (o OrdererSpec) toSpec() spec.Orderer {
	return spec.Orderer{
		Org: o.Org, Domain: o.Domain, MSPID: o.MSPID, Nodes: o.Nodes, BatchTimeout: o.BatchTimeout,
		BatchSize: spec.BatchSize{
			MaxMessageCount:   o.BatchSize.MaxMessageCount,
			AbsoluteMaxBytes:  o.BatchSize.AbsoluteMaxBytes,
			PreferredMaxBytes: o.BatchSize.PreferredMaxBytes,
		},
	}
}

// FromSpec is the resource form of a weft network spec, for turning a spec
// file into a Network.
func FromSpec(s *spec.Network) FabricNetwork {
	out := FabricNetwork{
		Name: s.Name,
		Orderer: OrdererSpec{
			Org: s.Orderer.Org, Domain: s.Orderer.Domain, MSPID: s.Orderer.MSPID, Nodes: s.Orderer.Nodes,
			BatchTimeout: s.Orderer.BatchTimeout,
			BatchSize: BatchSizeSpec{
				MaxMessageCount:   s.Orderer.BatchSize.MaxMessageCount,
				AbsoluteMaxBytes:  s.Orderer.BatchSize.AbsoluteMaxBytes,
				PreferredMaxBytes: s.Orderer.BatchSize.PreferredMaxBytes,
			},
		},
	}
	for _, o := range s.Orgs {
		out.Orgs = append(out.Orgs, OrgSpec{
			Name: o.Name, Domain: o.Domain, MSPID: o.MSPID, Peers: o.Peers, Users: o.Users, CA: copyBool(o.CA),
		})
	}
	for _, c := range s.Channels {
		out.Channels = append(out.Channels, ChannelSpec{
			Name: c.Name, Orgs: append([]string(nil), c.Orgs...), AnchorPeers: copyBool(c.AnchorPeers),
		})
	}
	for _, c := range s.Chaincodes {
		cc := ChaincodeSpec{
			Name: c.Name, Channel: c.Channel, Path: c.Path, Version: c.Version, Sequence: c.Sequence,
			Endorsement: c.Endorsement, InitRequired: c.InitRequired, InitArgs: append([]string(nil), c.InitArgs...),
			Label: c.Label,
		}
		if c.CCaaS != nil {
			cc.CCaaS = &CCaaSSpec{Address: c.CCaaS.Address, TLS: c.CCaaS.TLS}
		}
		out.Chaincodes = append(out.Chaincodes, cc)
	}
	return out
}

func copyBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}
