package deliver

import (
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// isConfigBlock reports whether b holds a CONFIG transaction; such blocks keep
// their data even for HEADER_WITH_SIG readers, who need it to follow the
// channel's config.
func isConfigBlock(b *common.Block) bool {
	if len(b.GetData().GetData()) != 1 {
		return false
	}
	env := &common.Envelope{}
	if proto.Unmarshal(b.Data.Data[0], env) != nil {
		return false
	}
	payload := &common.Payload{}
	if proto.Unmarshal(env.Payload, payload) != nil || payload.Header == nil {
		return false
	}
	chdr := &common.ChannelHeader{}
	if proto.Unmarshal(payload.Header.ChannelHeader, chdr) != nil {
		return false
	}
	return common.HeaderType(chdr.Type) == common.HeaderType_CONFIG
}
