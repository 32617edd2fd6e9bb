package operations

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	"weft/fabcrypto"
)

func TestProfilingOptIn(t *testing.T) {
	cases := []struct {
		name    string
		enabled bool
		path    string
		status  int
		bodyHas string
	}{
		{"off: index", false, "/debug/pprof/", 404, ""},
		{"off: cpu profile", false, "/debug/pprof/profile?seconds=1", 404, ""},
		{"on: index", true, "/debug/pprof/", 200, "goroutine"},
		{"on: named profile", true, "/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"on: cmdline", true, "/debug/pprof/cmdline", 200, ""},
		{"on: unknown profile", true, "/debug/pprof/nope", 404, "Unknown profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := startServer(t, Options{Profiling: tc.enabled})
			code, _, body := call(t, http.DefaultClient, "GET", base+tc.path, "")
			if code != tc.status || !strings.Contains(body, tc.bodyHas) {
				t.Fatalf("GET %s: %d %.200q, want %d containing %q", tc.path, code, body, tc.status, tc.bodyHas)
			}
		})
	}
}

func TestProfilingNeedsClientCert(t *testing.T) {
	ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "ops-ca"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	_, base := startServer(t, Options{Profiling: true, TLS: &tls.Config{
		Certificates: []tls.Certificate{issuePair(t, ca, "node0")},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}})
	base = "https" + base[len("http"):]
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
	}
	if code, _, _ := call(t, client(), "GET", base+"/debug/pprof/goroutine", ""); code != 401 {
		t.Errorf("anonymous profile request: %d, want 401", code)
	}
	if code, _, _ := call(t, client(issuePair(t, ca, "ops-admin")), "GET", base+"/debug/pprof/goroutine", ""); code != 200 {
		t.Errorf("profile request with a certificate: %d, want 200", code)
	}
}
