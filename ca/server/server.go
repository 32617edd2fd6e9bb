// Package server is a certificate authority speaking Fabric CA's REST API
// (/api/v1/cainfo, enroll, reenroll, register, revoke, gencrl, identities,
// affiliations, certificates), so unmodified fabric-ca-client SDKs and CLIs
// can enroll against it. One Server hosts several CAs, chosen per request
// by the "ca" query parameter or the "caname" body field.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds a request body; the largest legitimate one is a CSR.
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// CAs are the hosted CAs; the first is the default one, answered when
	// a request names no CA.
	CAs []CAConfig
	// Version is reported by cainfo.
	Version string
	Logger  *slog.Logger
	// Observe, when set, is called once per request (for metrics).
	Observe func(endpoint string, status int, took time.Duration)
	// Now defaults to time.Now (tests move the clock).
	Now func() time.Time
}

// Server is an http.Handler serving Fabric CA's API.
type Server struct {
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	cas    map[string]*caInstance
	def    *caInstance
	routes map[string][]route
}

// New checks every CA's configuration, registers bootstrap identities and
// affiliations on a CA's first start, and returns the handler.
func New(ctx context.Context, opts Options) (*Server, error) {
	if len(opts.CAs) == 0 {
		return nil, errors.New("ca server: no CA configured")
	}
	s := &Server{opts: opts, logger: opts.Logger, now: opts.Now, cas: map[string]*caInstance{}}
	s.routes = s.routeTable()
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i, cfg := range opts.CAs {
		ca, err := newCAInstance(ctx, cfg, s.now)
		if err != nil {
			return nil, fmt.Errorf("ca server: CAs[%d]: %w", i, err)
		}
		if _, dup := s.cas[ca.name]; dup {
			return nil, fmt.Errorf("ca server: CAs[%d]: name %q is used twice", i, ca.name)
		}
		s.cas[ca.name] = ca
		if i == 0 {
			s.def = ca
		}
	}
	return s, nil
}

// CANames lists the hosted CAs, the default first.
func (s *Server) CANames() []string {
	names := []string{s.def.name}
	for _, c := range s.opts.CAs[1:] {
		names = append(names, c.Name)
	}
	return names
}

// handlerFunc serves one endpoint; the returned value is the "result".
type handlerFunc func(rq *request) (any, error)

type route struct {
	methods []string
	// withName: the path has a trailing element ({id}, {affiliation}).
	withName bool
	handle   handlerFunc
}

func (s *Server) routeTable() map[string][]route {
	return map[string][]route{
		"cainfo":       {{methods: []string{"GET", "POST", "HEAD"}, handle: s.cainfo}},
		"enroll":       {{methods: []string{"POST"}, handle: s.enroll}},
		"reenroll":     {{methods: []string{"POST"}, handle: s.reenroll}},
		"register":     {{methods: []string{"POST"}, handle: s.register}},
		"revoke":       {{methods: []string{"POST"}, handle: s.revoke}},
		"gencrl":       {{methods: []string{"POST"}, handle: s.gencrl}},
		"certificates": {{methods: []string{"GET"}, handle: s.certificates}},
		"identities": {
			{methods: []string{"GET", "POST"}, handle: s.identities},
			{methods: []string{"GET", "PUT", "DELETE"}, withName: true, handle: s.identity},
		},
		"affiliations": {
			{methods: []string{"GET", "POST"}, handle: s.affiliations},
			{methods: []string{"GET", "PUT", "DELETE"}, withName: true, handle: s.affiliation},
		},
	}
}

