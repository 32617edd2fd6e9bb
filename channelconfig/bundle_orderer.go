package channelconfig

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

// Consensus types a Fabric v3 ordering service can run.
const (
	consensusRaft = "etcdraft"
	consensusBFT  = "BFT"
)

type ordererValues struct {
	consensus    *orderer.ConsensusType
	raft         *etcdraft.ConfigMetadata
	bft          *common.Orderers
	batchSize    *orderer.BatchSize
	batchTimeout time.Duration
	caps         CapabilitySet
	orgs         []OrdererOrg
}

func loadOrderer(g *common.ConfigGroup, channelCaps CapabilitySet, set *mspSet) (*ordererValues, error) {
	if err := checkValueKeys(g, ordererValueKeys); err != nil {
		return nil, err
	}
	ov := &ordererValues{}
	var err error
	if ov.caps, err = decodeCapabilities(g, ordererCapabilityNames); err != nil {
		return nil, err
	}
	if err := ov.loadBatch(g); err != nil {
		return nil, err
	}
	if err := ov.loadConsensus(g); err != nil {
		return nil, err
	}
	for _, name := range sortedGroupKeys(g) {
		org := g.Groups[name]
		if len(org.GetGroups()) > 0 {
			return nil, fmt.Errorf("%s: organisation groups cannot have sub-groups", name)
		}
		if err := checkValueKeys(org, ordererOrgKeys); err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		id, err := loadOrgMSP("/Channel/Orderer/"+name, org, set)
		if err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		ep := &common.OrdererAddresses{}
		if _, err := decodeValue(org, EndpointsKey, ep); err != nil {
			return nil, fmt.Errorf("%s/%w", name, err)
		}
		for i, a := range ep.Addresses {
			if a == "" {
				return nil, fmt.Errorf("%s/Values/%s: address %d is empty", name, EndpointsKey, i)
			}
		}
		ov.orgs = append(ov.orgs, OrdererOrg{Name: name, MSPID: id, Endpoints: ep.Addresses})
	}
	return ov, nil
}

func (ov *ordererValues) loadBatch(g *common.ConfigGroup) error {
	bs := &orderer.BatchSize{}
	ok, err := decodeValue(g, "BatchSize", bs)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("Values/BatchSize: missing")
	case bs.MaxMessageCount == 0:
		return fmt.Errorf("Values/BatchSize: max_message_count must be > 0")
	case bs.AbsoluteMaxBytes == 0:
		return fmt.Errorf("Values/BatchSize: absolute_max_bytes must be > 0")
	case bs.PreferredMaxBytes == 0:
		return fmt.Errorf("Values/BatchSize: preferred_max_bytes must be > 0")
	case bs.PreferredMaxBytes > bs.AbsoluteMaxBytes:
		return fmt.Errorf("Values/BatchSize: preferred_max_bytes %d is greater than absolute_max_bytes %d", bs.PreferredMaxBytes, bs.AbsoluteMaxBytes)
	}
	ov.batchSize = bs

	bt := &orderer.BatchTimeout{}
	ok, err = decodeValue(g, "BatchTimeout", bt)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("Values/BatchTimeout: missing")
	}
	d, err := time.ParseDuration(bt.Timeout)
	if err != nil {
		return fmt.Errorf("Values/BatchTimeout: timeout %q: %w", bt.Timeout, err)
	}
	if d <= 0 {
		return fmt.Errorf("Values/BatchTimeout: timeout %q must be positive", bt.Timeout)
	}
	ov.batchTimeout = d
	return nil
}

func (ov *ordererValues) loadConsensus(g *common.ConfigGroup) error {
	ct := &orderer.ConsensusType{}
	ok, err := decodeValue(g, "ConsensusType", ct)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("Values/ConsensusType: missing")
	}
	ov.consensus = ct
	switch ct.Type {
	case consensusRaft:
		md := &etcdraft.ConfigMetadata{}
		if err := proto.Unmarshal(ct.Metadata, md); err != nil {
			return fmt.Errorf("Values/ConsensusType: etcdraft metadata: %w", err)
		}
		if len(md.Consenters) == 0 {
			return fmt.Errorf("Values/ConsensusType: etcdraft metadata lists no consenters")
		}
		seen := map[string]bool{}
		for i, c := range md.Consenters {
			if c.GetHost() == "" || c.GetPort() == 0 || c.GetPort() > 65535 {
				return fmt.Errorf("Values/ConsensusType: etcdraft consenter %d: bad address %q:%d", i, c.GetHost(), c.GetPort())
			}
			addr := fmt.Sprintf("%s:%d", c.GetHost(), c.GetPort())
			if seen[addr] {
				return fmt.Errorf("Values/ConsensusType: etcdraft consenter %d: duplicate address %s", i, addr)
			}
			seen[addr] = true
		}
		ov.raft = md
	case consensusBFT:
		ords := &common.Orderers{}
		ok, err := decodeValue(g, "Orderers", ords)
		if err != nil {
			return err
		}
		if !ok || len(ords.ConsenterMapping) == 0 {
			return fmt.Errorf("Values/Orderers: BFT needs a non-empty consenter mapping")
		}
		ids := map[uint32]bool{}
		for i, c := range ords.ConsenterMapping {
			if ids[c.GetId()] {
				return fmt.Errorf("Values/Orderers: consenter %d: duplicate id %d", i, c.GetId())
			}
			ids[c.GetId()] = true
		}
		ov.bft = ords
	default:
		return fmt.Errorf("Values/ConsensusType: unknown consensus type %q (want %s or %s)", ct.Type, consensusRaft, consensusBFT)
	}
	return nil
}
