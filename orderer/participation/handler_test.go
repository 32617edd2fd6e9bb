package participation

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
)

type reply struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, c *http.Client, method, url string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
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
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// form builds a multipart body from (name, filename, content) triples; an
// empty filename makes a plain value field.
func form(t *testing.T, parts ...[3]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p[1] == "" {
			w, err = mw.CreateFormField(p[0])
		} else {
			w, err = mw.CreateFormFile(p[0], p[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func errorBody(msg string) string {
	b, _ := json.Marshal(errorResponse{Error: msg})
	return string(b) + "\n"
}

func TestRoutes(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	env.reg.channels["mychannel"] = ChannelInfo{Name: "mychannel", ConsensusRelation: RelationFollower, Status: StatusOnboarding, Height: 7}
	env.reg.channels["another"] = ChannelInfo{Name: "another", ConsensusRelation: RelationConsenter, Status: StatusActive, Height: 1}

	cases := []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		status             int
		wantHeader         map[string]string
		wantBody           string // exact; "" with contains set means substring
		contains           string
	}{
		{name: "base redirects", method: "GET", path: "/participation/v1/", status: 302,
			wantHeader: map[string]string{"Location": "/participation/v1/channels"}},
		{name: "base wrong method", method: "POST", path: "/participation/v1/", status: 405,
			wantHeader: map[string]string{"Allow": "GET"}, wantBody: errorBody("invalid request method: POST")},
		{name: "list", method: "GET", path: "/participation/v1/channels", status: 200,
			wantHeader: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
			wantBody: `{"systemChannel":null,"channels":[{"name":"another","url":"/participation/v1/channels/another"},` +
				`{"name":"mychannel","url":"/participation/v1/channels/mychannel"}]}` + "\n"},
		{name: "list accept list with json", method: "GET", path: "/participation/v1/channels", status: 200,
			header: map[string]string{"Accept": "text/html, application/json;q=0.9"}, contains: `"channels":[`},
		{name: "list accept wildcard", method: "GET", path: "/participation/v1/channels", status: 200,
			header: map[string]string{"Accept": "*/*"}, contains: `"channels":[`},
		{name: "list accept html only", method: "GET", path: "/participation/v1/channels", status: 406,
			header:   map[string]string{"Accept": "text/html"},
			wantBody: errorBody("response Content-Type is application/json only")},
		{name: "channels wrong method", method: "PUT", path: "/participation/v1/channels", status: 405,
			wantHeader: map[string]string{"Allow": "GET, POST"}, wantBody: errorBody("invalid request method: PUT")},
		{name: "info", method: "GET", path: "/participation/v1/channels/mychannel", status: 200,
			wantHeader: map[string]string{"Content-Type": "application/json"},
			wantBody: `{"name":"mychannel","url":"/participation/v1/channels/mychannel","consensusRelation":"follower",` +
				`"status":"onboarding","height":7}` + "\n"},
		{name: "info unknown", method: "GET", path: "/participation/v1/channels/nochannel", status: 404,
			wantBody: errorBody(`channel "nochannel": channel does not exist`)},
		{name: "info bad id", method: "GET", path: "/participation/v1/channels/Bad_ID", status: 400,
			contains: "invalid channel ID"},
		{name: "info accept xml", method: "GET", path: "/participation/v1/channels/mychannel", status: 406,
			header: map[string]string{"Accept": "application/xml"}, contains: "application/json only"},
		{name: "channel wrong method", method: "PATCH", path: "/participation/v1/channels/mychannel", status: 405,
			wantHeader: map[string]string{"Allow": "GET, DELETE"}, wantBody: errorBody("invalid request method: PATCH")},
		{name: "channel post", method: "POST", path: "/participation/v1/channels/mychannel", status: 405,
			wantHeader: map[string]string{"Allow": "GET, DELETE"}},
		{name: "remove unknown", method: "DELETE", path: "/participation/v1/channels/nochannel", status: 404,
			wantBody: errorBody(`cannot remove: channel "nochannel": channel does not exist`)},
		{name: "remove bad id", method: "DELETE", path: "/participation/v1/channels/UPPER", status: 400,
			contains: "invalid channel ID"},
		{name: "join not multipart", method: "POST", path: "/participation/v1/channels", status: 400,
			header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{}`),
			contains: "unsupported Content-Type"},
		{name: "join no content type", method: "POST", path: "/participation/v1/channels", status: 400,
			body: []byte("x"), contains: "unsupported Content-Type"},
		{name: "blocks route not served", method: "GET", path: "/participation/v1/channels/mychannel/blocks/newest", status: 404},
		{name: "trailing slash", method: "GET", path: "/participation/v1/channels/", status: 404},
		{name: "unknown path", method: "GET", path: "/participation/v2/channels", status: 404, contains: "no such resource"},
		{name: "root", method: "GET", path: "/", status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, env.admin, tc.method, env.srv.URL+tc.path, tc.body, tc.header)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			for k, v := range tc.wantHeader {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.wantBody != "" && r.body != tc.wantBody {
				t.Errorf("body = %q, want %q", r.body, tc.wantBody)
			}
			if tc.contains != "" && !strings.Contains(r.body, tc.contains) {
				t.Errorf("body = %q, want it to contain %q", r.body, tc.contains)
			}
			var er errorResponse
			if r.status >= 400 && (json.Unmarshal([]byte(r.body), &er) != nil || er.Error == "") {
				t.Errorf("error body %q is not {\"error\": ...}", r.body)
			}
		})
	}
}

func TestListEmpty(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	r := send(t, env.admin, "GET", env.srv.URL+URLChannels, nil, nil)
	if want := `{"systemChannel":null,"channels":null}` + "\n"; r.status != 200 || r.body != want {
		t.Fatalf("got %d %q, want 200 %q", r.status, r.body, want)
	}
}

func TestJoinAndRemove(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	block := genesisBlock(t, "mychannel", true)
	body, ct := form(t, [3]string{FormConfigBlock, "config.block", string(marshal(t, block))})

	r := send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
	if r.status != http.StatusCreated {
		t.Fatalf("join: %d %q", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != "/participation/v1/channels/mychannel" {
		t.Errorf("Location = %q", loc)
	}
	want := `{"name":"mychannel","url":"/participation/v1/channels/mychannel","consensusRelation":"consenter","status":"active","height":1}` + "\n"
	if r.body != want {
		t.Errorf("join body = %q, want %q", r.body, want)
	}
	if len(env.reg.joined) != 1 || !proto.Equal(env.reg.joined[0], block) {
		t.Fatalf("registrar did not receive the posted block")
	}

	r = send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, DELETE" {
		t.Fatalf("re-join: %d Allow=%q %q", r.status, r.header.Get("Allow"), r.body)
	}
	if want := errorBody(`cannot join: channel "mychannel": channel already exists`); r.body != want {
		t.Errorf("re-join body = %q, want %q", r.body, want)
	}

	r = send(t, env.admin, "DELETE", env.srv.URL+URLChannels+"/mychannel", nil, nil)
	if r.status != http.StatusNoContent || r.body != "" {
		t.Fatalf("remove: %d %q", r.status, r.body)
	}
	if r := send(t, env.admin, "GET", env.srv.URL+URLChannels+"/mychannel", nil, nil); r.status != 404 {
		t.Fatalf("info after remove: %d %q", r.status, r.body)
	}
}

func TestJoinRejects(t *testing.T) {
	good := genesisBlock(t, "mychannel", true)
	goodBytes := string(marshal(t, good))
	badHash := proto.Clone(good).(*common.Block)
	badHash.Header.DataHash = []byte("not the hash")
	noMeta := proto.Clone(good).(*common.Block)
	noMeta.Metadata = nil
	notConfig := proto.Clone(good).(*common.Block)
	notConfig.Data.Data = [][]byte{{0xff}}
	notConfig.Header.DataHash = channelconfig.BlockDataHash(notConfig.Data)
	bigPart := strings.Repeat("x", int(DefaultMaxRequestBodySize)+1)

	cases := []struct {
		name     string
		parts    [][3]string
		status   int
		contains string
	}{
		{"missing part", [][3]string{{"other", "x.block", goodBytes}}, 400, "form does not contain part key: config-block"},
		{"extra value", [][3]string{{FormConfigBlock, "config.block", goodBytes}, {"note", "", "hi"}}, 400, "too many parts"},
		{"extra file", [][3]string{{FormConfigBlock, "config.block", goodBytes}, {"more", "m.block", "x"}}, 400, "too many parts"},
		{"not protobuf", [][3]string{{FormConfigBlock, "config.block", "\xff\xff\xff"}}, 400, "cannot unmarshal file part config-block into a block"},
		{"empty block", [][3]string{{FormConfigBlock, "config.block", ""}}, 400, "invalid join block: block has no header"},
		{"data hash mismatch", [][3]string{{FormConfigBlock, "config.block", string(marshal(t, badHash))}}, 400, "data_hash"},
		{"not a config block", [][3]string{{FormConfigBlock, "config.block", string(marshal(t, notConfig))}}, 400, "not a config block"},
		{"no metadata", [][3]string{{FormConfigBlock, "config.block", string(marshal(t, noMeta))}}, 400, "no metadata"},
		{"no application", [][3]string{{FormConfigBlock, "config.block", string(marshal(t, genesisBlock(t, "ordonly", false)))}}, 400, "Application group"},
		{"oversized", [][3]string{{FormConfigBlock, "config.block", bigPart}}, 400, "request body too large"},
	}
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := form(t, tc.parts...)
			r := send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
			if r.status != tc.status || !strings.Contains(r.body, tc.contains) {
				t.Fatalf("got %d %q, want %d containing %q", r.status, r.body, tc.status, tc.contains)
			}
			if len(env.reg.joined) != 0 {
				t.Fatalf("registrar was called for a rejected request")
			}
		})
	}
}

func TestJoinRegistrarErrors(t *testing.T) {
	body, ct := form(t, [3]string{FormConfigBlock, "config.block", string(marshal(t, genesisBlock(t, "mychannel", true)))})
	cases := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("x: %w", ErrPendingRemoval), http.StatusConflict},
		{ErrRemovalFailure, http.StatusInternalServerError},
		{fmt.Errorf("consenters: %w", ErrBadBlock), http.StatusBadRequest},
		{errors.New("disk on fire"), http.StatusBadRequest},
	}
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	for _, tc := range cases {
		env.reg.joinErr = tc.err
		r := send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
		if want := errorBody("cannot join: " + tc.err.Error()); r.status != tc.status || r.body != want {
			t.Errorf("%v: got %d %q, want %d %q", tc.err, r.status, r.body, tc.status, want)
		}
	}
}

func TestRemoveRegistrarErrors(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{ErrPendingRemoval, http.StatusConflict},
		{fmt.Errorf("wal: %w", ErrRemovalFailure), http.StatusInternalServerError},
		{errors.New("busy"), http.StatusBadRequest},
	}
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	for _, tc := range cases {
		env.reg.removeErr = tc.err
		r := send(t, env.admin, "DELETE", env.srv.URL+URLChannels+"/mychannel", nil, nil)
		if want := errorBody("cannot remove: " + tc.err.Error()); r.status != tc.status || r.body != want {
			t.Errorf("%v: got %d %q, want %d %q", tc.err, r.status, r.body, tc.status, want)
		}
	}
}

func TestMaxRequestBodySize(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	env.handler.MaxRequestBodySize = 512
	body, ct := form(t, [3]string{FormConfigBlock, "config.block", string(marshal(t, genesisBlock(t, "mychannel", true)))})
	if len(body) <= 512 {
		t.Fatalf("fixture block too small (%d bytes) to exceed the limit", len(body))
	}
	r := send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
	if r.status != 400 || !strings.Contains(r.body, "request body too large") {
		t.Fatalf("got %d %q", r.status, r.body)
	}
	env.handler.MaxRequestBodySize = int64(len(body))
	r = send(t, env.admin, "POST", env.srv.URL+URLChannels, body, map[string]string{"Content-Type": ct})
	if r.status != 201 {
		t.Fatalf("body exactly at the limit: %d %q", r.status, r.body)
	}
}

func TestDisabled(t *testing.T) {
	env := newTestEnv(t, tls.RequireAndVerifyClientCert)
	env.handler.Registrar = nil
	r := send(t, env.admin, "GET", env.srv.URL+URLChannels, nil, nil)
	if r.status != http.StatusServiceUnavailable || r.body != errorBody("channel participation API is disabled") {
		t.Fatalf("got %d %q", r.status, r.body)
	}
}
