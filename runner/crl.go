package runner

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	caclient "weft/ca/client"
	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/gen/network"
	"weft/orderer/participation"
	"weft/wire/common"
	mspb "weft/wire/msp"
)

// CRLResult says what PublishCRL did.
type CRLResult struct {
	// Revoked is the number of certificates the published CRL lists.
	Revoked int
	// Block is the config block that carries it; 0 with Unchanged.
	Block uint64
	// Unchanged: the channel already had this CRL.
	Unchanged bool
}

// PublishCRL takes the current CRL of org's CA (network in dir) and puts
// it into the org's MSP in channel's config (revocation_list, replacing
// CRLs of the same CA), by a config update signed by the org's admin, so
// peers and orderers refuse the certificates it lists.
func PublishCRL(ctx context.Context, dir, org, channel string, progress io.Writer) (*CRLResult, error) {
	if progress == nil {
		progress = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	n, err := LoadSpec(abs)
	if err != nil {
		return nil, err
	}
	k := -1
	for i := range n.Orgs {
		if id, _ := n.MSPID(n.Orgs[i].Name); n.Orgs[i].Name == org || id == org {
			k = i
		}
	}
	if k < 0 {
		return nil, fmt.Errorf("--org %q: not an org of the network in %s", org, abs)
	}
	o := &n.Orgs[k]
	if !o.HasCA() {
		return nil, fmt.Errorf("--org %q: the org runs no CA (ca: false in the spec)", org)
	}
	if ch := n.Channel(channel); ch == nil || !slices.Contains(ch.Orgs, o.Name) {
		return nil, fmt.Errorf("--channel %q: not a channel of org %s in the spec", channel, o.Name)
	}
	u := &up{opts: Options{Dir: abs}, n: n, ep: savedEndpoints(abs), l: network.Layout{Dir: abs}, out: progress}

	e, err := newOrgEnroller(ctx, u.l, u.ep, o, k)
	if err != nil {
		return nil, err
	}
	crlPEM, err := e.sign.GenCRL(ctx, e.signAdmin, caclient.CRLFilter{})
	if err != nil {
		return nil, fmt.Errorf("org %q: CRL from its CA: %w", o.Name, err)
	}
	signCert, _, _, _ := orgCAFiles(u.l, o)
	issuer, err := fabcrypto.ReadCertFile(signCert)
	if err != nil {
		return nil, err
	}
	rl, err := checkCRL(crlPEM, issuer)
	if err != nil {
		return nil, fmt.Errorf("org %q: CRL from its CA: %w", o.Name, err)
	}
	res := &CRLResult{Revoked: len(rl.RevokedCertificateEntries)}
	if res.Revoked == 0 {
		// Fabric would accept it, but publishing nothing is surely a
		// mistake (no `weft ca revoke` yet, or the wrong org).
		fmt.Fprintf(progress, "note: the CA of %s has revoked no certificate; publishing an empty CRL\n", o.Name)
	}

	hc, err := u.adminHTTP()
	if err != nil {
		return nil, err
	}
	via, height := -1, uint64(0)
	for i := range n.OrdererHosts() {
		if info, err := participation.Info(ctx, hc, u.ordererAdminURL(i), channel); err == nil && info.Height > 0 {
			via, height = i, info.Height
			break
		}
	}
	if via < 0 {
		return nil, fmt.Errorf("channel %q: no orderer serves it", channel)
	}
	reader, err := u.ordererAdmin()
	if err != nil {
		return nil, err
	}
	current, _, err := u.latestConfig(ctx, via, reader, channel, height)
	if err != nil {
		return nil, err
	}
	mspID, _ := n.MSPID(o.Name)
	updated, changed, err := withCRL(current, mspID, crlPEM, issuer)
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", channel, err)
	}
	if !changed {
		res.Unchanged = true
		return res, nil
	}
	update, err := channelconfig.ComputeUpdate(channel, current, updated)
	if err != nil {
		return nil, err
	}
	signers, err := u.crlSigners(channel, current, mspID, k)
	if err != nil {
		return nil, err
	}
	env, err := signOrgUpdate(channel, update, signers)
	if err != nil {
		return nil, err
	}
	if err := u.submitConfigUpdate(ctx, via, signers[0], env); err != nil {
		return nil, fmt.Errorf("channel %q: publish the CRL of %s: %w", channel, o.Name, err)
	}
	if res.Block, err = u.awaitConfigBlock(ctx, via, reader, channel, height, current.GetSequence()); err != nil {
		return nil, err
	}
	if err := u.awaitOrdererHeights(ctx, hc, channel, res.Block+1); err != nil {
		return nil, err
	}
	// Peers apply the CRL once they hold the config block.
	if err := u.awaitPeersCaughtUp(ctx, hc, channel); err != nil {
		return nil, err
	}
	return res, nil
}

