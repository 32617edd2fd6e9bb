package configtxgen

import (
	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

// ruleCtx tells a bytesRule where the bytes sit.
type ruleCtx struct {
	msg   proto.Message // the message owning the bytes field
	label string        // the label the parent gave msg: a map key such as "BatchSize", or a metadata slot name
	index int           // position in a repeated bytes field, -1 for a singular one
}

// bytesRule picks the message type hidden in a bytes field, and the label to
// hand down to it. A nil message leaves the bytes as base64.
type bytesRule func(c ruleCtx) (proto.Message, string)

func fixed(newMsg func() proto.Message) bytesRule {
	return func(ruleCtx) (proto.Message, string) { return newMsg(), "" }
}

// bytesRules maps "<message full name>.<bytes field>" to the rule that
// decodes that field.
var bytesRules = map[string]bytesRule{
	"common.BlockData.data":                          fixed(func() proto.Message { return &common.Envelope{} }),
	"common.Envelope.payload":                        fixed(func() proto.Message { return &common.Payload{} }),
	"common.Header.channel_header":                   fixed(func() proto.Message { return &common.ChannelHeader{} }),
	"common.Header.signature_header":                 fixed(func() proto.Message { return &common.SignatureHeader{} }),
	"common.MetadataSignature.signature_header":      fixed(func() proto.Message { return &common.SignatureHeader{} }),
	"common.ConfigSignature.signature_header":        fixed(func() proto.Message { return &common.SignatureHeader{} }),
	"common.ConfigUpdateEnvelope.config_update":      fixed(func() proto.Message { return &common.ConfigUpdate{} }),
	"common.OrdererBlockMetadata.consenter_metadata": fixed(func() proto.Message { return &common.Metadata{} }),
	"common.Payload.data":                            payloadData,
	"common.BlockMetadata.metadata":                  blockMetadataSlot,
	"common.Metadata.value":                          metadataValue,
	"common.ConfigValue.value":                       configValue,
	"common.Policy.value":                            policyValue,
	"common.MSPPrincipal.principal":                  principal,
	"msp.MSPConfig.config":                           mspConfig,
	"orderer.ConsensusType.metadata":                 consensusMetadata,
}

// configValueTypes maps a config value key to the message stored under it.
// Keys are unique across the channel tree, so the key alone decides.
var configValueTypes = map[string]func() proto.Message{
	// /Channel
	"HashingAlgorithm":          func() proto.Message { return &common.HashingAlgorithm{} },
	"BlockDataHashingStructure": func() proto.Message { return &common.BlockDataHashingStructure{} },
	"OrdererAddresses":          func() proto.Message { return &common.OrdererAddresses{} },
	"Consortium":                func() proto.Message { return &common.Consortium{} },
	"Capabilities":              func() proto.Message { return &common.Capabilities{} },
	// /Channel/Orderer
	"ConsensusType":       func() proto.Message { return &orderer.ConsensusType{} },
	"BatchSize":           func() proto.Message { return &orderer.BatchSize{} },
	"BatchTimeout":        func() proto.Message { return &orderer.BatchTimeout{} },
	"ChannelRestrictions": func() proto.Message { return &orderer.ChannelRestrictions{} },
	"KafkaBrokers":        func() proto.Message { return &orderer.KafkaBrokers{} },
	"Orderers":            func() proto.Message { return &common.Orderers{} },
	// /Channel/Application
	"ACLs": func() proto.Message { return &peer.ACLs{} },
	// organizations
	"MSP":                   func() proto.Message { return &mspproto.MSPConfig{} },
	"Endpoints":             func() proto.Message { return &common.OrdererAddresses{} },
	"AnchorPeers":           func() proto.Message { return &peer.AnchorPeers{} },
	"ChannelCreationPolicy": func() proto.Message { return &common.Policy{} },
}

func configValue(c ruleCtx) (proto.Message, string) {
	if f, ok := configValueTypes[c.label]; ok {
		return f(), ""
	}
	return nil, ""
}

// payloadData depends on the header type, which sits in the same payload.
func payloadData(c ruleCtx) (proto.Message, string) {
	p, ok := c.msg.(*common.Payload)
	if !ok || p.GetHeader() == nil {
		return nil, ""
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, ""
	}
	switch common.HeaderType(ch.GetType()) {
	case common.HeaderType_CONFIG:
		return &common.ConfigEnvelope{}, ""
	case common.HeaderType_CONFIG_UPDATE:
		return &common.ConfigUpdateEnvelope{}, ""
	case common.HeaderType_ENDORSER_TRANSACTION:
		return &peer.Transaction{}, ""
	}
	return nil, ""
}

// blockMetadataSlot labels each slot so that metadataValue knows what the
// inner value holds. The transactions filter is a plain byte array.
func blockMetadataSlot(c ruleCtx) (proto.Message, string) {
	if c.index == int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		return nil, ""
	}
	name, ok := common.BlockMetadataIndex_name[int32(c.index)]
	if !ok {
		return nil, ""
	}
	return &common.Metadata{}, name
}

func metadataValue(c ruleCtx) (proto.Message, string) {
	switch c.label {
	case common.BlockMetadataIndex_SIGNATURES.String():
		return &common.OrdererBlockMetadata{}, ""
	case common.BlockMetadataIndex_LAST_CONFIG.String():
		return &common.LastConfig{}, ""
	}
	return nil, ""
}

func policyValue(c ruleCtx) (proto.Message, string) {
	p, ok := c.msg.(*common.Policy)
	if !ok {
		return nil, ""
	}
	switch common.Policy_PolicyType(p.GetType()) {
	case common.Policy_SIGNATURE:
		return &common.SignaturePolicyEnvelope{}, ""
	case common.Policy_IMPLICIT_META:
		return &common.ImplicitMetaPolicy{}, ""
	}
	return nil, ""
}

func principal(c ruleCtx) (proto.Message, string) {
	p, ok := c.msg.(*common.MSPPrincipal)
	if !ok {
		return nil, ""
	}
	switch p.GetPrincipalClassification() {
	case common.MSPPrincipal_ROLE:
		return &common.MSPRole{}, ""
	case common.MSPPrincipal_ORGANIZATION_UNIT:
		return &common.OrganizationUnit{}, ""
	case common.MSPPrincipal_IDENTITY:
		return &mspproto.SerializedIdentity{}, ""
	case common.MSPPrincipal_ANONYMITY:
		return &common.MSPIdentityAnonymity{}, ""
	case common.MSPPrincipal_COMBINED:
		return &common.CombinedPrincipal{}, ""
	}
	return nil, ""
}

// MSP provider types: 0 is the X.509 "FABRIC" MSP, 1 is Idemix.
func mspConfig(c ruleCtx) (proto.Message, string) {
	m, ok := c.msg.(*mspproto.MSPConfig)
	if !ok {
		return nil, ""
	}
	switch m.GetType() {
	case 0:
		return &mspproto.FabricMSPConfig{}, ""
	case 1:
		return &mspproto.IdemixMSPConfig{}, ""
	}
	return nil, ""
}

func consensusMetadata(c ruleCtx) (proto.Message, string) {
	t, ok := c.msg.(*orderer.ConsensusType)
	if ok && t.GetType() == "etcdraft" {
		return &etcdraft.ConfigMetadata{}, ""
	}
	return nil, ""
}
