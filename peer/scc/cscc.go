package scc

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/common"
	"weft/wire/peer"
)

// CSCC function names.
const (
	JoinChain            = "JoinChain"
	JoinChainBySnapshot  = "JoinChainBySnapshot"
	JoinBySnapshotStatus = "JoinBySnapshotStatus"
	GetChannels          = "GetChannels"
	GetConfigBlock       = "GetConfigBlock"
	GetChannelConfig     = "GetChannelConfig"
)

// Channels is the peer's set of joined channels.
type Channels interface {
	// Join creates the channel from its genesis (or a later config) block.
	Join(block *common.Block) error
	// List names the joined channels.
	List() []string
	// ConfigBlock returns the channel's newest config block.
	ConfigBlock(channel string) (*common.Block, error)
}

// CSCC is the configuration system chaincode.
type CSCC struct {
	Channels Channels
	// IsLocalAdmin decides whether id administers this peer; nil denies.
	IsLocalAdmin func(id *msp.Identity) bool
}

// Invoke runs one cscc function.
func (c *CSCC) Invoke(ctx context.Context, stub Stub) *peer.Response {
	args := stub.Args()
	if len(args) < 1 {
		return failure(fmt.Sprintf("Incorrect number of arguments, %d", len(args)))
	}
	fn := string(args[0])
	if fn != GetChannels && fn != JoinBySnapshotStatus && len(args) < 2 {
		return failure(fmt.Sprintf("Incorrect number of arguments, %d", len(args)))
	}
	if c.Channels == nil {
		return failure("cscc: no channel registry configured")
	}
	switch fn {
	case JoinChain:
		if err := c.requireAdmin(stub, fn); err != nil {
			return failure(err.Error())
		}
		return c.joinChain(args[1])
	case JoinChainBySnapshot:
		if err := c.requireAdmin(stub, fn); err != nil {
			return failure(err.Error())
		}
		return failure("JoinChainBySnapshot: joining from a snapshot is not supported by this peer")
	case JoinBySnapshotStatus:
		if err := c.requireAdmin(stub, fn); err != nil {
			return failure(err.Error())
		}
		return marshalResult(&peer.JoinBySnapshotStatus{})
	case GetChannels:
		res := &peer.ChannelQueryResponse{}
		for _, ch := range c.Channels.List() {
			res.Channels = append(res.Channels, &peer.ChannelInfo{ChannelId: ch})
		}
		return marshalResult(res)
	case GetConfigBlock:
		block, resp := c.configBlock(string(args[1]))
		if resp != nil {
			return resp
		}
		return marshalResult(block)
	case GetChannelConfig:
		block, resp := c.configBlock(string(args[1]))
		if resp != nil {
			return resp
		}
		env, _, err := channelconfig.ConfigFromBlock(block)
		if err != nil {
			return failure(fmt.Sprintf("channel %s: config block: %s", args[1], err))
		}
		return marshalResult(env.GetConfig())
	}
	return failure(fmt.Sprintf("Requested function %s not found.", fn))
}

func (c *CSCC) requireAdmin(stub Stub, fn string) error {
	id := stub.Creator()
	if id == nil || c.IsLocalAdmin == nil || !c.IsLocalAdmin(id) {
		who := "<none>"
		if id != nil {
			who = id.String()
		}
		return fmt.Errorf("access denied for [%s]: creator %s is not an admin of the local MSP", fn, who)
	}
	return nil
}

func (c *CSCC) joinChain(raw []byte) *peer.Response {
	if len(raw) == 0 {
		return failure("Cannot join the channel <nil> configuration block provided")
	}
	block := &common.Block{}
	if err := proto.Unmarshal(raw, block); err != nil {
		return failure(fmt.Sprintf("Failed to reconstruct the genesis block, %s", err))
	}
	env, channelID, err := channelconfig.ConfigFromBlock(block)
	if err != nil {
		return failure(fmt.Sprintf("\"JoinChain\" request failed to extract channel id from the block due to [%s]", err))
	}
	if _, ok := env.GetConfig().GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey]; !ok {
		return failure(fmt.Sprintf("\"JoinChain\" for channelID = %s failed because of validation of configuration block, because of Invalid configuration block, missing %s configuration group", channelID, channelconfig.ApplicationGroupKey))
	}
	if slices.Contains(c.Channels.List(), channelID) {
		return failure(fmt.Sprintf("cannot create ledger from genesis block: ledger [%s] already exists with state [ACTIVE]", channelID))
	}
	fillTxFilter(block)
	if err := c.Channels.Join(block); err != nil {
		return failure(fmt.Sprintf("joining channel %s: %s", channelID, err))
	}
	return success(nil)
}

// fillTxFilter marks every transaction of a block that arrives without a
// TRANSACTIONS_FILTER as valid, as Fabric does for join blocks.
func fillTxFilter(b *common.Block) {
	if b.Metadata == nil {
		b.Metadata = &common.BlockMetadata{}
	}
	for len(b.Metadata.Metadata) <= int(common.BlockMetadataIndex_COMMIT_HASH) {
		b.Metadata.Metadata = append(b.Metadata.Metadata, nil)
	}
	idx := common.BlockMetadataIndex_TRANSACTIONS_FILTER
	if len(b.Metadata.Metadata[idx]) == 0 {
		b.Metadata.Metadata[idx] = make([]byte, len(b.GetData().GetData())) // VALID is 0
	}
}

func (c *CSCC) configBlock(channel string) (*common.Block, *peer.Response) {
	if channel == "" {
		return nil, failure("ChannelID must not be nil.")
	}
	if !slices.Contains(c.Channels.List(), channel) {
		return nil, failure(fmt.Sprintf("Unknown channel ID, %s", channel))
	}
	block, err := c.Channels.ConfigBlock(channel)
	if err != nil {
		return nil, failure(fmt.Sprintf("channel %s: config block: %s", channel, err))
	}
	return block, nil
}

func marshalResult(m proto.Message) *peer.Response {
	b, err := proto.Marshal(m)
	if err != nil {
		return failure(fmt.Sprintf("marshaling result: %s", err))
	}
	return success(b)
}
