package participation

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestClientRoundTrip(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	ctx := context.Background()
	base := env.srv.URL + "/" // a trailing slash must not double up

	list, err := List(ctx, env.admin, base)
	if err != nil || list.SystemChannel != nil || list.Channels != nil {
		t.Fatalf("empty list = %+v, %v", list, err)
	}

	blockBytes := marshal(t, genesisBlock(t, "mychannel", true))
	info, err := Join(ctx, env.admin, base, blockBytes)
	want := ChannelInfo{Name: "mychannel", URL: "/participation/v1/channels/mychannel", ConsensusRelation: "consenter", Status: "active", Height: 1}
	if err != nil || info != want {
		t.Fatalf("Join = %+v, %v; want %+v", info, err, want)
	}

	list, err = List(ctx, env.admin, base)
	wantList := ChannelList{Channels: []ChannelInfoShort{{Name: "mychannel", URL: "/participation/v1/channels/mychannel"}}}
	if err != nil || !reflect.DeepEqual(list, wantList) {
		t.Fatalf("List = %+v, %v", list, err)
	}

	if got, err := Info(ctx, env.admin, base, "mychannel"); err != nil || got != want {
		t.Fatalf("Info = %+v, %v", got, err)
	}

	_, err = Join(ctx, env.admin, base, blockBytes)
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusMethodNotAllowed || herr.Allow != "GET, DELETE" ||
		!strings.Contains(herr.Message, "channel already exists") {
		t.Fatalf("re-join error = %v", err)
	}
	if !strings.Contains(err.Error(), "405") {
		t.Errorf("error text %q lacks the status", err)
	}

	if err := Remove(ctx, env.admin, base, "mychannel"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	err = Remove(ctx, env.admin, base, "mychannel")
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), "channel does not exist") {
		t.Fatalf("second Remove error = %v", err)
	}
	_, err = Info(ctx, env.admin, base, "mychannel")
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusNotFound {
		t.Fatalf("Info after remove error = %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	ctx := context.Background()

	_, err := Join(ctx, env.admin, env.srv.URL, []byte("garbage"))
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusBadRequest || !strings.Contains(herr.Message, "cannot unmarshal") {
		t.Fatalf("bad block error = %v", err)
	}
	if _, err := Info(ctx, env.admin, env.srv.URL, ""); err == nil {
		t.Fatal("Info with empty channel succeeded")
	}
	if err := Remove(ctx, env.admin, env.srv.URL, ""); err == nil {
		t.Fatal("Remove with empty channel succeeded")
	}
	// A channel name with a slash must stay one path segment.
	_, err = Info(ctx, env.admin, env.srv.URL, "a/b")
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusBadRequest {
		t.Fatalf("Info a/b error = %v", err)
	}
	// Without a client certificate the TLS handshake fails: a transport error, not an HTTPError.
	_, err = List(ctx, env.client(), env.srv.URL)
	if err == nil || errors.As(err, &herr) {
		t.Fatalf("List without cert error = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := List(cctx, env.admin, env.srv.URL); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled List error = %v", err)
	}
}
