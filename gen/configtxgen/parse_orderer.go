package configtxgen

import (
	"fmt"
	"math"
	"time"
)

// parseOrderer reads an Orderer section. Only etcdraft is supported: solo and
// kafka are gone from Fabric v3 and BFT needs identities weft does not encode
// yet. Kafka, SmartBFT and ConsenterMapping are accepted so that stock
// fabric-samples files load, and ignored.
func parseOrderer(parent obj, baseDir string) (*fileOrderer, error) {
	o, err := parent.sub("Orderer", "OrdererType", "Addresses", "BatchTimeout", "BatchSize", "EtcdRaft",
		"Organizations", "Capabilities", "Policies", "MaxChannels", "Kafka", "SmartBFT", "ConsenterMapping")
	if err != nil {
		return nil, err
	}
	ord := &fileOrderer{}
	if ord.OrdererType, err = o.str("OrdererType"); err != nil {
		return nil, err
	}
	if ord.OrdererType != "etcdraft" {
		if ord.OrdererType == "" {
			return nil, fmt.Errorf("%s: missing (weft supports etcdraft)", o.at("OrdererType"))
		}
		return nil, fmt.Errorf("%s: orderer type %q not supported (weft supports etcdraft)", o.at("OrdererType"), ord.OrdererType)
	}
	if ord.Addresses, err = o.strList("Addresses"); err != nil {
		return nil, err
	}
	if ord.BatchTimeout, err = parseBatchTimeout(o); err != nil {
		return nil, err
	}
	if err := parseBatchSize(o, ord); err != nil {
		return nil, err
	}
	if err := parseEtcdRaft(o, baseDir, ord); err != nil {
		return nil, err
	}
	if ord.Organizations, err = parseOrgs(o, baseDir); err != nil {
		return nil, err
	}
	if ord.Capabilities, err = parseCapabilities(o, "Capabilities"); err != nil {
		return nil, err
	}
	if ord.Policies, err = parsePolicies(o, "Policies"); err != nil {
		return nil, err
	}
	if ord.MaxChannels, err = o.uint("MaxChannels", math.MaxUint64); err != nil {
		return nil, err
	}
	return ord, nil
}

func parseBatchTimeout(o obj) (time.Duration, error) {
	if !o.has("BatchTimeout") {
		return defaultBatchTimeout, nil
	}
	s, ok := o.m["BatchTimeout"].(string)
	if !ok {
		return 0, fmt.Errorf("%s: want a duration such as \"2s\", got %s", o.at("BatchTimeout"), describe(o.m["BatchTimeout"]))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: want a duration such as \"2s\": %w", o.at("BatchTimeout"), err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: must be positive, got %s", o.at("BatchTimeout"), s)
	}
	return d, nil
}

func parseBatchSize(o obj, ord *fileOrderer) error {
	bs, err := o.sub("BatchSize", "MaxMessageCount", "AbsoluteMaxBytes", "PreferredMaxBytes")
	if err != nil {
		return err
	}
	count, err := bs.uint("MaxMessageCount", math.MaxUint32)
	if err != nil {
		return err
	}
	ord.MaxMessageCount = uint32(count)
	if ord.AbsoluteMaxBytes, err = bs.byteSize("AbsoluteMaxBytes"); err != nil {
		return err
	}
	if ord.PreferredMaxBytes, err = bs.byteSize("PreferredMaxBytes"); err != nil {
		return err
	}
	// Zero means "not set" in configtxgen, so it takes the default.
	if ord.MaxMessageCount == 0 {
		ord.MaxMessageCount = defaultMaxMessageCount
	}
	if ord.AbsoluteMaxBytes == 0 {
		ord.AbsoluteMaxBytes = defaultAbsoluteMaxBytes
	}
	if ord.PreferredMaxBytes == 0 {
		ord.PreferredMaxBytes = defaultPreferredMaxBytes
	}
	if ord.PreferredMaxBytes > ord.AbsoluteMaxBytes {
		return fmt.Errorf("%s: %d bytes is more than AbsoluteMaxBytes (%d)", bs.at("PreferredMaxBytes"), ord.PreferredMaxBytes, ord.AbsoluteMaxBytes)
	}
	return nil
}

func parseEtcdRaft(o obj, baseDir string, ord *fileOrderer) error {
	if !o.has("EtcdRaft") {
		return fmt.Errorf("%s: missing (needed for orderer type etcdraft)", o.at("EtcdRaft"))
	}
	er, err := o.sub("EtcdRaft", "Consenters", "Options")
	if err != nil {
		return err
	}
	items, err := er.list("Consenters")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%s: no consenters listed", er.at("Consenters"))
	}
	for i, v := range items {
		path := fmt.Sprintf("%s[%d]", er.at("Consenters"), i)
		hp, co, err := parseHostPort(path, v, "ClientTLSCert", "ServerTLSCert")
		if err != nil {
			return err
		}
		c := fileConsenter{Host: hp.Host, Port: hp.Port}
		if err := requiredStrings(co, []string{"ClientTLSCert", "ServerTLSCert"}, []*string{&c.ClientTLSCert, &c.ServerTLSCert}); err != nil {
			return err
		}
		c.ClientTLSCert = resolvePath(baseDir, c.ClientTLSCert)
		c.ServerTLSCert = resolvePath(baseDir, c.ServerTLSCert)
		ord.Consenters = append(ord.Consenters, c)
	}
	return parseRaftOptions(er, &ord.Options)
}

func parseRaftOptions(er obj, opt *fileRaftOptions) error {
	op, err := er.sub("Options", "TickInterval", "ElectionTick", "HeartbeatTick", "MaxInflightBlocks", "SnapshotIntervalSize")
	if err != nil {
		return err
	}
	if opt.TickInterval, err = op.str("TickInterval"); err != nil {
		return err
	}
	if opt.TickInterval == "" {
		opt.TickInterval = defaultTickInterval
	}
	if d, err := time.ParseDuration(opt.TickInterval); err != nil || d <= 0 {
		return fmt.Errorf("%s: want a positive duration such as \"500ms\", got %q", op.at("TickInterval"), opt.TickInterval)
	}
	ticks := []struct {
		key string
		dst *uint32
		def uint32
	}{
		{"ElectionTick", &opt.ElectionTick, defaultElectionTick},
		{"HeartbeatTick", &opt.HeartbeatTick, defaultHeartbeatTick},
		{"MaxInflightBlocks", &opt.MaxInflightBlocks, defaultMaxInflight},
	}
	for _, t := range ticks {
		n, err := op.uint(t.key, math.MaxUint32)
		if err != nil {
			return err
		}
		*t.dst = uint32(n)
		if n == 0 {
			*t.dst = t.def
		}
	}
	if opt.SnapshotIntervalSize, err = op.byteSize("SnapshotIntervalSize"); err != nil {
		return err
	}
	if opt.SnapshotIntervalSize == 0 {
		opt.SnapshotIntervalSize = defaultSnapshotInterval
	}
	if opt.ElectionTick <= opt.HeartbeatTick {
		return fmt.Errorf("%s: ElectionTick (%d) must be greater than HeartbeatTick (%d)", op.path, opt.ElectionTick, opt.HeartbeatTick)
	}
	return nil
}