// crlSigners are the admins whose signatures the MSP value's mod_policy
// needs: the org's own admin for Fabric's default ("Admins" of the org);
// for any other policy, every org of the channel the spec has material for.
func (u *up) crlSigners(channel string, cfg *common.Config, mspID string, k int) ([]*tlsUser, error) {
	admin, err := u.orgAdmin(k)
	if err != nil {
		return nil, err
	}
	out := []*tlsUser{admin}
	val := cfg.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()[mspID].GetValues()[channelconfig.MSPKey]
	if val.GetModPolicy() == "Admins" {
		return out, nil
	}
	ids, err := appOrgs(cfg)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if j := u.orgByMSPID(id); j >= 0 && j != k {
			a, err := u.orgAdmin(j)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// checkCRL parses a PEM CRL and checks that issuer signed it.
func checkCRL(crlPEM []byte, issuer *x509.Certificate) (*x509.RevocationList, error) {
	b, _ := pem.Decode(crlPEM)
	if b == nil || b.Type != "X509 CRL" {
		return nil, errors.New("not a PEM X509 CRL")
	}
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		return nil, err
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("not signed by %q: %w", issuer.Subject.CommonName, err)
	}
	return rl, nil
}

// withCRL returns cfg with crlPEM in mspID's revocation list in place of
// any earlier CRL of the same issuer, and whether anything changed: a CRL
// of that issuer listing the same serials counts as the same (the CA signs
// a new CRL on every request).
func withCRL(cfg *common.Config, mspID string, crlPEM []byte, issuer *x509.Certificate) (*common.Config, bool, error) {
	rl, err := checkCRL(crlPEM, issuer)
	if err != nil {
		return nil, false, err
	}
	updated := proto.Clone(cfg).(*common.Config)
	org := updated.GetChannelGroup().GetGroups()[channelconfig.ApplicationGroupKey].GetGroups()[mspID]
	val := org.GetValues()[channelconfig.MSPKey]
	if val == nil {
		return nil, false, fmt.Errorf("org %s: no MSP value in the channel's Application group", mspID)
	}
	var mc mspb.MSPConfig
	if err := proto.Unmarshal(val.GetValue(), &mc); err != nil {
		return nil, false, fmt.Errorf("org %s: MSP value: %w", mspID, err)
	}
	if mc.GetType() != 0 {
		return nil, false, fmt.Errorf("org %s: MSP type %d is not a Fabric X.509 MSP", mspID, mc.GetType())
	}
	var fc mspb.FabricMSPConfig
	if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil {
		return nil, false, fmt.Errorf("org %s: MSP config: %w", mspID, err)
	}
	var kept [][]byte
	for _, old := range fc.GetRevocationList() {
		prev := issuedCRL(old, issuer)
		if prev == nil {
			kept = append(kept, old)
			continue
		}
		if sameSerials(prev, rl) {
			return cfg, false, nil
		}
	}
	fc.RevocationList = append(kept, crlPEM)
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(&fc)
	if err != nil {
		return nil, false, err
	}
	mc.Config = raw
	if val.Value, err = (proto.MarshalOptions{Deterministic: true}).Marshal(&mc); err != nil {
		return nil, false, err
	}
	return updated, true, nil
}

// issuedCRL parses a CRL (PEM or DER) of the channel config and returns
// it if issuer signed it, else nil.
func issuedCRL(crl []byte, issuer *x509.Certificate) *x509.RevocationList {
	der := crl
	if b, _ := pem.Decode(crl); b != nil {
		der = b.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil || !bytes.Equal(rl.RawIssuer, issuer.RawSubject) || rl.CheckSignatureFrom(issuer) != nil {
		return nil
	}
	return rl
}

// sameSerials reports whether two CRLs revoke the same serial numbers.
func sameSerials(a, b *x509.RevocationList) bool {
	set := func(rl *x509.RevocationList) []string {
		var out []string
		for _, e := range rl.RevokedCertificateEntries {
			if e.SerialNumber != nil {
				out = append(out, e.SerialNumber.Text(16))
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(set(a), set(b))
}

// publishTimeout bounds PublishCRL when the caller gives no deadline.
const publishTimeout = 2 * time.Minute
