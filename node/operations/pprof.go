package operations

import (
	"net/http"
	"net/http/pprof"
)

// registerProfiling mounts Go's profiler under /debug/pprof/, as Fabric's
// peer.profile / General.Profile settings do on a separate listener. It is
// opt-in: a CPU profile costs the node CPU and a heap dump reveals memory
// contents, so with client-certificate TLS it needs a verified certificate
// like /metrics.
func (s *Server) registerProfiling() {
	guard := func(h http.HandlerFunc) http.Handler { return s.requireClientCert(h) }
	// Index also serves the named profiles (heap, goroutine, block, ...).
	s.mux.Handle("/debug/pprof/", guard(pprof.Index))
	s.mux.Handle("/debug/pprof/cmdline", guard(pprof.Cmdline))
	s.mux.Handle("/debug/pprof/profile", guard(pprof.Profile))
	s.mux.Handle("/debug/pprof/symbol", guard(pprof.Symbol))
	s.mux.Handle("/debug/pprof/trace", guard(pprof.Trace))
}
