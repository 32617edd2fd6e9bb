package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"

	"weft/channelconfig"
	"weft/gen/network"
	"weft/orderer/participation"
	"weft/runner/population"
	"weft/wire/common"
)

// updateChannelOrgs adds the spec's orgs that an existing channel's config
// lacks, by a config update signed by the channel's current org admins.
// Orgs that the config has and the spec no longer lists are left alone:
// removing an org is not supported (it is reported, not done).
func (u *up) updateChannelOrgs(ctx context.Context) error {
	var hc *http.Client
	for _, ch := range u.n.Channels {
		genesis, err := u.genesis(ch.Name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // not created; nothing to update
			}
			return err
		}
		// Orgs are only ever added, so a genesis block that already has
		// every org of the spec needs no look at the live config.
		if env, _, err := channelconfig.ConfigFromBlock(genesis); err == nil && len(u.missingOrgs(ch.Name, env.GetConfig())) == 0 {
			continue
		}
		if hc == nil {
			if hc, err = u.adminHTTP(); err != nil {
				return err
			}
		}
		if err := u.addChannelOrgs(ctx, hc, ch.Name); err != nil {
			return fmt.Errorf("channel %q: %w", ch.Name, err)
		}
	}
	return nil
}

// addChannelOrgs reads the live config of channel from an orderer and, if
// spec orgs are missing, submits the config update that adds them.
func (u *up) addChannelOrgs(ctx context.Context, hc *http.Client, channel string) error {
	via, height := -1, uint64(0)
	for i := range u.n.OrdererHosts() {
		info, err := participation.Info(ctx, hc, u.ordererAdminURL(i), channel)
		if err == nil && info.Height > 0 {
			via, height = i, info.Height
			break
		}
	}
	if via < 0 {
		return errors.New("no orderer serves the channel")
	}
	reader, err := u.ordererAdmin()
	if err != nil {
		return err
	}
	current, _, err := u.latestConfig(ctx, via, reader, channel, height)
	if err != nil {
		return err
	}
	for _, id := range u.extraOrgs(channel, current) {
		u.step("channel %s: %s is in the channel config but not in the spec; removing orgs is not supported, it stays", channel, id)
	}
	plan, err := u.planOrgUpdate(channel, current)
	if err != nil || plan == nil {
		return err
	}
	var admins []*tlsUser
	for _, k := range plan.signers {
		a, err := u.orgAdmin(k)
		if err != nil {
			return err
		}
		admins = append(admins, a)
	}
	env, err := signOrgUpdate(channel, plan.update, admins)
	if err != nil {
		return err
	}
	if err := u.submitConfigUpdate(ctx, via, admins[0], env); err != nil {
		return fmt.Errorf("add %s: %w", strings.Join(plan.added, ", "), err)
	}
	num, err := u.awaitConfigBlock(ctx, via, reader, channel, height, current.GetSequence())
	if err != nil {
		return err
	}
	if err := u.awaitOrdererHeights(ctx, hc, channel, num+1); err != nil {
		return err
	}
	for _, id := range plan.added {
		u.step("channel %s: added %s (config update, block %d)", channel, id, num)
	}
	return nil
}

// orgPlan is a config update that adds orgs to a channel.
type orgPlan struct {
	added []string
	// signers are the spec indexes of the orgs already in the channel,
	// whose admins must approve (MAJORITY Admins of /Channel/Application).
	signers []int
	update  *common.ConfigUpdate
}

func appOrgs(cfg *common.Config) ([]string, error) { return population.AppOrgs(cfg) }

// specOrgIDs returns the MSP IDs the spec puts on channel.
func (u *up) specOrgIDs(channel string) []string {
	var ids []string
	if ch := u.n.Channel(channel); ch != nil {
		for _, name := range ch.Orgs {
			if id, ok := u.n.MSPID(name); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// missingOrgs are the spec's orgs of channel that cfg lacks.
func (u *up) missingOrgs(channel string, cfg *common.Config) []string {
	have, _ := appOrgs(cfg)
	var out []string
	for _, id := range u.specOrgIDs(channel) {
		if !slices.Contains(have, id) {
			out = append(out, id)
		}
	}
	return out
}

// extraOrgs are the orgs of cfg that the spec no longer puts on channel.
func (u *up) extraOrgs(channel string, cfg *common.Config) []string {
	have, _ := appOrgs(cfg)
	want := u.specOrgIDs(channel)
	var out []string
	for _, id := range have {
		if !slices.Contains(want, id) {
			out = append(out, id)
		}
	}
	return out
}

// planOrgUpdate computes the update that adds the spec orgs current lacks
// (population.PlanOrgUpdate) with the org groups a genesis block of the
// spec channel would have; nil when none is missing.
func (u *up) planOrgUpdate(channel string, current *common.Config) (*orgPlan, error) {
	missing := u.missingOrgs(channel, current)
	if _, err := appOrgs(current); err != nil || len(missing) == 0 {
		return nil, err
	}
	prof, err := network.ChannelProfile(u.n, channel, u.l, u.ep)
	if err != nil {
		return nil, err
	}
	target, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		return nil, fmt.Errorf("config of the spec: %w", err)
	}
	p, err := population.PlanOrgUpdate(channel, current, target, u.specOrgIDs(channel), func(id string) bool { return u.orgByMSPID(id) >= 0 })
	if err != nil || p == nil {
		return nil, err
	}
	plan := &orgPlan{added: p.Added, update: p.Update}
	for _, id := range p.Signers {
		plan.signers = append(plan.signers, u.orgByMSPID(id))
	}
	return plan, nil
}

// orgByMSPID is the spec index of the peer org with MSP ID id, or -1.
func (u *up) orgByMSPID(id string) int {
	for k := range u.n.Orgs {
		if mid, _ := u.n.MSPID(u.n.Orgs[k].Name); mid == id {
			return k
		}
	}
	return -1
}

func signOrgUpdate(channel string, update *common.ConfigUpdate, admins []*tlsUser) (*common.Envelope, error) {
	return population.SignConfigUpdate(channel, update, admins)
}

// submitConfigUpdate broadcasts env until an orderer accepts it
// (population.SubmitUntilAccepted).
func (u *up) submitConfigUpdate(ctx context.Context, first int, user *tlsUser, env *common.Envelope) error {
	hosts := u.n.OrdererHosts()
	return population.SubmitUntilAccepted(ctx, len(hosts), first, func(i int) string { return hosts[i] },
		func(ctx context.Context, i int) (*grpc.ClientConn, error) { return u.dialOrderer(ctx, i, user) }, env)
}

// awaitOrdererHeights waits until every orderer holds height blocks of
// channel, so later steps see the new config wherever they connect.
func (u *up) awaitOrdererHeights(ctx context.Context, hc *http.Client, channel string, height uint64) error {
	for i, h := range u.n.OrdererHosts() {
		for {
			info, err := participation.Info(ctx, hc, u.ordererAdminURL(i), channel)
			if err == nil && info.Height >= height {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("orderer %s did not reach height %d (%v): %w", h, height, err, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func (u *up) ordererAdminURL(i int) string {
	return fmt.Sprintf("https://127.0.0.1:%d", u.ep.OrdererAdmin(i))
}
