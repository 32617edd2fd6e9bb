package channelconfig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	mspproto "weft/wire/msp"
)

// Config element keys (group, value and policy names) must match this and
// be at most 249 characters; "." and ".." are reserved (Fabric configtx rule).
var specKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)

const specMaxKeyLength = 249

func specCheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("name is empty")
	case len(key) > specMaxKeyLength:
		return fmt.Errorf("name %q is longer than %d characters", key, specMaxKeyLength)
	case key == "." || key == "..":
		return fmt.Errorf("name %q is reserved", key)
	case !specKeyPattern.MatchString(key):
		return fmt.Errorf("name %q has characters outside [a-zA-Z0-9.-]", key)
	}
	return nil
}

// Capability names each level of a Fabric v2.5/v3 network understands; a node
// refuses a channel that requires one it does not know.
var (
	specChannelCaps     = []string{"V1_1", "V1_3", "V1_4_2", "V1_4_3", "V2_0", "V3_0"}
	specOrdererCaps     = []string{"V1_1", "V1_4_2", "V2_0"}
	specApplicationCaps = []string{"V1_1", "V1_2", "V1_3", "V1_4_2", "V2_0", "V2_5"}
)

func specCheckCapabilities(field string, caps, known []string) error {
	for i, c := range caps {
		if !slices.Contains(known, c) {
			return fmt.Errorf("%s[%d]: unknown capability %q (known: %v)", field, i, c, known)
		}
	}
	return nil
}

func specCheckPolicies(field string, pols map[string]PolicySpec, required ...string) error {
	if len(pols) == 0 {
		return fmt.Errorf("%s: no policies defined", field)
	}
	for _, name := range required {
		if _, ok := pols[name]; !ok {
			return fmt.Errorf("%s: required policy %q is missing", field, name)
		}
	}
	for _, name := range specSortedKeys(pols) {
		if err := specCheckKey(name); err != nil {
			return fmt.Errorf("%s: policy %w", field, err)
		}
		p := pols[name]
		if p.Type != PolicyTypeImplicitMeta && p.Type != PolicyTypeSignature {
			return fmt.Errorf("%s[%s].Type: unknown policy type %q (want %q or %q)",
				field, name, p.Type, PolicyTypeImplicitMeta, PolicyTypeSignature)
		}
		if p.Rule == "" {
			return fmt.Errorf("%s[%s].Rule is empty", field, name)
		}
	}
	return nil
}

// specChannelCapSet answers the capability questions that change what the
// channel config may contain.
type specChannelCapSet struct {
	v3          bool // V3_0: no global OrdererAddresses, every orderer org needs Endpoints
	orgEndpoint bool // V1_4_2 and later: orderer orgs may carry Endpoints
}

func specChannelCapFlags(caps []string) specChannelCapSet {
	var s specChannelCapSet
	for _, c := range caps {
		switch c {
		case "V3_0":
			s.v3 = true
			s.orgEndpoint = true
		case "V1_4_2", "V1_4_3", "V2_0":
			s.orgEndpoint = true
		}
	}
	return s
}

// specCheckOrgs validates one section's orgs. seen maps MSP ID to the MSP
// config already used for it in another section: an org may appear both as
// orderer and application org, but one MSP ID cannot have two definitions.
func specCheckOrgs(section string, orgs []Org, seen map[string]*mspproto.MSPConfig) error {
	names := map[string]bool{}
	ids := map[string]bool{}
	for i, org := range orgs {
		field := fmt.Sprintf("%s.Organizations[%d]", section, i)
		if err := specCheckKey(org.Name); err != nil {
			return fmt.Errorf("%s.Name: %w", field, err)
		}
		field = fmt.Sprintf("%s.Organizations[%d] (%s)", section, i, org.Name)
		if names[org.Name] {
			return fmt.Errorf("%s: duplicate organization name %q", field, org.Name)
		}
		names[org.Name] = true
		if org.ID == "" {
			return fmt.Errorf("%s.ID (MSP ID) is empty", field)
		}
		if ids[org.ID] {
			return fmt.Errorf("%s: duplicate MSP ID %q", field, org.ID)
		}
		ids[org.ID] = true
		if err := specCheckMSP(org); err != nil {
			return fmt.Errorf("%s.MSP: %w", field, err)
		}
		if prev, ok := seen[org.ID]; ok && !proto.Equal(prev, org.MSP) {
			return fmt.Errorf("%s.MSP: MSP ID %q is defined twice with different MSP configs", field, org.ID)
		}
		seen[org.ID] = org.MSP
		if err := specCheckPolicies(field+".Policies", org.Policies, "Readers", "Writers", "Admins"); err != nil {
			return err
		}
		for j, ap := range org.AnchorPeers {
			if ap.Host == "" {
				return fmt.Errorf("%s.AnchorPeers[%d].Host is empty", field, j)
			}
			if ap.Port <= 0 || ap.Port > 65535 {
				return fmt.Errorf("%s.AnchorPeers[%d].Port %d is not in 1..65535", field, j, ap.Port)
			}
		}
		for j, ep := range org.OrdererEndpoints {
			if ep == "" {
				return fmt.Errorf("%s.OrdererEndpoints[%d] is empty", field, j)
			}
		}
	}
	return nil
}

