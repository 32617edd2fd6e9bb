package operations

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type checkerFunc func(context.Context) error

func (f checkerFunc) HealthCheck(ctx context.Context) error { return f(ctx) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer runs a plain-HTTP server on a free port and returns its base URL.
func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.ListenAddress = "127.0.0.1:0"
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s := New(opts)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s, "http://" + s.Addr()
}

func call(t *testing.T, c *http.Client, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestHealthz(t *testing.T) {
	s, base := startServer(t, Options{CheckTimeout: 200 * time.Millisecond})

	code, _, body := call(t, http.DefaultClient, "GET", base+"/healthz", "")
	var hs HealthStatus
	if err := json.Unmarshal([]byte(body), &hs); err != nil || code != 200 || hs.Status != "OK" || hs.FailedChecks != nil || hs.Time.IsZero() {
		t.Fatalf("no checkers: %d %q", code, body)
	}
	if strings.Contains(body, "failed_checks") {
		t.Errorf("healthy body %q carries failed_checks", body)
	}

	s.RegisterChecker("ledger", checkerFunc(func(context.Context) error { return nil }))
	if code, _, body := call(t, http.DefaultClient, "GET", base+"/healthz", ""); code != 200 {
		t.Fatalf("healthy checker: %d %q", code, body)
	}

	s.RegisterChecker("raft", checkerFunc(func(context.Context) error { return errors.New("no leader") }))
	release := make(chan struct{})
	defer close(release)
	s.RegisterChecker("hung", checkerFunc(func(context.Context) error { <-release; return nil }))
	s.RegisterChecker("boom", checkerFunc(func(context.Context) error { panic("bad checker") }))
	code, _, body = call(t, http.DefaultClient, "GET", base+"/healthz", "")
	hs = HealthStatus{}
	if err := json.Unmarshal([]byte(body), &hs); err != nil || code != 503 || hs.Status != "Service Unavailable" {
		t.Fatalf("failing checkers: %d %q", code, body)
	}
	want := []FailedCheck{
		{Component: "boom", Reason: "health checker panicked: bad checker"},
		{Component: "hung", Reason: "health check did not finish: context deadline exceeded"},
		{Component: "raft", Reason: "no leader"},
	}
	if len(hs.FailedChecks) != len(want) {
		t.Fatalf("failed_checks = %+v, want %+v", hs.FailedChecks, want)
	}
	for i := range want {
		if hs.FailedChecks[i] != want[i] {
			t.Errorf("failed_checks[%d] = %+v, want %+v", i, hs.FailedChecks[i], want[i])
		}
	}

	// Removing (nil) and replacing checkers restores health.
	s.RegisterChecker("hung", nil)
	s.RegisterChecker("boom", nil)
	s.RegisterChecker("raft", checkerFunc(func(context.Context) error { return nil }))
	if code, _, body := call(t, http.DefaultClient, "GET", base+"/healthz", ""); code != 200 {
		t.Fatalf("after recovery: %d %q", code, body)
	}

	if code, hdr, _ := call(t, http.DefaultClient, "POST", base+"/healthz", ""); code != 405 || hdr.Get("Allow") != "GET" {
		t.Fatalf("POST /healthz: %d Allow=%q", code, hdr.Get("Allow"))
	}
}

func TestVersion(t *testing.T) {
	_, base := startServer(t, Options{Version: "v0.1.0", CommitSHA: "abc123"})
	code, hdr, body := call(t, http.DefaultClient, "GET", base+"/version", "")
	if code != 200 || body != `{"Version":"v0.1.0","CommitSHA":"abc123"}`+"\n" || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /version: %d %q %q", code, body, hdr.Get("Content-Type"))
	}
	if code, _, _ := call(t, http.DefaultClient, "DELETE", base+"/version", ""); code != 405 {
		t.Fatalf("DELETE /version: %d", code)
	}
}

