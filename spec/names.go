package spec

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Limits that keep a spec within what one network can sensibly run.
const (
	MaxOrdererNodes = 15
	MaxPeers        = 50
	MaxUsers        = 1000
	// MaxAbsoluteMaxBytes keeps blocks under the 100 MiB gRPC message limit
	// that Fabric peers and orderers use by default.
	MaxAbsoluteMaxBytes = 100 * 1024 * 1024
)

var (
	// Kubernetes object names are DNS labels; the network name becomes one.
	networkNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// Org names become config group keys, directory names and parts of
	// host names, so stay with letters, digits and inner hyphens.
	orgNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
	// MSP IDs must fit the MSP part of a policy principal ('MSPID.role').
	mspIDRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
	// Fabric's rules for channel names, chaincode names, versions and
	// package labels.
	channelNameRE   = regexp.MustCompile(`^[a-z][a-z0-9.-]*$`)
	chaincodeNameRE = regexp.MustCompile(`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`)
	versionRE       = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
	labelRE         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)
	dnsLabelRE      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	hostLabelRE     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
)

const (
	maxNameLen        = 63
	maxMSPIDLen       = 128
	maxChannelNameLen = 249
	// Leave room for "peerNN." and "ordererNN." in front of a domain within
	// the 253-character host name limit.
	maxDomainLen = 230
)

func checkName(re *regexp.Regexp, maxLen int, v, rule string) error {
	switch {
	case v == "":
		return fmt.Errorf("is required")
	case len(v) > maxLen:
		return fmt.Errorf("%q is %d characters; the limit is %d", clip(v), len(v), maxLen)
	case !re.MatchString(v):
		return fmt.Errorf("%q is not valid: %s", clip(v), rule)
	}
	return nil
}

// checkDomain accepts lower-case DNS names; upper case is refused rather than
// folded because the domain is copied verbatim into certificates and hosts.
func checkDomain(v string) error {
	if v == "" {
		return fmt.Errorf("is required")
	}
	if len(v) > maxDomainLen {
		return fmt.Errorf("%q is %d characters; the limit is %d", clip(v), len(v), maxDomainLen)
	}
	for _, l := range strings.Split(v, ".") {
		if len(l) > 63 || !dnsLabelRE.MatchString(l) {
			return fmt.Errorf("%q is not a valid domain: use lower-case labels of letters, digits and inner hyphens separated by dots", clip(v))
		}
	}
	return nil
}

// checkAddress accepts host:port where host is an IP address or a DNS name.
func checkAddress(v string) error {
	if v == "" {
		return fmt.Errorf("is required")
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port", clip(v))
	}
	pn, err := strconv.Atoi(port)
	if err != nil || pn < 1 || pn > 65535 {
		return fmt.Errorf("%q: port must be a number from 1 to 65535", clip(v))
	}
	if host == "" {
		return fmt.Errorf("%q: host is missing", clip(v))
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("%q: host name is too long", clip(v))
	}
	for _, l := range strings.Split(host, ".") {
		if len(l) > 63 || !hostLabelRE.MatchString(l) {
			return fmt.Errorf("%q: %q is not a valid host name", clip(v), clip(host))
		}
	}
	return nil
}

// clip shortens values echoed in messages so a huge bad value does not
// drown the error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