func specCheckMSP(org Org) error {
	if org.MSP == nil {
		return errors.New("missing MSP config")
	}
	if org.MSP.GetType() != 0 {
		return fmt.Errorf("MSP type %d is not supported (only FABRIC = 0)", org.MSP.GetType())
	}
	var fc mspproto.FabricMSPConfig
	if err := proto.Unmarshal(org.MSP.GetConfig(), &fc); err != nil {
		return fmt.Errorf("config is not a FabricMSPConfig: %w", err)
	}
	if fc.GetName() != org.ID {
		return fmt.Errorf("MSP name %q differs from org ID %q", fc.GetName(), org.ID)
	}
	if len(fc.GetRootCerts()) == 0 {
		return errors.New("no root certificates")
	}
	return nil
}

// specOrdererWithDefaults returns a copy of o with zero fields replaced by
// configtxgen's defaults, so identical yaml gives identical config.
func specOrdererWithDefaults(o *OrdererSpec) OrdererSpec {
	c := *o
	if c.BatchTimeout == 0 {
		c.BatchTimeout = DefaultBatchTimeout
	}
	if c.BatchSize.MaxMessageCount == 0 {
		c.BatchSize.MaxMessageCount = DefaultMaxMessageCount
	}
	if c.BatchSize.AbsoluteMaxBytes == 0 {
		c.BatchSize.AbsoluteMaxBytes = DefaultAbsoluteMaxBytes
	}
	if c.BatchSize.PreferredMaxBytes == 0 {
		c.BatchSize.PreferredMaxBytes = DefaultPreferredMaxBytes
	}
	if c.EtcdRaft != nil {
		r := *c.EtcdRaft
		d := DefaultEtcdRaftOptions()
		if r.Options.TickInterval == "" {
			r.Options.TickInterval = d.TickInterval
		}
		if r.Options.ElectionTick == 0 {
			r.Options.ElectionTick = d.ElectionTick
		}
		if r.Options.HeartbeatTick == 0 {
			r.Options.HeartbeatTick = d.HeartbeatTick
		}
		if r.Options.MaxInflightBlocks == 0 {
			r.Options.MaxInflightBlocks = d.MaxInflightBlocks
		}
		if r.Options.SnapshotIntervalSize == 0 {
			r.Options.SnapshotIntervalSize = d.SnapshotIntervalSize
		}
		c.EtcdRaft = &r
	}
	return c
}

