package membership

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"weft/channelconfig"
	"weft/msp/msptest"
	et "weft/peer/endorser/endorsertest"
	wm "weft/wire/weft/membership"
)

func TestExchangeRefusals(t *testing.T) {
	net := et.NewNetwork(t, et.Options{})
	clk := newClock()
	m := newMesh()
	chs := &fakeChannels{bundles: map[string]*channelconfig.Bundle{et.ChannelID: net.Bundle}, height: 5}
	server := m.add(t, "p0.org1:7051", net.Org1, "peer0.org1", chs, clk)
	org2TLS, _, err := net.Org2.TLSCA.Issue(msptest.CertOpts{CN: "peer0.org2"})
	if err != nil {
		t.Fatal(err)
	}
	org1TLS, _, err := net.Org1.TLSCA.Issue(msptest.CertOpts{CN: "peer1.org1"})
	if err != nil {
		t.Fatal(err)
	}
	info := func(signer et.Member, channel string, seq uint64) *wm.SignedMemberInfo {
		return sign(t, signer, &wm.MemberInfo{Endpoint: "caller:7051", Channel: channel, Incarnation: 1, Sequence: seq,
			Timestamp: clk.Now().UnixNano()})
	}
	tests := []struct {
		name  string
		infos []*wm.SignedMemberInfo
		code  codes.Code
		want  string
	}{
		{"no infos", nil, codes.InvalidArgument, "empty"},
		{"no TLS certificate", []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 1)}, codes.Unauthenticated, "TLS client certificate"},
		{"TLS certificate of another org", []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 1)}, codes.PermissionDenied, "TLS CA"},
		{"client identity", []*wm.SignedMemberInfo{info(net.Org2.Client, et.ChannelID, 1)}, codes.PermissionDenied, "not a peer"},
		{"outsider", []*wm.SignedMemberInfo{info(net.Outsider, et.ChannelID, 1)}, codes.PermissionDenied, "not known"},
		{"two identities", []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 1), info(net.Org1.Peer, et.ChannelID, 1)}, codes.PermissionDenied, "another identity"},
		{"same channel twice", []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 1), info(net.Org2.Peer, et.ChannelID, 2)}, codes.InvalidArgument, "second statement"},
		{"unsigned", []*wm.SignedMemberInfo{{Info: info(net.Org2.Peer, et.ChannelID, 1).Info}}, codes.PermissionDenied, "signature"},
	}
	certs := map[string]*x509.Certificate{
		"TLS certificate of another org": org1TLS,
		"client identity":                org2TLS, "outsider": org2TLS, "two identities": org2TLS, "same channel twice": org2TLS, "unsigned": org2TLS,
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if c, ok := certs[tc.name]; ok {
				ctx = tlsContext(ctx, c)
			}
			_, err := server.svc.Exchange(ctx, &wm.ExchangeRequest{Infos: tc.infos})
			if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %s containing %q", err, tc.code, tc.want)
			}
		})
	}
	if got := server.svc.Members(et.ChannelID); len(got) != 0 {
		t.Fatalf("refused callers were stored: %v", endpoints(got))
	}

	// A good caller: stored, and answered with the server's own statement.
	ctx := tlsContext(context.Background(), org2TLS)
	resp, err := server.svc.Exchange(ctx, &wm.ExchangeRequest{Infos: []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := endpoints(server.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"caller:7051"}) {
		t.Fatalf("members %v", got)
	}
	if len(resp.Members) != 1 {
		t.Fatalf("%d statements returned, want the server's own only", len(resp.Members))
	}
	v, err := verifyInfo(net.Bundle, resp.Members[0], clk.Now(), time.Hour)
	if err != nil || v.info.GetEndpoint() != "p0.org1:7051" || v.info.GetLedgerHeight() != 5 {
		t.Fatalf("server statement %v, %v", v, err)
	}
	// A stale statement of a known caller is not an error but changes nothing.
	if _, err := server.svc.Exchange(ctx, &wm.ExchangeRequest{Infos: []*wm.SignedMemberInfo{info(net.Org2.Peer, et.ChannelID, 1)}}); err != nil {
		t.Fatal(err)
	}
	// A channel the server has not joined is not answered.
	resp, err = server.svc.Exchange(ctx, &wm.ExchangeRequest{Infos: []*wm.SignedMemberInfo{info(net.Org2.Peer, "otherchannel", 3)}})
	if err != nil || len(resp.Members) != 0 {
		t.Fatalf("other channel: %v, %v", resp, err)
	}
}

