package orderer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/orderer/participation"
	"weft/test/harness"
)

// checkParticipationACL: orderer0's own TLS identity is trusted by the
// admin listener but is not an admin, so every call is 403 and changes
// nothing; a certificate from Org1's TLS CA does not get past the
// handshake at all.
func checkParticipationACL(t *testing.T, o *harness.Orderers) {
	raw, err := proto.Marshal(o.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, base := o.NodeHTTP(t), o.AdminURL(1)
	calls := []struct {
		name string
		do   func() error
	}{
		{"list", func() error { _, err := participation.List(ctx, node, base); return err }},
		{"info", func() error { _, err := participation.Info(ctx, node, base, o.Channel); return err }},
		{"join", func() error { _, err := participation.Join(ctx, node, base, raw); return err }},
		{"remove", func() error { return participation.Remove(ctx, node, base, o.Channel) }},
	}
	for _, c := range calls {
		var he *participation.HTTPError
		if err := c.do(); !errors.As(err, &he) || he.StatusCode != 403 {
			t.Errorf("%s as a non-admin node identity: %v, want HTTP 403", c.name, err)
		}
	}
	// Nothing changed: the channel is still there and served.
	info, err := participation.Info(ctx, o.AdminHTTP(t), base, o.Channel)
	if err != nil || info.Name != o.Channel || info.Status != participation.StatusActive {
		t.Errorf("after refused calls, admin sees %+v, %v", info, err)
	}
	list, err := participation.List(ctx, o.AdminHTTP(t), base)
	if err != nil || len(list.Channels) != 1 {
		t.Errorf("after refused calls, admin lists %+v, %v", list, err)
	}

	// The HTTP layer never answers a certificate of another CA...
	foreign := o.Org1UserHTTP(t)
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"list", func() error { _, err := participation.List(ctx, foreign, base); return err }},
		{"join", func() error { _, err := participation.Join(ctx, foreign, base, raw); return err }},
		{"remove", func() error { return participation.Remove(ctx, foreign, base, o.Channel) }},
	} {
		if err := c.do(); err == nil || errors.As(err, new(*participation.HTTPError)) {
			t.Errorf("%s with an Org1 TLS certificate: %v; want no HTTP answer", c.name, err)
		}
	}
	// ...because the TLS handshake fails: the server answers the
	// certificate with an alert (in TLS 1.3 the client learns it on its
	// first read, after its side of the handshake completed).
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		conf := o.Org1UserTLS(t)
		conf.MinVersion, conf.MaxVersion = version, version
		err := tlsProbe(base, conf)
		if err == nil || !strings.Contains(err.Error(), "remote error: tls") {
			t.Errorf("TLS 0x%x handshake with an Org1 certificate: %v; want a TLS alert from the server", version, err)
		}
	}
	// The probe itself works: the admin's certificate gets through.
	if err := tlsProbe(base, o.AdminTLS(t)); err != nil {
		t.Errorf("TLS handshake with the admin certificate: %v", err)
	}
}

// tlsProbe completes a TLS handshake with the server of baseURL and reads
// until the server says something or the short deadline passes, which
// counts as success (a healthy server waits for the request).
func tlsProbe(baseURL string, conf *tls.Config) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", strings.TrimPrefix(baseURL, "https://"), conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	return err
}
