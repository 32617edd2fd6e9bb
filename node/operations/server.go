// Package operations is the operations HTTP endpoint every weft node runs,
// shaped like Fabric's: /healthz, /metrics (Prometheus), /version and
// /logspec, plus Go's profiler under /debug/pprof/ when enabled.
package operations

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultCheckTimeout bounds one /healthz evaluation so a hung checker
// cannot hang the probe.
const DefaultCheckTimeout = 10 * time.Second

// Checker reports the health of one component; a non-nil error is the
// reason it is unhealthy.
type Checker interface {
	HealthCheck(ctx context.Context) error
}

// Options configure a Server.
type Options struct {
	// ListenAddress is host:port; ":0" picks a free port (see Addr).
	ListenAddress string
	// TLS, when set, serves HTTPS. If it asks for client certificates
	// (ClientAuth other than NoClientCert), /metrics and /logspec require a
	// verified one, as in Fabric; /healthz and /version stay open for probes.
	TLS       *tls.Config
	Version   string
	CommitSHA string
	// Level is the node's log level; PUT /logspec changes it. Nil gets a
	// private LevelVar at info.
	Level  *slog.LevelVar
	Logger *slog.Logger
	// CheckTimeout defaults to DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Profiling serves Go's profiler under /debug/pprof/ (off by default).
	Profiling bool
}

// Server is the operations endpoint. Create it with New, register checkers
// and metrics, then Start.
type Server struct {
	opts     Options
	logger   *slog.Logger
	level    *slog.LevelVar
	registry *prometheus.Registry
	mux      *http.ServeMux

	mu       sync.Mutex
	checkers map[string]Checker
	srv      *http.Server
	addr     net.Addr
}

// New builds a Server; nothing listens until Start.
func New(opts Options) *Server {
	s := &Server{
		opts:     opts,
		logger:   opts.Logger,
		level:    opts.Level,
		registry: prometheus.NewRegistry(),
		mux:      http.NewServeMux(),
		checkers: map[string]Checker{},
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.level == nil {
		s.level = new(slog.LevelVar)
	}
	if s.opts.CheckTimeout <= 0 {
		s.opts.CheckTimeout = DefaultCheckTimeout
	}
	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
	s.mux.Handle("/healthz", http.HandlerFunc(s.serveHealth))
	s.mux.Handle("/version", http.HandlerFunc(s.serveVersion))
	s.mux.Handle("/metrics", s.requireClientCert(getOnly(metrics)))
	s.mux.Handle("/logspec", s.requireClientCert(http.HandlerFunc(s.serveLogSpec)))
	if opts.Profiling {
		s.registerProfiling()
	}
	return s
}

// Registry is where the node registers its own collectors.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Handler exposes the routes for callers that mount them elsewhere (tests,
// or a node sharing one listener).
func (s *Server) Handler() http.Handler { return s.mux }

// RegisterChecker adds c under name to /healthz. Registering a name again
// replaces the earlier checker, so a restarted component can re-register.
func (s *Server) RegisterChecker(name string, c Checker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		delete(s.checkers, name)
		return
	}
	s.checkers[name] = c
}

// Start listens on ListenAddress and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("operations server already started")
	}
	ln, err := net.Listen("tcp", s.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("operations listen address %q: %w", s.opts.ListenAddress, err)
	}
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.addr = ln.Addr()
	srv := s.srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("operations server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.logger.Info("operations server listening", "addr", s.addr.String(), "tls", s.opts.TLS != nil)
	return nil
}

// Addr is the bound address after Start, "" before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == nil {
		return ""
	}
	return s.addr.String()
}

// Stop shuts the server down gracefully, bounded by ctx.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("operations server shutdown: %w", err)
	}
	return nil
}

// requireClientCert guards the endpoints Fabric treats as sensitive.
func (s *Server) requireClientCert(next http.Handler) http.Handler {
	if s.opts.TLS == nil || s.opts.TLS.ClientAuth == tls.NoClientCert {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			sendJSON(w, http.StatusUnauthorized, errorResponse{Error: "client certificate required"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func getOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			notAllowed(w, r, http.MethodGet)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type errorResponse struct {
	Error string `json:"error"`
}

func sendJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	sendJSON(w, http.StatusMethodNotAllowed, errorResponse{Error: fmt.Sprintf("invalid request method: %s", r.Method)})
}

type versionInfo struct {
	Version   string `json:"Version,omitempty"`
	CommitSHA string `json:"CommitSHA,omitempty"`
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notAllowed(w, r, http.MethodGet)
		return
	}
	sendJSON(w, http.StatusOK, versionInfo{Version: s.opts.Version, CommitSHA: s.opts.CommitSHA})
}