// specCheckOrderer validates an orderer section that already has defaults.
func specCheckOrderer(o *OrdererSpec, chCaps specChannelCapSet, globalAddrs []string) error {
	if o.OrdererType != OrdererTypeEtcdRaft {
		return fmt.Errorf("Orderer.OrdererType: unsupported orderer type %q (supported: %q)", o.OrdererType, OrdererTypeEtcdRaft)
	}
	if o.BatchTimeout < 0 {
		return fmt.Errorf("Orderer.BatchTimeout (%s) must be positive", o.BatchTimeout)
	}
	bs := o.BatchSize
	if bs.PreferredMaxBytes > bs.AbsoluteMaxBytes {
		return fmt.Errorf("Orderer.BatchSize.PreferredMaxBytes (%d) must not exceed AbsoluteMaxBytes (%d)",
			bs.PreferredMaxBytes, bs.AbsoluteMaxBytes)
	}
	if err := specCheckPolicies("Orderer.Policies", o.Policies, "Readers", "Writers", "Admins", "BlockValidation"); err != nil {
		return err
	}
	if err := specCheckCapabilities("Orderer.Capabilities", o.Capabilities, specOrdererCaps); err != nil {
		return err
	}
	if err := specCheckEtcdRaft(o.EtcdRaft); err != nil {
		return err
	}
	if len(o.Organizations) == 0 {
		return errors.New("Orderer.Organizations: at least one orderer organization is required")
	}
	for i, a := range globalAddrs {
		if a == "" {
			return fmt.Errorf("Orderer.Addresses[%d] is empty", i)
		}
	}
	switch {
	case chCaps.v3 && len(globalAddrs) > 0:
		return errors.New("Orderer.Addresses: global orderer addresses are not allowed with channel capability V3_0; use OrdererEndpoints of the orderer organizations")
	case !chCaps.orgEndpoint && len(globalAddrs) == 0:
		return errors.New("Orderer.Addresses: required unless the channel capability is V1_4_2 or later")
	}
	anyEndpoint := len(globalAddrs) > 0
	for i, org := range o.Organizations {
		has := len(org.OrdererEndpoints) > 0
		anyEndpoint = anyEndpoint || has
		switch {
		case chCaps.v3 && !has:
			return fmt.Errorf("Orderer.Organizations[%d] (%s).OrdererEndpoints: required with channel capability V3_0", i, org.Name)
		case !chCaps.orgEndpoint && has:
			return fmt.Errorf("Orderer.Organizations[%d] (%s).OrdererEndpoints: not allowed before channel capability V1_4_2", i, org.Name)
		}
	}
	if !anyEndpoint {
		return errors.New("Orderer: no orderer endpoints at all; set OrdererEndpoints on the orderer organizations")
	}
	return nil
}

func specCheckEtcdRaft(r *EtcdRaftSpec) error {
	if r == nil {
		return errors.New("Orderer.EtcdRaft: missing for orderer type etcdraft")
	}
	opt := r.Options
	if d, err := time.ParseDuration(opt.TickInterval); err != nil || d <= 0 {
		return fmt.Errorf("Orderer.EtcdRaft.Options.TickInterval %q is not a positive duration", opt.TickInterval)
	}
	if opt.ElectionTick <= opt.HeartbeatTick {
		return fmt.Errorf("Orderer.EtcdRaft.Options.ElectionTick (%d) must be greater than HeartbeatTick (%d)",
			opt.ElectionTick, opt.HeartbeatTick)
	}
	if len(r.Consenters) == 0 {
		return errors.New("Orderer.EtcdRaft.Consenters: at least one consenter is required")
	}
	seen := map[string]bool{}
	for i, c := range r.Consenters {
		field := fmt.Sprintf("Orderer.EtcdRaft.Consenters[%d]", i)
		if c.Host == "" {
			return fmt.Errorf("%s.Host is empty", field)
		}
		if c.Port <= 0 || c.Port > 65535 {
			return fmt.Errorf("%s.Port %d is not in 1..65535", field, c.Port)
		}
		ep := fmt.Sprintf("%s:%d", c.Host, c.Port)
		if seen[ep] {
			return fmt.Errorf("%s: duplicate consenter %s", field, ep)
		}
		seen[ep] = true
		if err := specCheckCertPEM(c.ClientTLSCert); err != nil {
			return fmt.Errorf("%s (%s).ClientTLSCert: %w", field, ep, err)
		}
		if err := specCheckCertPEM(c.ServerTLSCert); err != nil {
			return fmt.Errorf("%s (%s).ServerTLSCert: %w", field, ep, err)
		}
	}
	return nil
}

func specCheckCertPEM(b []byte) error {
	if len(b) == 0 {
		return errors.New("missing certificate")
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return errors.New("not a PEM CERTIFICATE block")
	}
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return fmt.Errorf("bad certificate: %w", err)
	}
	return nil
}

func specCheckApplication(a *ApplicationSpec) error {
	if err := specCheckPolicies("Application.Policies", a.Policies, "Readers", "Writers", "Admins"); err != nil {
		return err
	}
	if err := specCheckCapabilities("Application.Capabilities", a.Capabilities, specApplicationCaps); err != nil {
		return err
	}
	if len(a.Organizations) == 0 {
		return errors.New("Application.Organizations: at least one application organization is required")
	}
	for _, res := range specSortedKeys(a.ACLs) {
		if res == "" {
			return errors.New("Application.ACLs: empty resource name")
		}
		if a.ACLs[res] == "" {
			return fmt.Errorf("Application.ACLs[%s]: empty policy reference", res)
		}
	}
	return nil
}

func specSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
