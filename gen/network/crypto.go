package network

import (
	"strings"

	"weft/gen/cryptogen"
	"weft/spec"
)

// CryptoConfig is the crypto-config.yaml equivalent of a spec: NodeOUs on
// everywhere (policies use client/peer/admin/orderer roles), explicit
// orderer host names, and peer/user counts as templates.
func CryptoConfig(n *spec.Network) cryptogen.Config {
	var orderers []cryptogen.NodeSpec
	for _, h := range n.OrdererHosts() {
		orderers = append(orderers, cryptogen.NodeSpec{Hostname: strings.TrimSuffix(h, "."+n.Orderer.Domain)})
	}
	cfg := cryptogen.Config{
		OrdererOrgs: []cryptogen.OrgSpec{{
			Name:          n.Orderer.Org,
			Domain:        n.Orderer.Domain,
			EnableNodeOUs: true,
			Specs:         orderers,
		}},
	}
	for _, o := range n.Orgs {
		cfg.PeerOrgs = append(cfg.PeerOrgs, cryptogen.OrgSpec{
			Name:          o.Name,
			Domain:        o.Domain,
			EnableNodeOUs: true,
			Template:      cryptogen.NodeTemplate{Count: o.Peers},
			Users:         cryptogen.UsersSpec{Count: o.Users},
		})
	}
	return cfg
}