// TestRefreshLearnsThroughAnchor: Org1 has two peers, only peer0 is an
// anchor, Org2's peer has no anchor. Org2's peer learns Org1's peer1 from
// peer0 (a relayed statement), and forgets it once it stops refreshing.
func TestRefreshLearnsThroughAnchor(t *testing.T) {
	net := et.NewNetwork(t, et.Options{Anchors: map[string][]channelconfig.AnchorPeer{"Org1MSP": {{Host: "p0.org1", Port: 7051}}}})
	clk := newClock()
	m := newMesh()
	chs := func(h uint64) *fakeChannels {
		return &fakeChannels{bundles: map[string]*channelconfig.Bundle{et.ChannelID: net.Bundle}, height: h}
	}
	p0 := m.add(t, "p0.org1:7051", net.Org1, "peer0.org1", chs(10), clk)
	p1 := m.add(t, "p1.org1:7051", net.Org1, "peer1.org1", chs(9), clk)
	q0 := m.add(t, "p0.org2:7051", net.Org2, "peer0.org2", chs(8), clk)
	ctx := context.Background()

	p1.svc.Refresh(ctx) // p1 -> p0 (anchor)
	q0.svc.Refresh(ctx) // q0 -> p0 (anchor): learns p0 and p1
	if got := endpoints(q0.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"p0.org1:7051", "p1.org1:7051"}) {
		t.Fatalf("Org2 peer knows %v", got)
	}
	for _, mb := range q0.svc.Members(et.ChannelID) {
		if mb.MSPID != "Org1MSP" || (mb.Endpoint == "p1.org1:7051" && mb.Height != 9) {
			t.Fatalf("member %+v", mb)
		}
	}
	if got := endpoints(p0.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"p0.org2:7051", "p1.org1:7051"}) {
		t.Fatalf("anchor knows %v", got)
	}
	// A peer never lists itself.
	if got := endpoints(p1.svc.Members(et.ChannelID)); slices.Contains(got, "p1.org1:7051") {
		t.Fatalf("peer1 lists itself: %v", got)
	}

	// p1 goes away; p0 and q0 keep talking. After three intervals
	// without a newer statement from p1, nobody lists it.
	m.setDown("p1.org1:7051", true)
	for range 4 {
		clk.Add(time.Second)
		p0.svc.Refresh(ctx)
		q0.svc.Refresh(ctx)
	}
	if got := endpoints(q0.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"p0.org1:7051"}) {
		t.Fatalf("after p1 stopped, Org2 peer knows %v", got)
	}
	if got := endpoints(p0.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"p0.org2:7051"}) {
		t.Fatalf("after p1 stopped, anchor knows %v", got)
	}
	// It comes back and is learnt again.
	m.setDown("p1.org1:7051", false)
	p1.svc.Refresh(ctx)
	q0.svc.Refresh(ctx)
	if got := endpoints(q0.svc.Members(et.ChannelID)); !slices.Equal(got, []string{"p0.org1:7051", "p1.org1:7051"}) {
		t.Fatalf("after p1 restarted, Org2 peer knows %v", got)
	}
}

func TestNewChecksOptions(t *testing.T) {
	net := et.NewNetwork(t, et.Options{})
	chs := &fakeChannels{bundles: map[string]*channelconfig.Bundle{}}
	dial := func(context.Context, string, [][]byte) (grpc.ClientConnInterface, error) {
		return nil, errors.New("no dialing")
	}
	good := Options{Endpoint: "p:1", Signer: net.Org1.Peer, Channels: chs, Dial: dial}
	tests := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"good", func(*Options) {}, ""},
		{"no signer", func(o *Options) { o.Signer = nil }, "Signer"},
		{"no channels", func(o *Options) { o.Channels = nil }, "Channels"},
		{"no dial", func(o *Options) { o.Dial = nil }, "Dial"},
		{"bad endpoint", func(o *Options) { o.Endpoint = "nohost" }, "Endpoint"},
		{"bad bootstrap", func(o *Options) { o.Bootstrap = []string{"a:1", "b"} }, "Bootstrap[1]"},
		{"negative interval", func(o *Options) { o.Interval = -time.Second }, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.mod(&o)
			s, err := New(o)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.opts.Interval != DefaultInterval || s.opts.Expiration != 3*DefaultInterval {
					t.Fatalf("defaults: %v %v", s.opts.Interval, s.opts.Expiration)
				}
				s.Stop()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStartStop: a started service refreshes on its own and stops
// promptly even while a contact does not answer.
func TestStartStop(t *testing.T) {
	net := et.NewNetwork(t, et.Options{Anchors: map[string][]channelconfig.AnchorPeer{"Org1MSP": {{Host: "p0.org1", Port: 7051}}}})
	chs := &fakeChannels{bundles: map[string]*channelconfig.Bundle{et.ChannelID: net.Bundle}, height: 1}
	dialed := make(chan struct{}, 1)
	s, err := New(Options{Endpoint: "q0.org2:7051", Signer: net.Org2.Peer, Channels: chs, Interval: time.Hour,
		Dial: func(ctx context.Context, _ string, _ [][]byte) (grpc.ClientConnInterface, error) {
			select {
			case dialed <- struct{}{}:
			default:
			}
			<-ctx.Done() // a peer that never answers
			return nil, ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-dialed:
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh after Start")
	}
	start := time.Now()
	s.Stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop took %v", d)
	}
}
