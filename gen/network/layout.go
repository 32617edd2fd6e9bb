// Package network turns a network spec into the files a Fabric network
// starts from: crypto material in cryptogen's layout and one genesis block
// per channel. It is the generator behind `weft up`; the runner and the
// Kubernetes operator take their inputs from here.
package network

import (
	"fmt"
	"path/filepath"

	"weft/spec"
)

// Layout names the files of a generated network under one data directory.
// The crypto tree is exactly what `cryptogen generate --output
// <dir>/organizations` writes, so Fabric users find files where they expect.
type Layout struct{ Dir string }

// Organizations is the root of the crypto material.
func (l Layout) Organizations() string { return filepath.Join(l.Dir, "organizations") }

// ChannelBlock is the genesis block of a channel.
func (l Layout) ChannelBlock(channel string) string {
	return filepath.Join(l.Dir, "channel-artifacts", channel+".block")
}

// OrdererOrgDir is the orderer organization's folder.
func (l Layout) OrdererOrgDir(n *spec.Network) string {
	return filepath.Join(l.Organizations(), "ordererOrganizations", n.Orderer.Domain)
}

// PeerOrgDir is a peer organization's folder.
func (l Layout) PeerOrgDir(o *spec.Org) string {
	return filepath.Join(l.Organizations(), "peerOrganizations", o.Domain)
}

// OrdererDir is one orderer node's folder (msp/ and tls/).
func (l Layout) OrdererDir(n *spec.Network, host string) string {
	return filepath.Join(l.OrdererOrgDir(n), "orderers", host)
}

// PeerDir is one peer's folder (msp/ and tls/).
func (l Layout) PeerDir(o *spec.Org, host string) string {
	return filepath.Join(l.PeerOrgDir(o), "peers", host)
}

// UserMSP is a user's MSP folder; name is "Admin" or "User1".
func (l Layout) UserMSP(o *spec.Org, name string) string {
	user := fmt.Sprintf("%s@%s", name, o.Domain)
	return filepath.Join(l.PeerOrgDir(o), "users", user, "msp")
}

// OrdererAdminMSP is the orderer organization admin's MSP folder.
func (l Layout) OrdererAdminMSP(n *spec.Network) string {
	return filepath.Join(l.OrdererOrgDir(n), "users", "Admin@"+n.Orderer.Domain, "msp")
}
