package configtxgen

import (
	"fmt"
	"os"

	"weft/channelconfig"
	"weft/msp"
)

// materialize reads the files a parsed profile refers to (MSP directories,
// consenter TLS certificates) and builds the channelconfig input.
func materialize(fp *fileProfile) (*channelconfig.Profile, error) {
	p := &channelconfig.Profile{
		Policies:     policySpecs(fp.Policies),
		Capabilities: fp.Capabilities,
	}
	if a := fp.Application; a != nil {
		orgs, err := materializeOrgs(a.Organizations)
		if err != nil {
			return nil, err
		}
		p.Application = &channelconfig.ApplicationSpec{
			Organizations: orgs,
			Policies:      policySpecs(a.Policies),
			Capabilities:  a.Capabilities,
			ACLs:          a.ACLs,
		}
	}
	if o := fp.Orderer; o != nil {
		orgs, err := materializeOrgs(o.Organizations)
		if err != nil {
			return nil, err
		}
		raft := &channelconfig.EtcdRaftSpec{Options: channelconfig.EtcdRaftOptions(o.Options)}
		for i, c := range o.Consenters {
			cons, err := materializeConsenter(i, c)
			if err != nil {
				return nil, err
			}
			raft.Consenters = append(raft.Consenters, cons)
		}
		p.Orderer = &channelconfig.OrdererSpec{
			OrdererType:  o.OrdererType,
			Addresses:    o.Addresses,
			BatchTimeout: o.BatchTimeout,
			BatchSize: channelconfig.BatchSizeSpec{
				MaxMessageCount:   o.MaxMessageCount,
				AbsoluteMaxBytes:  o.AbsoluteMaxBytes,
				PreferredMaxBytes: o.PreferredMaxBytes,
			},
			EtcdRaft:      raft,
			Organizations: orgs,
			Policies:      policySpecs(o.Policies),
			Capabilities:  o.Capabilities,
			MaxChannels:   o.MaxChannels,
		}
	}
	return p, nil
}

func materializeConsenter(i int, c fileConsenter) (channelconfig.Consenter, error) {
	out := channelconfig.Consenter{Host: c.Host, Port: int(c.Port)}
	for _, f := range []struct {
		what string
		path string
		dst  *[]byte
	}{
		{"ClientTLSCert", c.ClientTLSCert, &out.ClientTLSCert},
		{"ServerTLSCert", c.ServerTLSCert, &out.ServerTLSCert},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return out, fmt.Errorf("consenter %d (%s:%d): %s: %w", i, c.Host, c.Port, f.what, err)
		}
		*f.dst = b
	}
	return out, nil
}

func materializeOrgs(orgs []fileOrg) ([]channelconfig.Org, error) {
	out := make([]channelconfig.Org, 0, len(orgs))
	for _, o := range orgs {
		org, err := materializeOrg(o)
		if err != nil {
			return nil, err
		}
		out = append(out, org)
	}
	return out, nil
}

func materializeOrg(o fileOrg) (channelconfig.Org, error) {
	st, err := os.Stat(o.MSPDir)
	switch {
	case err != nil && isNotExist(err):
		return channelconfig.Org{}, fmt.Errorf("org %q: MSPDir %s does not exist", o.Name, o.MSPDir)
	case err != nil:
		return channelconfig.Org{}, fmt.Errorf("org %q: MSPDir: %w", o.Name, err)
	case !st.IsDir():
		return channelconfig.Org{}, fmt.Errorf("org %q: MSPDir %s is not a directory", o.Name, o.MSPDir)
	}
	conf, err := msp.ConfigFromDir(o.MSPDir, o.ID)
	if err != nil {
		return channelconfig.Org{}, fmt.Errorf("org %q: load MSP from %s: %w", o.Name, o.MSPDir, err)
	}
	org := channelconfig.Org{
		Name:             o.Name,
		ID:               o.ID,
		MSP:              conf,
		Policies:         policySpecs(o.Policies),
		OrdererEndpoints: o.OrdererEndpoints,
	}
	for _, a := range o.AnchorPeers {
		org.AnchorPeers = append(org.AnchorPeers, channelconfig.AnchorPeer{Host: a.Host, Port: int(a.Port)})
	}
	return org, nil
}

func policySpecs(in map[string]filePolicy) map[string]channelconfig.PolicySpec {
	out := make(map[string]channelconfig.PolicySpec, len(in))
	for name, p := range in {
		out[name] = channelconfig.PolicySpec{Type: p.Type, Rule: p.Rule}
	}
	return out
}
