package operator

import (
	"context"
	"fmt"
	"slices"

	"weft/client"
	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/runner/population"
	"weft/spec"
)

// orgGateway is one org's admin at its first peer, through which it
// approves and the definition is committed.
type orgGateway struct {
	mspID string
	gw    *client.Gateway
}

// chaincode installs the org-specific package of cc on every peer of its
// channel's orgs, has each org approve the definition and commits it (then
// runs Init when asked), skipping what is already done.
func (p *populator) chaincode(ctx context.Context, cc *spec.Chaincode, pkgs []render.Package) popResult {
	msg, err := p.deployChaincode(ctx, cc, pkgs)
	if err != nil {
		return popResult{reason: ReasonPopulateFailed, msg: err.Error()}
	}
	return popResult{done: true, reason: ReasonCommitted, msg: msg}
}

func (p *populator) deployChaincode(ctx context.Context, cc *spec.Chaincode, pkgs []render.Package) (string, error) {
	ch := p.n.Channel(cc.Channel)
	if ch == nil {
		return "", fmt.Errorf("channel %q is not in the spec", cc.Channel)
	}
	def, err := population.Definition(*cc)
	if err != nil {
		return "", err
	}
	var orgs []orgGateway
	pkgIDs := map[string]string{} // MSP ID -> package ID
	for _, orgName := range ch.Orgs {
		o := p.n.Org(orgName)
		if o == nil {
			return "", fmt.Errorf("org %q is not in the spec", orgName)
		}
		var pkg *render.Package
		for i := range pkgs {
			if pkgs[i].Org == o.Name && pkgs[i].Chaincode == cc.Name && pkgs[i].Channel == cc.Channel {
				pkg = &pkgs[i]
			}
		}
		if pkg == nil {
			return "", fmt.Errorf("org %s: no install package rendered", o.Name)
		}
		admin, err := p.orgAdmin(o)
		if err != nil {
			return "", err
		}
		for i, e := range p.endpoints(v1alpha1.KindPeer, o.Name) {
			conn, err := p.peerConn(ctx, o, e)
			if err != nil {
				return "", err
			}
			have, err := population.InstalledPackages(ctx, conn, admin)
			if err != nil {
				return "", fmt.Errorf("peer %s: installed chaincodes: %w", e.Node, err)
			}
			if !slices.Contains(have, pkg.ID) {
				if _, err := client.InstallChaincode(ctx, conn, admin, pkg.Bytes); err != nil {
					return "", fmt.Errorf("peer %s: install %s: %w", e.Node, pkg.ID, err)
				}
			}
			if i == 0 {
				orgs = append(orgs, orgGateway{mspID: o.MSPID, gw: &client.Gateway{Conn: conn, Signer: admin}})
			}
		}
		pkgIDs[o.MSPID] = pkg.ID
	}
	if len(orgs) == 0 {
		return "", fmt.Errorf("channel %q has no peers", cc.Channel)
	}
	committed, approvedBy, err := population.CommittedDefinition(ctx, orgs[0].gw, cc.Channel, cc.Name)
	if err != nil {
		return "", err
	}
	if committed >= cc.Sequence {
		// An org added to the channel later approves the committed
		// definition before its peers run the chaincode.
		for _, o := range orgs {
			if approvedBy[o.mspID] {
				continue
			}
			d := def
			d.Sequence = committed
			if err := o.gw.Approve(ctx, cc.Channel, o.mspID, d, pkgIDs[o.mspID]); err != nil {
				return "", fmt.Errorf("approve committed sequence %d for %s: %w", committed, o.mspID, err)
			}
		}
		return fmt.Sprintf("sequence %d committed", committed), nil
	}
	approvals, err := population.CommitReadiness(ctx, orgs[0].gw, cc.Channel, def)
	if err != nil {
		return "", err
	}
	for _, o := range orgs {
		if approvals[o.mspID] {
			continue
		}
		if err := o.gw.Approve(ctx, cc.Channel, o.mspID, def, pkgIDs[o.mspID]); err != nil {
			return "", fmt.Errorf("approve for %s: %w", o.mspID, err)
		}
	}
	gws := make([]*client.Gateway, len(orgs))
	for i, o := range orgs {
		gws[i] = o.gw
	}
	if err := population.SameHeights(ctx, gws, cc.Channel); err != nil {
		return "", err
	}
	if err := orgs[0].gw.Commit(ctx, cc.Channel, def); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if cc.InitRequired {
		args := cc.InitArgs
		if len(args) == 0 {
			args = []string{"InitLedger"}
		}
		raw := make([][]byte, len(args))
		for i, a := range args {
			raw[i] = []byte(a)
		}
		if err := population.SameHeights(ctx, gws, cc.Channel); err != nil {
			return "", err
		}
		if _, _, err := orgs[0].gw.SubmitInit(ctx, cc.Channel, cc.Name, raw...); err != nil {
			return "", fmt.Errorf("init (%v): %w", args, err)
		}
	}
	return fmt.Sprintf("version %s sequence %d committed", cc.Version, cc.Sequence), nil
}
