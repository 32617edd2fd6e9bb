package channelconfig

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// ErrNoDifferences is returned by ComputeUpdate when the two configs have
// the same content.
var ErrNoDifferences = errors.New("no differences detected between original and updated config")

// ComputeUpdate derives the ConfigUpdate that turns original into updated,
// with the read set pinning the versions the update depends on and the
// write set carrying changed elements at their next version. Versions in
// updated are ignored; only content and mod_policy are compared.
func ComputeUpdate(channelID string, original, updated *common.Config) (*common.ConfigUpdate, error) {
	if err := ValidateChannelID(channelID); err != nil {
		return nil, fmt.Errorf("compute update: %w", err)
	}
	if original.GetChannelGroup() == nil {
		return nil, fmt.Errorf("compute update: original config has no channel group")
	}
	if updated.GetChannelGroup() == nil {
		return nil, fmt.Errorf("compute update: updated config has no channel group")
	}
	read, write, changed := diffGroup(original.ChannelGroup, updated.ChannelGroup)
	if !changed {
		return nil, fmt.Errorf("compute update for channel %q: %w", channelID, ErrNoDifferences)
	}
	return &common.ConfigUpdate{ChannelId: channelID, ReadSet: read, WriteSet: write}, nil
}

// diffGroup compares two versions of one group. When the group's own
// membership or mod_policy changes, it must be rewritten at version+1 and
// list every surviving child; otherwise it only carries the changed
// children at its current version.
func diffGroup(orig, upd *common.ConfigGroup) (read, write *common.ConfigGroup, changed bool) {
	rp, wp, sp, pMembers := diffPolicies(orig.GetPolicies(), upd.GetPolicies())
	rv, wv, sv, vMembers := diffValues(orig.GetValues(), upd.GetValues())
	rg, wg, sg, gMembers := diffGroups(orig.GetGroups(), upd.GetGroups())

	if !pMembers && !vMembers && !gMembers && orig.GetModPolicy() == upd.GetModPolicy() {
		if len(wp) == 0 && len(wv) == 0 && len(wg) == 0 && len(rg) == 0 {
			return &common.ConfigGroup{Version: orig.GetVersion()}, &common.ConfigGroup{Version: orig.GetVersion()}, false
		}
		return &common.ConfigGroup{Version: orig.GetVersion(), Policies: rp, Values: rv, Groups: rg},
			&common.ConfigGroup{Version: orig.GetVersion(), Policies: wp, Values: wv, Groups: wg},
			true
	}
	// Unchanged children are listed at their current version in both sets:
	// the read set pins them and the write set keeps them in the group.
	for k, p := range sp {
		rp[k], wp[k] = p, p
	}
	for k, v := range sv {
		rv[k], wv[k] = v, v
	}
	for k, g := range sg {
		rg[k], wg[k] = g, g
	}
	return &common.ConfigGroup{Version: orig.GetVersion(), Policies: rp, Values: rv, Groups: rg},
		&common.ConfigGroup{Version: orig.GetVersion() + 1, Policies: wp, Values: wv, Groups: wg, ModPolicy: upd.GetModPolicy()},
		true
}

func diffPolicies(orig, upd map[string]*common.ConfigPolicy) (read, write, same map[string]*common.ConfigPolicy, members bool) {
	read = map[string]*common.ConfigPolicy{}
	write = map[string]*common.ConfigPolicy{}
	same = map[string]*common.ConfigPolicy{}
	for k, o := range orig {
		u, ok := upd[k]
		if !ok {
			members = true
			continue
		}
		if o.GetModPolicy() == u.GetModPolicy() && proto.Equal(o.GetPolicy(), u.GetPolicy()) {
			same[k] = &common.ConfigPolicy{Version: o.GetVersion()}
			continue
		}
		write[k] = &common.ConfigPolicy{Version: o.GetVersion() + 1, ModPolicy: u.GetModPolicy(), Policy: u.GetPolicy()}
	}
	for k, u := range upd {
		if _, ok := orig[k]; ok {
			continue
		}
		members = true
		write[k] = &common.ConfigPolicy{ModPolicy: u.GetModPolicy(), Policy: u.GetPolicy()}
	}
	return read, write, same, members
}

func diffValues(orig, upd map[string]*common.ConfigValue) (read, write, same map[string]*common.ConfigValue, members bool) {
	read = map[string]*common.ConfigValue{}
	write = map[string]*common.ConfigValue{}
	same = map[string]*common.ConfigValue{}
	for k, o := range orig {
		u, ok := upd[k]
		if !ok {
			members = true
			continue
		}
		if o.GetModPolicy() == u.GetModPolicy() && bytes.Equal(o.GetValue(), u.GetValue()) {
			same[k] = &common.ConfigValue{Version: o.GetVersion()}
			continue
		}
		write[k] = &common.ConfigValue{Version: o.GetVersion() + 1, ModPolicy: u.GetModPolicy(), Value: u.GetValue()}
	}
	for k, u := range upd {
		if _, ok := orig[k]; ok {
			continue
		}
		members = true
		write[k] = &common.ConfigValue{ModPolicy: u.GetModPolicy(), Value: u.GetValue()}
	}
	return read, write, same, members
}

func diffGroups(orig, upd map[string]*common.ConfigGroup) (read, write, same map[string]*common.ConfigGroup, members bool) {
	read = map[string]*common.ConfigGroup{}
	write = map[string]*common.ConfigGroup{}
	same = map[string]*common.ConfigGroup{}
	for k, o := range orig {
		u, ok := upd[k]
		if !ok {
			members = true
			continue
		}
		r, w, changed := diffGroup(o, u)
		if !changed {
			same[k] = r
			continue
		}
		read[k], write[k] = r, w
	}
	for k, u := range upd {
		if _, ok := orig[k]; ok {
			continue
		}
		members = true
		// A new group is written whole, every element at version 0.
		_, w, _ := diffGroup(&common.ConfigGroup{}, u)
		write[k] = &common.ConfigGroup{ModPolicy: u.GetModPolicy(), Policies: w.Policies, Values: w.Values, Groups: w.Groups}
	}
	return read, write, same, members
}
