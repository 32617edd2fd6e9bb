package membership

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp"
	"weft/wire/common"
	wm "weft/wire/weft/membership"
)

// Limits on what a statement may carry; a peer's honest statement is far
// below them.
const (
	maxInfoBytes  = 64 << 10
	maxChaincodes = 1000
)

// verified is a statement whose signature and signer were checked against
// a channel's config.
type verified struct {
	signed *wm.SignedMemberInfo
	info   *wm.MemberInfo
	id     *msp.Identity
}

// peekChannel reads the channel a statement is about, before anything is
// verified, to find the config to verify it against.
func peekChannel(s *wm.SignedMemberInfo) (string, error) {
	if s == nil || len(s.GetInfo()) == 0 {
		return "", errors.New("member info: empty")
	}
	if len(s.GetInfo()) > maxInfoBytes {
		return "", fmt.Errorf("member info: %d bytes, more than %d", len(s.GetInfo()), maxInfoBytes)
	}
	var info wm.MemberInfo
	if err := proto.Unmarshal(s.GetInfo(), &info); err != nil {
		return "", fmt.Errorf("member info: %w", err)
	}
	return info.GetChannel(), nil
}

// peerPrincipal is the principal every member must satisfy: the PEER role
// of its own MSP.
func peerPrincipal(mspID string) *common.MSPPrincipal {
	role, _ := proto.Marshal(&common.MSPRole{MspIdentifier: mspID, Role: common.MSPRole_PEER})
	return &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_ROLE, Principal: role}
}

// verifyInfo checks s against the config of its channel b: the statement
// names b's channel and a usable endpoint, its identity is a valid peer of
// an application org of the channel, the signature over the info bytes
// verifies, and its timestamp lies within window of now.
func verifyInfo(b *channelconfig.Bundle, s *wm.SignedMemberInfo, now time.Time, window time.Duration) (*verified, error) {
	if b == nil {
		return nil, errors.New("member info: no channel config")
	}
	if _, err := peekChannel(s); err != nil {
		return nil, err
	}
	info := &wm.MemberInfo{}
	if err := proto.Unmarshal(s.GetInfo(), info); err != nil {
		return nil, fmt.Errorf("member info: %w", err)
	}
	if info.GetChannel() != b.ChannelID() {
		return nil, fmt.Errorf("member info: channel %q, want %q", info.GetChannel(), b.ChannelID())
	}
	if err := checkEndpoint(info.GetEndpoint()); err != nil {
		return nil, fmt.Errorf("member info: endpoint: %w", err)
	}
	if n := len(info.GetChaincodes()); n > maxChaincodes {
		return nil, fmt.Errorf("member info: %d chaincodes, more than %d", n, maxChaincodes)
	}
	at := time.Unix(0, info.GetTimestamp())
	if at.Before(now.Add(-window)) || at.After(now.Add(window)) {
		return nil, fmt.Errorf("member info: timestamp %s is more than %s from now", at.UTC().Format(time.RFC3339), window)
	}
	mg := b.MSPManager()
	if mg == nil {
		return nil, fmt.Errorf("member info: channel %q has no MSPs", b.ChannelID())
	}
	id, err := mg.DeserializeIdentity(info.GetIdentity())
	if err != nil {
		return nil, fmt.Errorf("member info: identity: %w", err)
	}
	if !isApplicationOrg(b, id.MSPID) {
		return nil, fmt.Errorf("member info: %s: org %q is not a member of channel %q", id, id.MSPID, b.ChannelID())
	}
	if err := mg.SatisfiesPrincipal(id, peerPrincipal(id.MSPID)); err != nil {
		return nil, fmt.Errorf("member info: %s is not a peer: %w", id, err)
	}
	if err := id.Verify(s.GetInfo(), s.GetSignature()); err != nil {
		return nil, fmt.Errorf("member info: %w", err)
	}
	return &verified{signed: s, info: info, id: id}, nil
}

func isApplicationOrg(b *channelconfig.Bundle, mspID string) bool {
	return slices.ContainsFunc(b.ApplicationOrgs(), func(o channelconfig.ApplicationOrg) bool { return o.MSPID == mspID })
}

// checkEndpoint accepts host:port with a non-empty host and a port in
// 1..65535.
func checkEndpoint(ep string) error {
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return fmt.Errorf("%q: %w", ep, err)
	}
	if host == "" {
		return fmt.Errorf("%q: empty host", ep)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port must be 1..65535", ep)
	}
	return nil
}

// orgTLSRoots are the TLS root and intermediate certificates of an org of
// the channel, PEM.
func orgTLSRoots(b *channelconfig.Bundle, mspID string) (roots, inters [][]byte) {
	mg := b.MSPManager()
	if mg == nil {
		return nil, nil
	}
	m, ok := mg.MSP(mspID)
	if !ok {
		return nil, nil
	}
	return m.TLSRootCerts(), m.TLSIntermediateCerts()
}

// checkTLSOrg verifies that cert, the caller's TLS client certificate,
// chains to the TLS CAs of org mspID in channel b, so that a statement
// signed by a peer of that org is only accepted from a connection of that
// org.
func checkTLSOrg(b *channelconfig.Bundle, mspID string, cert *x509.Certificate, now time.Time) error {
	if cert == nil {
		return errors.New("no TLS client certificate")
	}
	roots, inters := orgTLSRoots(b, mspID)
	if len(roots) == 0 {
		return fmt.Errorf("org %q has no TLS root certificates in channel %q", mspID, b.ChannelID())
	}
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	for _, pool := range []struct {
		p    *x509.CertPool
		pems [][]byte
	}{{opts.Roots, roots}, {opts.Intermediates, inters}} {
		for _, pem := range pool.pems {
			certs, err := fabcrypto.ParseCertsPEM(pem)
			if err != nil {
				return fmt.Errorf("org %q: TLS CA certificate: %w", mspID, err)
			}
			for _, c := range certs {
				pool.p.AddCert(c)
			}
		}
	}
	if _, err := cert.Verify(opts); err != nil {
		return fmt.Errorf("TLS client certificate %q was not issued by org %q's TLS CA: %w", cert.Subject.CommonName, mspID, err)
	}
	return nil
}
