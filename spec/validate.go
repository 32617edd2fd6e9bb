package spec

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Validate checks the whole network and returns every problem joined (see
// Problems). Empty optional fields are judged by their defaults; the receiver
// is not modified. Networks from Parse or Load report YAML lines.
func (n *Network) Validate() error {
	c := n.clone()
	c.SetDefaults()
	p := &problems{source: "spec", lines: n.lines}
	c.check(p)
	return p.err()
}

// check runs the semantic rules on a network whose defaults are applied.
func (n *Network) check(p *problems) {
	if err := checkName(networkNameRE, maxNameLen, n.Name, "use lower-case letters, digits and inner hyphens (a Kubernetes name)"); err != nil {
		p.addf("name", "%v", err)
	}
	n.checkOrderer(p)
	n.checkOrgs(p)
	n.checkChannels(p)
	n.checkChaincodes(p)
}

const orgNameRule = "use letters, digits and inner hyphens"
const mspIDRule = "use letters, digits, dots and hyphens, starting and ending with a letter or digit"

func (n *Network) checkOrderer(p *problems) {
	o := &n.Orderer
	if o.Org == "" && o.Domain == "" && o.Nodes == 0 {
		p.addf("orderer", "is required, with at least org, domain and nodes")
		return
	}
	if err := checkName(orgNameRE, maxNameLen, o.Org, orgNameRule); err != nil {
		p.addf("orderer.org", "%v", err)
	}
	if err := checkDomain(o.Domain); err != nil {
		p.addf("orderer.domain", "%v", err)
	}
	if err := checkName(mspIDRE, maxMSPIDLen, o.MSPID, mspIDRule); err != nil && !derivedFromBad(o.MSPID, o.Org, "MSP", orgNameRE) {
		p.addf("orderer.mspID", "%v", err)
	}
	if o.Nodes < 1 || o.Nodes > MaxOrdererNodes {
		p.addf("orderer.nodes", "%d is out of range; a Raft cluster needs 1 to %d nodes", o.Nodes, MaxOrdererNodes)
	}
	if d, err := time.ParseDuration(o.BatchTimeout); err != nil {
		p.addf("orderer.batchTimeout", "%q is not a duration such as \"2s\" or \"500ms\"", clip(o.BatchTimeout))
	} else if d <= 0 {
		p.addf("orderer.batchTimeout", "%q must be positive", o.BatchTimeout)
	}
	bs := o.BatchSize
	if bs.AbsoluteMaxBytes > MaxAbsoluteMaxBytes {
		p.addf("orderer.batchSize.absoluteMaxBytes", "%d exceeds %d, the largest message peers and orderers accept", bs.AbsoluteMaxBytes, MaxAbsoluteMaxBytes)
	}
	if bs.PreferredMaxBytes > bs.AbsoluteMaxBytes {
		p.addf("orderer.batchSize.preferredMaxBytes", "%d is larger than absoluteMaxBytes (%d)", bs.PreferredMaxBytes, bs.AbsoluteMaxBytes)
	}
}

func (n *Network) checkOrgs(p *problems) {
	if len(n.Orgs) == 0 {
		p.addf("orgs", "at least one peer organization is required")
	}
	names := map[string]string{strings.ToLower(n.Orderer.Org): "orderer.org"}
	msps := map[string]string{n.Orderer.MSPID: "orderer.mspID"}
	domains := map[string]string{n.Orderer.Domain: "orderer.domain"}
	for i, o := range n.Orgs {
		at := fmt.Sprintf("orgs[%d]", i)
		nameOK := false
		if err := checkName(orgNameRE, maxNameLen, o.Name, orgNameRule); err != nil {
			p.addf(at+".name", "%v", err)
		} else {
			// Case-insensitive: org names become directory names, which
			// collide on case-insensitive file systems.
			nameOK = unique(p, names, strings.ToLower(o.Name), at+".name", o.Name)
		}
		if err := checkDomain(o.Domain); err != nil {
			p.addf(at+".domain", "%v", err)
		} else {
			unique(p, domains, o.Domain, at+".domain", o.Domain)
		}
		if err := checkName(mspIDRE, maxMSPIDLen, o.MSPID, mspIDRule); err != nil {
			if !derivedFromBad(o.MSPID, o.Name, "MSP", orgNameRE) {
				p.addf(at+".mspID", "%v", err)
			}
		} else if nameOK || o.MSPID != o.Name+"MSP" {
			// A default MSP ID copied from a duplicate name would only
			// repeat the name's problem.
			unique(p, msps, o.MSPID, at+".mspID", o.MSPID)
		}
		if o.Peers < 1 || o.Peers > MaxPeers {
			p.addf(at+".peers", "%d is out of range; an organization needs 1 to %d peers", o.Peers, MaxPeers)
		}
		if o.Users < 0 || o.Users > MaxUsers {
			p.addf(at+".users", "%d is out of range; use 0 to %d", o.Users, MaxUsers)
		}
	}
}

// derivedFromBad reports whether value is the default derived from base
// (base+suffix) while base is itself invalid; the problem is then reported
// once, on base.
func derivedFromBad(value, base, suffix string, baseRE *regexp.Regexp) bool {
	if value == "" && base == "" {
		return true // nothing to derive from; base is reported missing
	}
	return value == base+suffix && !baseRE.MatchString(base)
}

// unique records key as used by path, or reports that an earlier field
// already uses it, and says whether key was new. Empty keys are skipped:
// they are reported as missing.
func unique(p *problems, seen map[string]string, key, path, shown string) bool {
	if key == "" {
		return false
	}
	if prev, ok := seen[key]; ok {
		p.addf(path, "%q is already used by %s", clip(shown), prev)
		return false
	}
	seen[key] = path
	return true
}

func (n *Network) checkChannels(p *problems) {
	seen := map[string]string{}
	for i, ch := range n.Channels {
		at := fmt.Sprintf("channels[%d]", i)
		if err := checkName(channelNameRE, maxChannelNameLen, ch.Name, "start with a lower-case letter, then lower-case letters, digits, dots and hyphens"); err != nil {
			p.addf(at+".name", "%v", err)
		} else {
			unique(p, seen, ch.Name, at+".name", ch.Name)
		}
		if len(ch.Orgs) == 0 {
			p.addf(at+".orgs", "at least one organization is required")
		}
		if p.namesUnreliable("orgs") {
			continue
		}
		members := map[string]string{}
		for j, name := range ch.Orgs {
			op := fmt.Sprintf("%s.orgs[%d]", at, j)
			switch {
			case n.Org(name) != nil:
				unique(p, members, name, op, name)
			case name == n.Orderer.Org && name != "":
				p.addf(op, "%q is the orderer organization; list peer organizations only", name)
			default:
				p.addf(op, "organization %q is not defined in orgs", clip(name))
			}
		}
	}
}

func (n *Network) checkChaincodes(p *problems) {
	seen := map[string]string{}
	for i, cc := range n.Chaincodes {
		at := fmt.Sprintf("chaincodes[%d]", i)
		if err := checkName(chaincodeNameRE, maxNameLen, cc.Name, "use letters and digits, optionally joined by single - or _"); err != nil {
			p.addf(at+".name", "%v", err)
		}
		ci := n.channelIndex(cc.Channel)
		var ch *Channel
		if ci >= 0 {
			ch = &n.Channels[ci]
		}
		switch {
		case cc.Channel == "":
			p.addf(at+".channel", "is required")
		case ch == nil && p.namesUnreliable("channels"):
		case ch == nil:
			p.addf(at+".channel", "channel %q is not defined in channels", clip(cc.Channel))
		case cc.Name != "":
			if prev, ok := seen[cc.Name+"\x00"+cc.Channel]; ok {
				p.addf(at+".name", "chaincode %q is already defined on channel %q by %s", cc.Name, cc.Channel, prev)
			} else {
				seen[cc.Name+"\x00"+cc.Channel] = at
			}
		}
		switch {
		case cc.Path != "" && cc.CCaaS != nil:
			p.addf(at, "set either path or ccaas, not both")
		case cc.Path == "" && cc.CCaaS == nil:
			p.addf(at, "set path (chaincode source) or ccaas (chaincode as a service)")
		case cc.Path != "":
			// An absolute path would tie the spec to one machine.
			if path.IsAbs(cc.Path) || strings.HasPrefix(cc.Path, `\`) || (len(cc.Path) > 1 && cc.Path[1] == ':') {
				p.addf(at+".path", "%q must be relative to the spec file", clip(cc.Path))
			}
		default:
			if err := checkAddress(cc.CCaaS.Address); err != nil {
				p.addf(at+".ccaas.address", "%v", err)
			}
		}
		if !versionRE.MatchString(cc.Version) || len(cc.Version) > maxNameLen {
			p.addf(at+".version", "%q is not valid: use up to %d letters, digits, '.', '_', '+' and '-'", clip(cc.Version), maxNameLen)
		}
		if cc.Sequence < 1 {
			p.addf(at+".sequence", "%d must be 1 or more", cc.Sequence)
		}
		if cc.Label != "" && !derivedFromBad(cc.Label, cc.Name+"_"+cc.Version, "", labelRE) && (!labelRE.MatchString(cc.Label) || len(cc.Label) > 2*maxNameLen) {
			p.addf(at+".label", "%q is not valid: start with a letter or digit, then letters, digits, '.', '_', '+' and '-'", clip(cc.Label))
		}
		if cc.Endorsement != "" {
			n.checkEndorsement(p, at+".endorsement", cc.Endorsement, ch, ci)
		}
	}
}

func (n *Network) checkEndorsement(p *problems, at, policy string, ch *Channel, ci int) {
	msps, err := endorsementMSPs(policy)
	if err != nil {
		p.addf(at, "%v", err)
		return
	}
	if ch == nil || p.namesUnreliable("orgs") || p.namesUnreliable(fmt.Sprintf("channels[%d].orgs", ci)) {
		return // a missing or unreadable channel or org is reported elsewhere
	}
	inChannel := map[string]bool{}
	for _, name := range ch.Orgs {
		if o := n.Org(name); o != nil {
			inChannel[o.MSPID] = true
		}
	}
	reported := map[string]bool{}
	for _, m := range msps {
		if !inChannel[m] && !reported[m] {
			reported[m] = true
			p.addf(at, "MSP %q is not a member of channel %q", m, ch.Name)
		}
	}
}
