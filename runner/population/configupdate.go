package population

import (
	"errors"
	"slices"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
)

// AppOrgs returns the MSP IDs (group keys) of the application orgs of cfg,
// sorted.
func AppOrgs(cfg *common.Config) ([]string, error) {
	app := cfg.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey]
	if app == nil {
		return nil, errors.New("channel config has no Application group")
	}
	var ids []string
	for id := range app.GetGroups() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// SignConfigUpdate collects every admin's signature on update and wraps it
// in a CONFIG_UPDATE transaction signed by the first of them.
func SignConfigUpdate(channel string, update *common.ConfigUpdate, admins []*TLSUser) (*common.Envelope, error) {
	if len(admins) == 0 {
		return nil, errors.New("config update: no admin to sign it")
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(update)
	if err != nil {
		return nil, err
	}
	var sigs []*common.ConfigSignature
	for _, a := range admins {
		s, err := channelconfig.SignConfigUpdate(raw, a.Signer)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, s)
	}
	cue, err := channelconfig.NewConfigUpdateEnvelope(raw, sigs...)
	if err != nil {
		return nil, err
	}
	return channelconfig.ConfigUpdateTx(channel, cue, admins[0].Signer)
}
