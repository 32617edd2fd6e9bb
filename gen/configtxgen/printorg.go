package configtxgen

import (
	"fmt"
	"strings"

	"weft/channelconfig"
	"weft/wire/common"
)

// OrgGroup returns the config group of the organization whose Name is name,
// exactly as it appears in the channel built from profile (under Orderer or
// Application). With profile empty, the first profile (by name) that lists
// the organization is used. This backs configtxgen's -printOrg.
func OrgGroup(f *File, name, profile string) (*common.ConfigGroup, error) {
	candidates := []string{profile}
	if profile == "" {
		candidates = f.ProfileNames()
	}
	for _, pn := range candidates {
		fp, err := f.parseProfile(pn)
		if err != nil {
			if profile == "" {
				continue // an unrelated broken profile must not hide the org
			}
			return nil, err
		}
		section, ok := profileSectionOf(fp, name)
		if !ok {
			continue
		}
		p, err := materialize(fp)
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", pn, err)
		}
		root, err := channelconfig.NewChannelGroup(p)
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", pn, err)
		}
		g := root.GetGroups()[section].GetGroups()[name]
		if g == nil {
			return nil, fmt.Errorf("profile %q: organization %q missing from the built %s group", pn, name, section)
		}
		return g, nil
	}
	if profile != "" {
		return nil, fmt.Errorf("organization %q is not part of profile %q", name, profile)
	}
	return nil, fmt.Errorf("organization %q is not listed in any profile of %s (profiles: %s)", name, f.Path, strings.Join(f.ProfileNames(), ", "))
}

func profileSectionOf(fp *fileProfile, name string) (string, bool) {
	if fp.Application != nil {
		for _, o := range fp.Application.Organizations {
			if o.Name == name {
				return "Application", true
			}
		}
	}
	if fp.Orderer != nil {
		for _, o := range fp.Orderer.Organizations {
			if o.Name == name {
				return "Orderer", true
			}
		}
	}
	return "", false
}
