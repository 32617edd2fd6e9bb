package population

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
)

// OrgPlan is a config update that adds application orgs to a channel.
type OrgPlan struct {
	// Added are the MSP IDs the update adds, in the order wanted listed them.
	Added []string
	// Signers are the MSP IDs of orgs already in the channel whose admins
	// must sign: the channel's default /Channel/Application Admins policy is
	// MAJORITY, and only orgs whose admin the caller holds can be counted.
	Signers []string
	Update  *common.ConfigUpdate
}

// MissingOrgs are the MSP IDs of wanted that cfg's Application group lacks.
func MissingOrgs(cfg *common.Config, wanted []string) ([]string, error) {
	have, err := AppOrgs(cfg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range wanted {
		if !slices.Contains(have, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// PlanOrgUpdate computes the update that adds to current the orgs of
// wanted it lacks, taking each new org's group from target (the channel
// group a genesis block of the desired channel would hold), so an org
// added later is configured exactly like one present from the start.
// hasAdmin says whether the caller holds the admin of an org; a majority
// of the orgs already in the channel must be signable. A nil plan means
// nothing is missing.
func PlanOrgUpdate(channel string, current *common.Config, target *common.ConfigGroup, wanted []string, hasAdmin func(mspID string) bool) (*OrgPlan, error) {
	if current == nil || target == nil {
		return nil, errors.New("org update: current config and target group are required")
	}
	existing, err := AppOrgs(current)
	if err != nil {
		return nil, err
	}
	missing, err := MissingOrgs(current, wanted)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	plan := &OrgPlan{Added: missing}
	var unknown []string
	for _, id := range existing {
		if hasAdmin != nil && hasAdmin(id) {
			plan.Signers = append(plan.Signers, id)
		} else {
			unknown = append(unknown, id)
		}
	}
	if 2*len(plan.Signers) <= len(existing) {
		return nil, fmt.Errorf("adding %s needs the admins of a majority of the channel's orgs %v, but only %d are available (not %v)",
			strings.Join(missing, ", "), existing, len(plan.Signers), unknown)
	}
	updated := proto.Clone(current).(*common.Config)
	app := updated.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey]
	if app.Groups == nil {
		app.Groups = map[string]*common.ConfigGroup{}
	}
	for _, id := range missing {
		g := target.GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()[id]
		if g == nil {
			return nil, fmt.Errorf("org %s: not in the target channel config", id)
		}
		app.Groups[id] = proto.Clone(g).(*common.ConfigGroup)
	}
	if plan.Update, err = channelconfig.ComputeUpdate(channel, current, updated); err != nil {
		return nil, err
	}
	return plan, nil
}
