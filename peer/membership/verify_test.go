package membership

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"weft/msp/msptest"
	et "weft/peer/endorser/endorsertest"
	wm "weft/wire/weft/membership"
)

func TestVerifyInfo(t *testing.T) {
	net := et.NewNetwork(t, et.Options{})
	now := newClock().Now()
	client := net.Org1.Client
	ordererPeer := net.Orderer.Peer
	stranger, err := net.Org1.NewMemberFrom(net.Org2.Issuer(), msptest.CertOpts{CN: "peer9", OUs: []string{msptest.OUPeer}})
	if err != nil {
		t.Fatal(err)
	}
	good := func() *wm.MemberInfo {
		return &wm.MemberInfo{Endpoint: "peer0.org1:7051", Channel: et.ChannelID, LedgerHeight: 7,
			Incarnation: 1, Sequence: 1, Timestamp: now.UnixNano()}
	}
	with := func(f func(*wm.MemberInfo)) *wm.MemberInfo { i := good(); f(i); return i }
	tests := []struct {
		name   string
		signed func() *wm.SignedMemberInfo
		want   string // empty: accepted; "*": any error
	}{
		{"peer of a channel org", func() *wm.SignedMemberInfo { return sign(t, net.Org1.Peer, good()) }, ""},
		{"peer of the other org", func() *wm.SignedMemberInfo { return sign(t, net.Org2.Peer, good()) }, ""},
		{"nil", func() *wm.SignedMemberInfo { return nil }, "empty"},
		{"no info", func() *wm.SignedMemberInfo { return &wm.SignedMemberInfo{Signature: []byte{1}} }, "empty"},
		{"garbage info", func() *wm.SignedMemberInfo { return &wm.SignedMemberInfo{Info: []byte{0xff, 0xff}} }, "member info"},
		{"wrong channel", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Channel = "otherchannel" }))
		}, `channel "otherchannel"`},
		{"client, not a peer", func() *wm.SignedMemberInfo { return sign(t, client, good()) }, "not a peer"},
		{"org not in the channel", func() *wm.SignedMemberInfo { return sign(t, net.Outsider, good()) }, "not known to this channel"},
		{"orderer org is not an application org", func() *wm.SignedMemberInfo { return sign(t, ordererPeer, good()) }, "not a member of channel"},
		{"certificate from another org's CA", func() *wm.SignedMemberInfo {
			return sign(t, et.Member{Member: stranger}, good())
		}, "identity"},
		{"tampered after signing", func() *wm.SignedMemberInfo {
			s := sign(t, net.Org1.Peer, good())
			s.Info = append([]byte{}, s.Info...)
			s.Info[len(s.Info)-1] ^= 1
			return s
		}, "*"},
		{"signed by another peer", func() *wm.SignedMemberInfo {
			s := sign(t, net.Org1.Peer, good())
			other := sign(t, net.Org2.Peer, with(func(i *wm.MemberInfo) { i.Identity = net.Org1.Peer.Serialize() }))
			s.Signature = other.Signature
			return s
		}, "signature"},
		{"no signature", func() *wm.SignedMemberInfo {
			s := sign(t, net.Org1.Peer, good())
			s.Signature = nil
			return s
		}, "signature"},
		{"bad endpoint", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Endpoint = "peer0.org1" }))
		}, "endpoint"},
		{"port out of range", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Endpoint = "peer0.org1:70510" }))
		}, "port"},
		{"timestamp too old", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Timestamp = now.Add(-2 * time.Hour).UnixNano() }))
		}, "timestamp"},
		{"timestamp in the future", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Timestamp = now.Add(2 * time.Hour).UnixNano() }))
		}, "timestamp"},
		{"too many chaincodes", func() *wm.SignedMemberInfo {
			return sign(t, net.Org1.Peer, with(func(i *wm.MemberInfo) { i.Chaincodes = make([]string, maxChaincodes+1) }))
		}, "chaincodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.signed()
			v, err := verifyInfo(net.Bundle, s, now, time.Hour)
			if tc.want == "*" {
				// Flipping a byte breaks the encoding or the signature;
				// either way the info is refused.
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if v.info.GetLedgerHeight() != 7 || v.id == nil {
					t.Fatalf("verified info %v", v.info)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := verifyInfo(nil, sign(t, net.Org1.Peer, good()), now, time.Hour); err == nil {
		t.Fatal("accepted without a channel config")
	}
}

func TestCheckTLSOrg(t *testing.T) {
	net := et.NewNetwork(t, et.Options{})
	now := time.Now()
	issue := func(ca *msptest.CA, opts msptest.CertOpts) *x509.Certificate {
		cert, _, err := ca.Issue(opts)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	org1TLS := issue(net.Org1.TLSCA, msptest.CertOpts{CN: "peer0.org1"})
	org2TLS := issue(net.Org2.TLSCA, msptest.CertOpts{CN: "peer0.org2"})
	// The org's signing CA is not its TLS CA.
	org1Sign := issue(net.Org1.Issuer(), msptest.CertOpts{CN: "peer0.org1"})
	expired := issue(net.Org1.TLSCA, msptest.CertOpts{CN: "old", NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	tests := []struct {
		name string
		org  string
		cert *x509.Certificate
		ok   bool
	}{
		{"own org", "Org1MSP", org1TLS, true},
		{"other org", "Org1MSP", org2TLS, false},
		{"signing CA, not TLS CA", "Org1MSP", org1Sign, false},
		{"expired", "Org1MSP", expired, false},
		{"none", "Org1MSP", nil, false},
		{"org without TLS roots", "Org9MSP", org1TLS, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTLSOrg(net.Bundle, tc.org, tc.cert, now)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
