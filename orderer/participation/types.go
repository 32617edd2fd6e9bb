// Package participation serves the orderer's channel participation REST API
// (the one Fabric's osnadmin CLI speaks) and provides a matching client.
//
// The handler covers the Fabric v2.5 / v3.0 surface: list, inspect, join and
// remove application channels. The v3.1.2+ additions (PUT of a config update,
// block download) are not served.
package participation

import (
	"errors"

	"weft/wire/common"
)

// URL paths of the API; joined channel URLs are URLChannels + "/" + name.
const (
	URLBase     = "/participation/v1/"
	URLChannels = URLBase + "channels"

	// FormConfigBlock is the multipart file part that carries the join block.
	FormConfigBlock = "config-block"

	// DefaultMaxRequestBodySize matches Fabric's sample orderer.yaml (1 MB).
	DefaultMaxRequestBodySize int64 = 1 << 20
)

// Values of ChannelInfo.ConsensusRelation.
const (
	RelationConsenter     = "consenter"
	RelationFollower      = "follower"
	RelationConfigTracker = "config-tracker"
	RelationOther         = "other"
)

// Values of ChannelInfo.Status.
const (
	StatusActive     = "active"
	StatusOnboarding = "onboarding"
	StatusInactive   = "inactive"
	StatusFailed     = "failed"
)

// ChannelInfo is the detailed view of one channel, encoded exactly as
// Fabric's types.ChannelInfo so osnadmin output is unchanged.
type ChannelInfo struct {
	Name              string `json:"name"`
	URL               string `json:"url"`
	ConsensusRelation string `json:"consensusRelation"`
	Status            string `json:"status"`
	Height            uint64 `json:"height"`
}

// ChannelInfoShort is one entry of a channel list.
type ChannelInfoShort struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ChannelList is the body of GET /participation/v1/channels. SystemChannel
// is always nil (weft has no system channel) but is kept so the JSON carries
// "systemChannel": null like Fabric's.
type ChannelList struct {
	SystemChannel *ChannelInfoShort  `json:"systemChannel"`
	Channels      []ChannelInfoShort `json:"channels"`
}

// Errors a Registrar returns (possibly wrapped) to select the HTTP status.
var (
	ErrChannelExists   = errors.New("channel already exists")  // join → 405, Allow: GET, DELETE
	ErrChannelNotExist = errors.New("channel does not exist")  // → 404
	ErrPendingRemoval  = errors.New("channel pending removal") // → 409
	ErrBadBlock        = errors.New("invalid join block")      // → 400
	ErrRemovalFailure  = errors.New("channel removal failure") // → 500
	errDisabled        = errors.New("channel participation API is disabled")
)

// Registrar is the orderer side the handler drives. URL fields of returned
// infos may be left empty; the handler fills them in.
type Registrar interface {
	Join(block *common.Block) (ChannelInfo, error)
	Remove(channel string) error
	List() []ChannelInfo
	Info(channel string) (ChannelInfo, error)
}

// errorResponse is the JSON body of every error reply.
type errorResponse struct {
	Error string `json:"error"`
}
