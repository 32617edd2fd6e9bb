package runner

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"weft/client"
	"weft/gen/network"
	"weft/spec"
)

// Gateway connects to peer0 of org (by name; "" = the first org) of the
// network in dir as one of its users ("User1", "Admin", ...).
func Gateway(ctx context.Context, dir string, n *spec.Network, org, user string) (*client.Gateway, *grpc.ClientConn, error) {
	k := 0
	if org != "" {
		k = -1
		for i := range n.Orgs {
			if n.Orgs[i].Name == org {
				k = i
			}
		}
		if k < 0 {
			return nil, nil, fmt.Errorf("--org: %q is not an org of network %q", org, n.Name)
		}
	}
	if len(n.Orgs) == 0 {
		return nil, nil, fmt.Errorf("network %q has no peer orgs", n.Name)
	}
	u := &up{n: n, ep: savedEndpoints(dir), l: network.Layout{Dir: dir}}
	signer, err := u.orgUser(k, user)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q of %s: %w", user, n.Orgs[k].Name, err)
	}
	conn, err := u.peerConn(ctx, k, 0)
	if err != nil {
		return nil, nil, err
	}
	return &client.Gateway{Conn: conn, Signer: signer}, conn, nil
}
