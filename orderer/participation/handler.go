package participation

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"weft/channelconfig"
)

// Handler serves the channel participation API. It must be mounted on a TLS
// server whose config requires and verifies client certificates against the
// admin client root CAs; the handler itself refuses any request without a
// verified chain, so a misconfigured server fails closed.
type Handler struct {
	// Registrar nil means the API is disabled: every request gets 503.
	Registrar Registrar
	// MaxRequestBodySize bounds a join request body; <= 0 means 1 MiB.
	MaxRequestBodySize int64
	// AllowedClientCNs, when non-empty, restricts access to client
	// certificates with one of these subject common names.
	AllowedClientCNs []string
	Logger           *slog.Logger
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// ServeHTTP authorizes the caller, routes the request and logs the outcome.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	cn := clientCN(r)
	h.serve(rec, r, cn)
	h.logger().Info("participation request",
		"method", r.Method, "path", r.URL.Path, "client_cn", cn,
		"status", rec.status, "duration", time.Since(start))
}

// clientCN is the common name of the verified client leaf, or "" if the
// request did not present a verified certificate.
func clientCN(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return ""
	}
	return r.TLS.VerifiedChains[0][0].Subject.CommonName
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, cn string) {
	if r.TLS == nil {
		sendError(w, http.StatusForbidden, fmt.Errorf("channel participation API requires TLS with a client certificate"))
		return
	}
	if len(r.TLS.VerifiedChains) == 0 {
		sendError(w, http.StatusForbidden, fmt.Errorf("no verified client certificate presented"))
		return
	}
	if len(h.AllowedClientCNs) > 0 && !slices.Contains(h.AllowedClientCNs, cn) {
		sendError(w, http.StatusForbidden, fmt.Errorf("client certificate CN %q is not an orderer admin", cn))
		return
	}
	if h.Registrar == nil {
		sendError(w, http.StatusServiceUnavailable, errDisabled)
		return
	}

	// Route on the escaped path so an encoded slash inside a channel name
	// stays in its segment and is then rejected as an invalid name.
	p := r.URL.EscapedPath()
	switch {
	case p == URLBase:
		if r.Method != http.MethodGet {
			sendNotAllowed(w, fmt.Errorf("invalid request method: %s", r.Method), http.MethodGet)
			return
		}
		http.Redirect(w, r, URLChannels, http.StatusFound)
	case p == URLChannels:
		switch r.Method {
		case http.MethodGet:
			h.serveList(w, r)
		case http.MethodPost:
			h.serveJoin(w, r)
		default:
			sendNotAllowed(w, fmt.Errorf("invalid request method: %s", r.Method), http.MethodGet, http.MethodPost)
		}
	case strings.HasPrefix(p, URLChannels+"/") && !strings.Contains(p[len(URLChannels)+1:], "/") && len(p) > len(URLChannels)+1:
		channel, err := url.PathUnescape(p[len(URLChannels)+1:])
		if err != nil {
			sendError(w, http.StatusBadRequest, fmt.Errorf("invalid channel ID: %w", err))
			return
		}
		switch r.Method {
		case http.MethodGet:
			h.serveInfo(w, r, channel)
		case http.MethodDelete:
			h.serveRemove(w, r, channel)
		default:
			sendNotAllowed(w, fmt.Errorf("invalid request method: %s", r.Method), http.MethodGet, http.MethodDelete)
		}
	default:
		sendError(w, http.StatusNotFound, fmt.Errorf("no such resource: %s", p))
	}
}

func channelURL(name string) string { return URLChannels + "/" + name }

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r) {
		sendError(w, http.StatusNotAcceptable, errNotAcceptable)
		return
	}
	var list ChannelList
	for _, info := range h.Registrar.List() {
		list.Channels = append(list.Channels, ChannelInfoShort{Name: info.Name, URL: channelURL(info.Name)})
	}
	slices.SortFunc(list.Channels, func(a, b ChannelInfoShort) int { return strings.Compare(a.Name, b.Name) })
	w.Header().Set("Cache-Control", "no-store")
	sendJSON(w, http.StatusOK, list)
}

// validChannel answers 400 and returns false when the path segment is not a
// legal channel name, so the registrar never sees one.
func validChannel(w http.ResponseWriter, channel string) bool {
	if err := channelconfig.ValidateChannelID(channel); err != nil {
		sendError(w, http.StatusBadRequest, fmt.Errorf("invalid channel ID: %w", err))
		return false
	}
	return true
}

func (h *Handler) serveInfo(w http.ResponseWriter, r *http.Request, channel string) {
	if !acceptsJSON(r) {
		sendError(w, http.StatusNotAcceptable, errNotAcceptable)
		return
	}
	if !validChannel(w, channel) {
		return
	}
	info, err := h.Registrar.Info(channel)
	if err != nil {
		// Fabric answers 404 for every lookup failure, including a channel
		// that is being removed.
		sendError(w, http.StatusNotFound, err)
		return
	}
	info.URL = channelURL(info.Name)
	w.Header().Set("Cache-Control", "no-store")
	sendJSON(w, http.StatusOK, info)
}

func (h *Handler) serveRemove(w http.ResponseWriter, r *http.Request, channel string) {
	if !acceptsJSON(r) {
		sendError(w, http.StatusNotAcceptable, errNotAcceptable)
		return
	}
	if !validChannel(w, channel) {
		return
	}
	err := h.Registrar.Remove(channel)
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.logger().Warn("channel removal failed", "channel", channel, "err", err)
	err = fmt.Errorf("cannot remove: %w", err)
	switch {
	case errors.Is(err, ErrChannelNotExist):
		sendError(w, http.StatusNotFound, err)
	case errors.Is(err, ErrPendingRemoval):
		sendError(w, http.StatusConflict, err)
	case errors.Is(err, ErrRemovalFailure):
		sendError(w, http.StatusInternalServerError, err)
	default:
		sendError(w, http.StatusBadRequest, err)
	}
}
