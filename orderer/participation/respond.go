package participation

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

var errNotAcceptable = errors.New("response Content-Type is application/json only")

// acceptsJSON reports whether the Accept header is absent or admits
// application/json, the only representation the API produces.
func acceptsJSON(r *http.Request) bool {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return true
	}
	for _, v := range accept {
		for opt := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(opt), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "", "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

func sendJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// The status is already on the wire; an encode failure here can only be
	// a broken connection, which the request log shows anyway.
	_ = json.NewEncoder(w).Encode(body)
}

func sendError(w http.ResponseWriter, code int, err error) {
	sendJSON(w, code, errorResponse{Error: err.Error()})
}

func sendNotAllowed(w http.ResponseWriter, err error, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	sendError(w, http.StatusMethodNotAllowed, err)
}
