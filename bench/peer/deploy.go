package peer

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"weft/bench/kvcc"
	"weft/client"
	"weft/peer/chaincode"
)

// DeployKV serves the kvcc chaincode in this process on loopback and
// deploys it on the channel as name, sequence 1, through the v2 lifecycle:
// install on peer 0 of every channel org, approve for each org, commit.
// The caller stops the returned server after the run.
func DeployKV(ctx context.Context, n *Network, name string, progress io.Writer) (srv *kvcc.Server, err error) {
	if progress == nil {
		progress = io.Discard
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("deploy: chaincode listener: %w", err)
	}
	label := name + "_1.0"
	pkg, err := chaincode.BuildCCaaSPackage(label, chaincode.Connection{Address: lis.Addr().String(), DialTimeout: 10 * time.Second})
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("deploy: package: %w", err)
	}
	pkgID := chaincode.PackageID(label, pkg)
	if srv, err = kvcc.Serve(lis, pkgID); err != nil {
		lis.Close()
		return nil, err
	}
	defer func() {
		if err != nil {
			srv.Stop()
		}
	}()

	admins := make([]*client.Gateway, len(n.Orgs))
	for i, k := range n.Orgs {
		signer, err := n.Identity(k, "Admin")
		if err != nil {
			return nil, err
		}
		conn, err := n.DialPeer(ctx, k)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		admins[i] = &client.Gateway{Conn: conn, Signer: signer}
		id, err := client.InstallChaincode(ctx, conn, signer, pkg)
		if err != nil {
			return nil, fmt.Errorf("deploy: install on the peer of %s: %w", n.Spec.Orgs[k].Name, err)
		}
		if id != pkgID {
			return nil, fmt.Errorf("deploy: peer of %s installed package %q, want %q", n.Spec.Orgs[k].Name, id, pkgID)
		}
	}
	fmt.Fprintf(progress, "installed %s; approving for %d orgs\n", pkgID, len(n.Orgs))
	def := client.Definition{Name: name, Version: "1.0", Sequence: 1}
	for i, k := range n.Orgs {
		if err := admins[i].Approve(ctx, n.Channel, n.MSPID(k), def, pkgID); err != nil {
			return nil, fmt.Errorf("deploy: approve for %s: %w", n.Spec.Orgs[k].Name, err)
		}
	}
	// Each approval was waited for on its own org's peer only; every
	// endorser of the commit must see all of them, or their read sets
	// differ.
	if err := n.waitSameHeight(ctx); err != nil {
		return nil, err
	}
	if err := admins[0].Commit(ctx, n.Channel, def); err != nil {
		return nil, fmt.Errorf("deploy: commit %s: %w", name, err)
	}
	if err := n.waitSameHeight(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "chaincode %s committed on %s\n", name, n.Channel)
	return srv, nil
}

// waitSameHeight waits until every channel org's peer has the largest
// height any of them reports.
func (n *Network) waitSameHeight(ctx context.Context) error {
	var top uint64
	for _, k := range n.Orgs {
		h, err := n.PeerHeight(ctx, k)
		if err != nil {
			return fmt.Errorf("deploy: height of the peer of %s: %w", n.Spec.Orgs[k].Name, err)
		}
		top = max(top, h)
	}
	return n.WaitPeers(ctx, top)
}
