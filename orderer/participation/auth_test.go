package participation

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthorization(t *testing.T) {
	t.Run("plain HTTP is refused", func(t *testing.T) {
		srv := httptest.NewServer(&Handler{Registrar: newFakeRegistrar(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		defer srv.Close()
		r := send(t, srv.Client(), "GET", srv.URL+URLChannels, nil, nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "requires TLS") {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	})

	t.Run("TLS without client cert is refused by the handler", func(t *testing.T) {
		// A server that only asks for client certs must not let
		// anonymous callers through.
		env := newTestEnv(t, tls.VerifyClientCertIfGiven)
		r := send(t, env.client(), "GET", env.srv.URL+URLChannels, nil, nil)
		if r.status != http.StatusForbidden || r.body != errorBody("no verified client certificate presented") {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		if r := send(t, env.admin, "GET", env.srv.URL+URLChannels, nil, nil); r.status != http.StatusOK {
			t.Fatalf("admin with cert: %d %q", r.status, r.body)
		}
	})

	t.Run("handshake fails without client cert", func(t *testing.T) {
		env := newTestEnv(t, tls.RequireAndVerifyClientCert)
		if resp, err := env.client().Get(env.srv.URL + URLChannels); err == nil {
			resp.Body.Close()
			t.Fatalf("request without client cert succeeded with %d", resp.StatusCode)
		}
	})

	t.Run("handshake fails with untrusted client cert", func(t *testing.T) {
		env := newTestEnv(t, tls.RequireAndVerifyClientCert)
		rogue := newPKI(t, "rogue-ca").keyPair(t, "admin")
		if resp, err := env.client(rogue).Get(env.srv.URL + URLChannels); err == nil {
			resp.Body.Close()
			t.Fatalf("request with untrusted cert succeeded with %d", resp.StatusCode)
		}
	})

	t.Run("allowed CNs", func(t *testing.T) {
		env := newTestEnv(t, tls.RequireAndVerifyClientCert)
		env.handler.AllowedClientCNs = []string{"root-admin", "admin"}
		other := env.client(env.clientCA.keyPair(t, "peer0"))
		r := send(t, other, "GET", env.srv.URL+URLChannels, nil, nil)
		if r.status != http.StatusForbidden || r.body != errorBody(`client certificate CN "peer0" is not an orderer admin`) {
			t.Fatalf("peer0: %d %q", r.status, r.body)
		}
		// Authorization comes before routing: unknown paths are 403 too.
		if r := send(t, other, "GET", env.srv.URL+"/nope", nil, nil); r.status != http.StatusForbidden {
			t.Fatalf("peer0 unknown path: %d", r.status)
		}
		if r := send(t, env.admin, "GET", env.srv.URL+URLChannels, nil, nil); r.status != http.StatusOK {
			t.Fatalf("admin: %d %q", r.status, r.body)
		}
	})
}

func TestRequestLog(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	var buf bytes.Buffer
	env.handler.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	send(t, env.admin, "DELETE", env.srv.URL+URLChannels+"/gone", nil, nil)
	line := buf.String()
	for _, want := range []string{"method=DELETE", "path=/participation/v1/channels/gone", "client_cn=admin", "status=404"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}