func TestMetrics(t *testing.T) {
	s, base := startServer(t, Options{})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "weft_test_blocks_total", Help: "blocks seen in the test"})
	s.Registry().MustRegister(c)
	c.Add(3)

	code, _, body := call(t, http.DefaultClient, "GET", base+"/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, want := range []string{"weft_test_blocks_total 3", "go_goroutines", "# HELP weft_test_blocks_total blocks seen in the test"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _, _ := call(t, http.DefaultClient, "POST", base+"/metrics", ""); code != 405 {
		t.Fatalf("POST /metrics: %d", code)
	}
}

func TestLogSpec(t *testing.T) {
	level := new(slog.LevelVar)
	_, base := startServer(t, Options{Level: level})

	if code, _, body := call(t, http.DefaultClient, "GET", base+"/logspec", ""); code != 200 || body != `{"spec":"info"}`+"\n" {
		t.Fatalf("initial GET: %d %q", code, body)
	}

	cases := []struct {
		body   string
		code   int
		level  slog.Level
		errSub string
	}{
		{`{"spec":"debug"}`, 204, slog.LevelDebug, ""},
		{`{"spec":"WARNING"}`, 204, slog.LevelWarn, ""},
		{`{"spec":"error"}`, 204, slog.LevelError, ""},
		{`{"spec":"warn"}`, 204, slog.LevelWarn, ""},
		{`{"spec":"verbose"}`, 400, slog.LevelWarn, `spec "verbose" is not a log level`},
		{`{"spec":"gossip=debug:info"}`, 400, slog.LevelWarn, "not a log level"},
		{`{"spec":""}`, 400, slog.LevelWarn, "spec is empty"},
		{`{}`, 400, slog.LevelWarn, "spec is empty"},
		{`{"level":"debug"}`, 400, slog.LevelWarn, "unknown field"},
		{`debug`, 400, slog.LevelWarn, `body must be JSON {"spec": "<level>"}`},
		{strings.Repeat(" ", maxLogSpecBody+1) + `{"spec":"info"}`, 400, slog.LevelWarn, "too large"},
		{`{"spec":"info"}`, 204, slog.LevelInfo, ""},
	}
	for _, tc := range cases {
		code, _, body := call(t, http.DefaultClient, "PUT", base+"/logspec", tc.body)
		if code != tc.code {
			t.Errorf("PUT %.40q: status %d, want %d (%q)", tc.body, code, tc.code, body)
		}
		if level.Level() != tc.level {
			t.Errorf("PUT %.40q: level %v, want %v", tc.body, level.Level(), tc.level)
		}
		if tc.errSub != "" {
			var er errorResponse
			if json.Unmarshal([]byte(body), &er) != nil || !strings.Contains(er.Error, tc.errSub) {
				t.Errorf("PUT %.40q: body %q, want error containing %q", tc.body, body, tc.errSub)
			}
		}
	}

	level.Set(slog.LevelDebug)
	if code, _, body := call(t, http.DefaultClient, "GET", base+"/logspec", ""); code != 200 || body != `{"spec":"debug"}`+"\n" {
		t.Fatalf("GET after change: %d %q", code, body)
	}
	if code, hdr, _ := call(t, http.DefaultClient, "POST", base+"/logspec", `{"spec":"info"}`); code != 405 || hdr.Get("Allow") != "GET, PUT" {
		t.Fatalf("POST /logspec: %d Allow=%q", code, hdr.Get("Allow"))
	}
}

func TestLifecycle(t *testing.T) {
	s := New(Options{ListenAddress: "127.0.0.1:0", Logger: quietLogger()})
	if s.Addr() != "" {
		t.Fatalf("Addr before Start = %q", s.Addr())
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	addr := s.Addr()
	if strings.HasSuffix(addr, ":0") || addr == "" {
		t.Fatalf("Addr = %q, want the bound port", addr)
	}
	busy := New(Options{ListenAddress: addr, Logger: quietLogger()})
	if err := busy.Start(); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestUnknownPath(t *testing.T) {
	_, base := startServer(t, Options{})
	if code, _, _ := call(t, http.DefaultClient, "GET", base+"/nope", ""); code != 404 {
		t.Fatalf("GET /nope: %d", code)
	}
}
