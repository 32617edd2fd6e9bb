package ca

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weft/ca/server"
	"weft/ca/store"
	"weft/node/operations"
)

// Options are what the command line adds to the file.
type Options struct {
	Logger  *slog.Logger
	Level   *slog.LevelVar
	Version string
	// Env is the environment for passenv secrets (default os.Environ
	// lookups).
	LookupEnv func(string) (string, bool)
}

// Node is a running CA.
type Node struct {
	cfg   *Config
	log   *slog.Logger
	store store.Store
	srv   *server.Server
	http  *http.Server
	ln    net.Listener
	ops   *operations.Server

	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Start opens the database, loads or generates the CA keys, and serves.
func Start(cfg *Config, opts Options) (_ *Node, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	n := &Node{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	ctx := context.Background()
	dsn := cfg.DB.Datasource
	if cfg.DB.Type == "sqlite" {
		dsn = cfg.path(dsn)
	}
	if n.store, err = store.Open(ctx, cfg.DB.Type, dsn); err != nil {
		return nil, err
	}
	var cas []server.CAConfig
	for i := range cfg.CAs {
		c, err := cfg.caConfig(i, n.store, opts.LookupEnv, log)
		if err != nil {
			return nil, err
		}
		cas = append(cas, c)
	}
	var requests *prometheus.CounterVec
	var durations *prometheus.HistogramVec
	if cfg.Operations.ListenAddress != "" {
		n.ops = operations.New(operations.Options{ListenAddress: cfg.Operations.ListenAddress,
			Version: opts.Version, Level: opts.Level, Logger: log})
		requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "api_request_count",
			Help: "CA API requests by endpoint and HTTP status."}, []string{"api_name", "status_code"})
		durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "api_request_duration",
			Help: "CA API request durations in seconds.", Buckets: prometheus.DefBuckets}, []string{"api_name"})
		n.ops.Registry().MustRegister(requests, durations)
	}
	n.srv, err = server.New(ctx, server.Options{CAs: cas, Version: opts.Version, Logger: log,
		Observe: func(endpoint string, status int, took time.Duration) {
			if requests != nil {
				requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
				durations.WithLabelValues(endpoint).Observe(took.Seconds())
			}
		}})
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	if n.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("address/port %s: %w", addr, err)
	}
	if cfg.TLS.Enabled {
		tlsConf, err := cfg.tlsConfig(cas[0], log)
		if err != nil {
			return nil, err
		}
		n.ln = tls.NewListener(n.ln, tlsConf)
	}
	n.http = &http.Server{Handler: n.srv, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(n.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("CA server stopped", "err", err)
		}
	}()
	if n.ops != nil {
		n.ops.RegisterChecker("db", dbCheck{n.store, cas[0].Name})
		if err := n.ops.Start(); err != nil {
			return nil, fmt.Errorf("operations.listenAddress: %w", err)
		}
	}
	log.Info("CA server started", "listen", n.ln.Addr().String(), "tls", cfg.TLS.Enabled, "cas", n.srv.CANames())
	return n, nil
}

// StartFile loads the configuration at path (with FABRIC_CA_SERVER_*
// overrides from the environment) and starts the CA; `weft node ca` calls it.
func StartFile(path string, logger *slog.Logger, level *slog.LevelVar, version string) (*Node, error) {
	cfg, err := LoadConfig(path, os.Environ())
	if err != nil {
		return nil, err
	}
	return Start(cfg, Options{Logger: logger, Level: level, Version: version})
}

// Help texts of `weft node ca`.
const (
	Short = "Run a certificate authority compatible with Fabric CA clients"
	Long  = `ca runs a certificate authority speaking Fabric CA's REST API, so
fabric-ca-client (CLI, Go, or the npm package) can enroll, register, revoke
and fetch CRLs against it. The file is in the spirit of
fabric-ca-server-config.yaml (port, tls, db, registry, cfg, crl,
operations, cas); scalar keys can be overridden from the environment, e.g.
FABRIC_CA_SERVER_PORT. CA keys are generated on first start when absent.`
	Example = `  weft node ca --config weft-data/ca/org1/ca.yaml
  FABRIC_CA_SERVER_PORT=8054 weft node ca --config ca.yaml --log-level debug`
	ConfigHelp = "CA configuration file (YAML)"
)

// Addr is the bound API address.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// OperationsAddr is the bound operations address, "" when disabled.
func (n *Node) OperationsAddr() string {
	if n.ops == nil {
		return ""
	}
	return n.ops.Addr()
}

// Stop finishes in-flight requests (for up to 5 s), then closes the store.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n.http != nil {
			_ = n.http.Shutdown(ctx)
		} else if n.ln != nil {
			n.ln.Close()
		}
		if n.ops != nil {
			_ = n.ops.Stop(ctx)
		}
		n.wg.Wait()
		if n.store != nil {
			n.store.Close()
		}
		n.log.Info("CA server stopped")
	})
}

type dbCheck struct {
	st   store.Store
	name string
}

func (d dbCheck) HealthCheck(ctx context.Context) error {
	if _, err := d.st.ListAffiliations(ctx, d.name); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}
