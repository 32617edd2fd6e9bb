package operator

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"

	"weft/comm"
	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/orderer/participation"
	"weft/runner/population"
	"weft/spec"
)

// ConditionInChannels on an org says its MSP is in the config of every
// channel the spec puts it on (an org added later gets there by a config
// update the operator submits).
const ConditionInChannels = "InChannels"

// ReasonOrgAdded and ReasonOrgMissing are the reasons of ConditionInChannels.
const (
	ReasonOrgAdded   = "InChannelConfig"
	ReasonOrgMissing = "NotInChannelConfig"
)

// addOrgs reads the live config of a channel the orderers already serve
// and, when spec orgs of ch are missing from it, submits the config update
// that adds them — signed by the admins of the orgs already there — and
// waits until every orderer holds the new config block. It returns the
// MSP IDs in the channel afterwards and what it added.
func (p *populator) addOrgs(ctx context.Context, ch spec.Channel, height uint64, hcFor func(string) (*http.Client, error)) (members, added []string, err error) {
	orderers := p.endpoints(v1alpha1.KindOrderer, "")
	reader, _, err := p.ordererAdmin()
	if err != nil {
		return nil, nil, err
	}
	conn, err := p.ordererConn(ctx, orderers[0], reader)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	current, _, err := population.LatestConfig(ctx, conn, reader, ch.Name, height)
	if err != nil {
		return nil, nil, fmt.Errorf("channel %q: config: %w", ch.Name, err)
	}
	var wanted []string
	byMSP := map[string]*spec.Org{}
	for _, name := range ch.Orgs {
		if o := p.n.Org(name); o != nil {
			wanted = append(wanted, o.MSPID)
			byMSP[o.MSPID] = o
		}
	}
	missing, err := population.MissingOrgs(current, wanted)
	if err != nil {
		return nil, nil, fmt.Errorf("channel %q: %w", ch.Name, err)
	}
	if len(missing) == 0 {
		members, err := population.AppOrgs(current)
		return members, nil, err
	}
	// Every spec org's admin is in the material, including orgs the spec
	// keeps but the channel does not list.
	for i := range p.n.Orgs {
		byMSP[p.n.Orgs[i].MSPID] = &p.n.Orgs[i]
	}
	target, err := render.ChannelGroup(p.res, ch.Name, p.l.Dir)
	if err != nil {
		return nil, nil, err
	}
	plan, err := population.PlanOrgUpdate(ch.Name, current, target, wanted, func(id string) bool { return byMSP[id] != nil })
	if err != nil || plan == nil {
		return nil, nil, err
	}
	var admins []*population.TLSUser
	for _, id := range plan.Signers {
		o := byMSP[id]
		a, err := population.LoadTLSUser(filepath.Dir(p.l.UserMSP(o, "Admin")), o.MSPID)
		if err != nil {
			return nil, nil, fmt.Errorf("org %s: admin: %w", o.Name, err)
		}
		admins = append(admins, a)
	}
	env, err := population.SignConfigUpdate(ch.Name, plan.Update, admins)
	if err != nil {
		return nil, nil, err
	}
	err = population.SubmitUntilAccepted(ctx, len(orderers), 0, func(i int) string { return orderers[i].Node },
		func(ctx context.Context, i int) (*grpc.ClientConn, error) {
			return p.ordererConn(ctx, orderers[i], admins[0])
		}, env)
	if err != nil {
		return nil, nil, fmt.Errorf("channel %q: add %s: %w", ch.Name, strings.Join(plan.Added, ", "), err)
	}
	num, err := population.AwaitConfigBlock(ctx, conn, reader, ch.Name, height, current.GetSequence())
	if err != nil {
		return nil, nil, err
	}
	if err := p.awaitOrdererHeights(ctx, ch.Name, num+1, hcFor); err != nil {
		return nil, nil, err
	}
	members, err = population.AppOrgs(current)
	if err != nil {
		return nil, nil, err
	}
	members = append(members, plan.Added...)
	slices.Sort(members)
	return members, plan.Added, nil
}

// ordererConn dials an orderer's client port over mutual TLS as user.
func (p *populator) ordererConn(ctx context.Context, e v1alpha1.Endpoint, user *population.TLSUser) (*grpc.ClientConn, error) {
	host, _, err := hostPort(e.Internal)
	if err != nil {
		return nil, fmt.Errorf("orderer %s: address %q: %w", e.Node, e.Internal, err)
	}
	ca, err := os.ReadFile(filepath.Join(p.l.OrdererOrgDir(p.n), "tlsca", "tlsca."+p.n.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("orderer TLS CA: %w", err)
	}
	conf, err := comm.ClientTLSConfig(user.TLSCert, user.TLSKey, [][]byte{ca}, host)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, p.dial)
	defer cancel()
	c, err := comm.Dial(dctx, e.Internal, conf)
	if err != nil {
		return nil, fmt.Errorf("orderer %s: %w", e.Node, err)
	}
	return c, nil
}

// awaitOrdererHeights waits until every orderer holds height blocks of
// channel, so the peers that join next find the new config wherever they
// pull from.
func (p *populator) awaitOrdererHeights(ctx context.Context, channel string, height uint64, hcFor func(string) (*http.Client, error)) error {
	for _, e := range p.endpoints(v1alpha1.KindOrderer, "") {
		host, _, err := hostPort(e.Internal)
		if err != nil {
			return err
		}
		hc, err := hcFor(host)
		if err != nil {
			return err
		}
		base := "https://" + host + ":" + fmt.Sprint(render.OrdererAdminPort)
		for {
			info, err := participation.Info(ctx, hc, base, channel)
			if err == nil && info.Height >= height {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("orderer %s did not reach height %d of %q (%v): %w", e.Node, height, channel, err, ctx.Err())
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	return nil
}

// setOrgMembership records per peer org whether the config of every
// channel the spec puts it on lists it; members holds the channels read in
// this pass.
func setOrgMembership(st *v1alpha1.NetworkStatus, n *spec.Network, members map[string][]string, gen int64) {
	for i := range n.Orgs {
		o := &n.Orgs[i]
		var in, missing, unknown []string
		for _, ch := range n.Channels {
			if !slices.Contains(ch.Orgs, o.Name) {
				continue
			}
			m, ok := members[ch.Name]
			switch {
			case !ok:
				unknown = append(unknown, ch.Name)
			case slices.Contains(m, o.MSPID):
				in = append(in, ch.Name)
			default:
				missing = append(missing, ch.Name)
			}
		}
		c := cond{ok: len(missing) == 0 && len(unknown) == 0, reason: ReasonOrgAdded, message: "in the config of " + listOrNone(in)}
		if !c.ok {
			c.reason = ReasonOrgMissing
			c.message = fmt.Sprintf("not in the config of %s; not read yet: %s", listOrNone(missing), listOrNone(unknown))
		}
		setCond(component(st.Orgs, o.Name), ConditionInChannels, c, gen)
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