// ServeHTTP answers under /api/v1/ and, as Fabric CA does, without the
// prefix too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	p := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	p = strings.TrimPrefix(p, "/")
	endpoint, name, hasName := strings.Cut(p, "/")
	var rt *route
	for i, candidate := range s.routes[endpoint] {
		if candidate.withName == hasName && (!hasName || name != "") {
			rt = &s.routes[endpoint][i]
			break
		}
	}
	if rt == nil {
		http.NotFound(w, r)
		return
	}
	rq := &request{s: s, w: w, r: r, ctx: r.Context(), pathName: name, status: http.StatusOK}
	var result any
	err := rq.checkMethod(rt.methods)
	if err == nil {
		result, err = rt.handle(rq)
	}
	status := rq.status
	env := envelope{Result: result, Errors: []respMsg{}, Messages: []respMsg{}, Success: err == nil}
	if err != nil {
		he := asHTTPErr(err)
		status = he.status
		env.Result = ""
		env.Errors = []respMsg{{Code: he.remoteCode, Message: he.remoteMsg}}
		s.logger.Info("ca request failed", "method", r.Method, "path", r.URL.Path, "status", status,
			"code", he.localCode, "error", he.localMsg)
	} else if result == nil {
		env.Result = ""
	}
	var buf bytes.Buffer
	if encErr := json.NewEncoder(&buf).Encode(env); encErr != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	if s.opts.Observe != nil {
		s.opts.Observe(endpoint, status, s.now().Sub(start))
	}
}

// envelope is Fabric CA's (cfssl's) response shape.
type envelope struct {
	Result   any       `json:"result"`
	Errors   []respMsg `json:"errors"`
	Messages []respMsg `json:"messages"`
	Success  bool      `json:"success"`
}

type respMsg struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// request is the state of one call: its CA, raw body and, after
// authentication, the caller.
type request struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	ctx      context.Context
	pathName string
	status   int

	bodyRead bool
	body     []byte
	bodyErr  error

	ca         *caInstance
	caller     callerInfo
	authorized bool
}

func (rq *request) checkMethod(methods []string) error {
	for _, m := range methods {
		if m == rq.r.Method {
			return nil
		}
	}
	return newHTTPErr(http.StatusMethodNotAllowed, ErrMethodNotAllowed, "Method %s is not allowed", rq.r.Method)
}

func (rq *request) rawBody() ([]byte, error) {
	if !rq.bodyRead {
		rq.bodyRead = true
		if rq.r.Body != nil {
			rq.body, rq.bodyErr = io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, maxBody))
		}
	}
	if rq.bodyErr != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrReadingReqBody, "Failed reading request body: %s", rq.bodyErr)
	}
	return rq.body, nil
}

// readBody decodes the JSON body into v; an empty body is an error.
func (rq *request) readBody(v any) error {
	empty, err := rq.tryReadBody(v)
	if err != nil {
		return err
	}
	if empty {
		return newHTTPErr(http.StatusBadRequest, ErrEmptyReqBody, "Empty request body")
	}
	return nil
}

func (rq *request) tryReadBody(v any) (empty bool, err error) {
	b, err := rq.rawBody()
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, newHTTPErr(http.StatusBadRequest, ErrBadReqBody, "Invalid request body: %s", err)
	}
	return false, nil
}

// getCA picks the CA: the "ca" query parameter first, then the body's
// "caname", else the default CA.
func (rq *request) getCA() (*caInstance, error) {
	if rq.ca != nil {
		return rq.ca, nil
	}
	name := rq.r.URL.Query().Get("ca")
	if name == "" {
		var b struct {
			CAName *string `json:"caname"`
		}
		// A body that is not a JSON object is reported by the handler's
		// own decoding, with the handler's error code.
		_, err := rq.tryReadBody(&b)
		var he *httpError
		if errors.As(err, &he) && he.localCode == ErrReadingReqBody {
			return nil, err
		}
		if err == nil && b.CAName != nil {
			name = *b.CAName
		}
	}
	if name == "" {
		rq.ca = rq.s.def
		return rq.ca, nil
	}
	ca, ok := rq.s.cas[name]
	if !ok {
		return nil, newHTTPErr(http.StatusNotFound, ErrCANotFound, "CA '%s' does not exist", name)
	}
	rq.ca = ca
	return ca, nil
}

// boolQuery parses an optional boolean query parameter.
func (rq *request) boolQuery(name string) (bool, error) {
	v := rq.r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "1", "t", "true":
		return true, nil
	case "0", "f", "false":
		return false, nil
	}
	return false, newHTTPErr(http.StatusBadRequest, ErrGettingBoolQueryParm,
		"Failed to correctly parse value of '%s' query parameter: %q is not a boolean", name, v)
}
