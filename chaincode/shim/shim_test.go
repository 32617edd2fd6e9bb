package shim_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"weft/chaincode/internal/peertest"
	"weft/chaincode/shim"
	"weft/comm"
)

func newPeer(t *testing.T) *peertest.Peer {
	t.Helper()
	p := peertest.New(t)
	p.Deploy("cc", "cc_1:abc", serve(t, testCC{}, "cc_1:abc", shim.ServerOptions{}))
	return p
}

func TestStateAndQueriesThroughPeer(t *testing.T) {
	p := newPeer(t)
	res := mustOK(t, p, true, "cc", "put", "a", "1", "b", "2", "c", "3")
	w, err := peertest.Writes(res.RWSet, "cc")
	if err != nil || !reflect.DeepEqual(w, map[string]string{"a": "1", "b": "2", "c": "3"}) {
		t.Fatalf("writes %v %v", w, err)
	}
	mustOK(t, p, true, "cc", "index", "color~id", "blue", "a")
	mustOK(t, p, true, "cc", "index", "color~id", "blue", "c")
	mustOK(t, p, true, "cc", "index", "color~id", "red", "b")
	mustOK(t, p, true, "cc", "put", "doc1", `{"color":"blue","size":3}`, "doc2", `{"color":"red","size":5}`, "doc3", `{"color":"blue","size":7}`)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"get", "b"}, "2"},
		{[]string{"get", "nope"}, "<nil>"},
		// An open range skips composite keys.
		{[]string{"range", "", ""}, "a,b,c,doc1,doc2,doc3"},
		{[]string{"range", "b", "d"}, "b,c"},
		{[]string{"range", "a", "c"}, "a,b"},
		{[]string{"partial", "color~id", "blue"}, "blue/a,blue/c"},
		{[]string{"partial", "color~id"}, "blue/a,blue/c,red/b"},
		{[]string{"page", "", "d", "2", ""}, "a,b|2|c"},
		{[]string{"page", "", "d", "2", "c"}, "c|1|"},
		{[]string{"query", `{"selector":{"color":"blue"},"sort":[{"size":"desc"}]}`}, "doc3,doc1"},
	}
	for _, c := range cases {
		if got := string(mustOK(t, p, false, "cc", c.args...).Resp.GetPayload()); got != c.want {
			t.Errorf("%q = %q, want %q", c.args, got, c.want)
		}
	}

	res = mustOK(t, p, true, "cc", "del", "b")
	if w, _ := peertest.Writes(res.RWSet, "cc"); w["b"] != "<deleted>" {
		t.Errorf("delete writes %v", w)
	}
	mustOK(t, p, true, "cc", "put", "a", "10")
	hist := string(mustOK(t, p, false, "cc", "history", "a").Resp.GetPayload())
	if !strings.HasPrefix(hist, "tx") || strings.Count(hist, ",") != 1 || !strings.Contains(hist, ":10:false:") || !strings.Contains(hist, ":1:false:") {
		t.Errorf("history of a: %s", hist)
	}
	if got := string(mustOK(t, p, false, "cc", "history", "b").Resp.GetPayload()); !strings.Contains(got, "::true:") {
		t.Errorf("history of b lacks the delete: %s", got)
	}
}

// More results than the peer puts in one batch: the iterator must fetch the
// rest with QUERY_STATE_NEXT.
func TestRangeAcrossBatches(t *testing.T) {
	p := newPeer(t)
	var args []string
	var want []string
	for i := 0; i < 250; i++ {
		k := fmt.Sprintf("k%03d", i)
		args = append(args, k, "v")
		want = append(want, k)
	}
	mustOK(t, p, true, "cc", append([]string{"put"}, args...)...)
	if got := string(mustOK(t, p, false, "cc", "range", "", "").Resp.GetPayload()); got != strings.Join(want, ",") {
		t.Errorf("range returned %d keys", strings.Count(got, ",")+1)
	}
}

