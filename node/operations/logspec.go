package operations

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxLogSpecBody bounds a PUT /logspec body; a spec is a single word.
const maxLogSpecBody = 64 << 10

// LogSpec is the /logspec request and response body.
type LogSpec struct {
	Spec string `json:"spec"`
}

// ParseLevel maps a log spec to a level. It accepts debug, info, warn (or
// Fabric's "warning") and error, in any case. Fabric's per-logger specs
// ("gossip=debug:info") are not supported: weft has one level per node.
func ParseLevel(spec string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(spec)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "":
		return 0, errors.New("spec is empty; want one of debug, info, warn, error")
	}
	return 0, fmt.Errorf("spec %q is not a log level; want one of debug, info, warn, error", spec)
}

func (s *Server) serveLogSpec(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		sendJSON(w, http.StatusOK, LogSpec{Spec: strings.ToLower(s.level.Level().String())})
	case http.MethodPut:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLogSpecBody))
		if err != nil {
			sendJSON(w, http.StatusBadRequest, errorResponse{Error: fmt.Sprintf("read request body: %v", err)})
			return
		}
		var req LogSpec
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			sendJSON(w, http.StatusBadRequest, errorResponse{Error: fmt.Sprintf(`body must be JSON {"spec": "<level>"}: %v`, err)})
			return
		}
		level, err := ParseLevel(req.Spec)
		if err != nil {
			sendJSON(w, http.StatusBadRequest, errorResponse{Error: err.Error()})
			return
		}
		old := s.level.Level()
		s.level.Set(level)
		s.logger.Info("log level changed", "from", old.String(), "to", level.String())
		w.WriteHeader(http.StatusNoContent)
	default:
		notAllowed(w, r, "GET, PUT")
	}
}