func TestTransactionData(t *testing.T) {
	p := newPeer(t)
	res, err := p.Exec(peertest.Call{Name: "cc", Args: []string{"info", "x"}, Transient: map[string][]byte{"secret": []byte("s3")}})
	if err != nil || res.Resp.GetStatus() != 200 {
		t.Fatalf("info: %v %v", res.Resp, err)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Resp.GetPayload(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"txid": res.TxID, "channel": peertest.Channel, "msp": "Org1MSP", "seconds": float64(peertest.Epoch),
		"transient": "s3", "binding": float64(32), "signature": "unchecked", "args": []any{"info", "x"}, "rawargs": float64(2)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("info = %v\nwant %v", got, want)
	}

	res, err = p.Exec(peertest.Call{Name: "cc", Args: []string{"setup", "x"}, Init: true})
	if err != nil || string(res.Resp.GetPayload()) != "init:setup:x" {
		t.Errorf("init: %v %v", res.Resp, err)
	}

	res = mustOK(t, p, false, "cc", "event", "Created", "payload")
	if res.Event.GetEventName() != "Created" || string(res.Event.GetPayload()) != "payload" || res.Event.GetTxId() != res.TxID || res.Event.GetChaincodeId() != "cc" {
		t.Errorf("event %v", res.Event)
	}
}

func TestFailures(t *testing.T) {
	p := newPeer(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fail", "custom failure"}, "custom failure"},
		{[]string{"panic"}, "chaincode panicked: boom"},
		{[]string{"nosuch"}, `unknown function "nosuch"`},
		{[]string{"range", "\x00x", ""}, "reserved for composite keys"},
		{[]string{"range", "a", "\x00"}, "end key"},
		{[]string{"put", "", "v"}, "key is empty"},
		{[]string{"event", "", "v"}, "event name is empty"},
		{[]string{"index", "t", ""}, "attribute 0 is empty"},
		{[]string{"page", "", "", "0", ""}, "page size 0 must be positive"},
		{[]string{"history", ""}, "key is empty"},
		// Errors from the peer reach the chaincode as errors.
		{[]string{"put", "\xff", "v"}, "not valid UTF-8"},
		{[]string{"get", "\xff"}, "not valid UTF-8"},
	}
	for _, c := range cases {
		res, err := p.Query("cc", c.args...)
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if res.Resp.GetStatus() != 500 || !strings.Contains(res.Resp.GetMessage(), c.want) {
			t.Errorf("%q: status %d message %q, want 500 with %q", c.args, res.Resp.GetStatus(), res.Resp.GetMessage(), c.want)
		}
	}
	// The stream survives all of the above.
	mustOK(t, p, false, "cc", "get", "a")
}

func TestInvokeChaincode(t *testing.T) {
	p := newPeer(t)
	p.Deploy("other", "other_1:def", serve(t, testCC{}, "other_1:def", shim.ServerOptions{}))
	res := mustOK(t, p, false, "cc", "call", "other", "", "put", "x", "y")
	if string(res.Resp.GetPayload()) != "200||" {
		t.Errorf("call put: %s", res.Resp.GetPayload())
	}
	// The callee writes its own namespace within the caller's transaction.
	if w, _ := peertest.Writes(res.RWSet, "other"); w["x"] != "y" {
		t.Errorf("callee writes %v", w)
	}
	if got := string(mustOK(t, p, false, "cc", "call", "other", "", "fail", "nope").Resp.GetPayload()); got != "500|nope|" {
		t.Errorf("failing callee: %s", got)
	}
	if got := string(mustOK(t, p, false, "cc", "call", "other", "elsewhere", "get", "x").Resp.GetPayload()); !strings.Contains(got, "channel elsewhere is not joined") {
		t.Errorf("other channel: %s", got)
	}
	if got := string(mustOK(t, p, false, "cc", "call", "ghost", "", "get", "x").Resp.GetPayload()); !strings.HasPrefix(got, "500|") || !strings.Contains(got, "ghost") {
		t.Errorf("unknown callee: %s", got)
	}
}

func TestConcurrentTransactions(t *testing.T) {
	p := newPeer(t)
	mustOK(t, p, true, "cc", "put", "k", "v")
	mustOK(t, p, false, "cc", "parallel", "k", "v")
	const n = 20
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.Query("cc", "sleep", "300ms", "k")
			if err != nil || string(res.Resp.GetPayload()) != "v" {
				t.Errorf("sleep: %v %v", res.Resp, err)
			}
		}()
	}
	wg.Wait()
	// Run one after another they would take n × 300ms.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%d concurrent transactions took %s", n, d)
	}
}

func TestWrongChaincodeID(t *testing.T) {
	p := peertest.New(t)
	p.Deploy("cc", "cc_1:expected", serve(t, testCC{}, "cc_1:other", shim.ServerOptions{}))
	if _, err := p.Query("cc", "get", "a"); err == nil || !strings.Contains(err.Error(), `registered as "cc_1:other"`) {
		t.Errorf("error %v, want a registration mismatch", err)
	}
}

func TestMutualTLS(t *testing.T) {
	files := peertest.NewTLS(t)
	conf, err := comm.ServerTLSConfig(files.ServerCert, files.ServerKey, [][]byte{files.CA}, true)
	if err != nil {
		t.Fatal(err)
	}
	conn := serve(t, testCC{}, "tls_1:abc", shim.ServerOptions{TLS: conf})
	conn.TLSRequired, conn.ClientAuthRequired, conn.RootCert = true, true, files.CA
	conn.ClientCert, conn.ClientKey = files.ClientCert, files.ClientKey
	p := peertest.New(t)
	p.Deploy("cc", "tls_1:abc", conn)
	mustOK(t, p, true, "cc", "put", "a", "1")

	// Without a client certificate the handshake fails.
	plain := *conn
	plain.ClientAuthRequired, plain.ClientCert, plain.ClientKey = false, nil, nil
	other := peertest.New(t)
	other.Deploy("cc", "tls_1:abc", &plain)
	if _, err := other.Query("cc", "get", "a"); err == nil {
		t.Error("a peer without a client certificate was served")
	}
	// Nor does a plaintext peer get through.
	plain.TLSRequired = false
	other = peertest.New(t)
	other.Deploy("cc", "tls_1:abc", &plain)
	if _, err := other.Query("cc", "get", "a"); err == nil {
		t.Error("a plaintext peer was served")
	}
}
