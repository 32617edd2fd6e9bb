package kvcc

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/ledger/statedb"
	"weft/peer/chaincode"
	"weft/peer/txsim"
	"weft/wire/ledger/rwset/kvrwset"
	pb "weft/wire/peer"
)

const ns = "bench"

// tx is the peer-side context of one invocation over a real state DB.
type tx struct {
	sim  *txsim.Simulator
	txid string
}

func (t *tx) Simulator() *txsim.Simulator        { return t.sim }
func (t *tx) ChannelID() string                  { return "ch" }
func (t *tx) TxID() string                       { return t.txid }
func (t *tx) ChaincodeName() string              { return ns }
func (t *tx) SignedProposal() *pb.SignedProposal { return nil }
func (t *tx) InvokeChaincode(context.Context, string, [][]byte, string) (*pb.Response, *pb.ChaincodeEvent, error) {
	return nil, nil, fmt.Errorf("not supported")
}

func openDB(t *testing.T) *statedb.DB {
	t.Helper()
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := statedb.NewUpdateBatch()
	b.Put(ns, "there", []byte("v0"), nil, statedb.Version{BlockNum: 1})
	if err := db.Commit(b, 1); err != nil {
		t.Fatal(err)
	}
	return db
}

func startServer(t *testing.T, ccid string) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", ccid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func writes(t *testing.T, sim *txsim.Simulator) map[string]string {
	t.Helper()
	rws, err := sim.Results()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range rws.GetNsRwset() {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
			t.Fatal(err)
		}
		for _, w := range kv.GetWrites() {
			out[n.GetNamespace()+"/"+w.GetKey()] = string(w.GetValue())
		}
	}
	return out
}

// TestAgainstPeerRuntime drives the server with the peer's own chaincode
// runtime, so the protocol is checked by the real other side.
func TestAgainstPeerRuntime(t *testing.T) {
	db := openDB(t)
	s := startServer(t, "bench_1.0:abc")
	rt := chaincode.NewRuntime(chaincode.Options{ExecuteTimeout: 5 * time.Second})
	defer rt.Close()
	conn := &chaincode.Connection{Address: s.Addr(), DialTimeout: 2 * time.Second}

	cases := []struct {
		name       string
		args       []string
		wantStatus int32
		wantMsg    string
		wantPay    string
		wantWrites map[string]string
	}{
		{"put", []string{"put", "k1", "v1"}, 200, "", "", map[string]string{ns + "/k1": "v1"}},
		{"put empty value", []string{"put", "k2", ""}, 200, "", "", map[string]string{ns + "/k2": ""}},
		{"get committed", []string{"get", "there"}, 200, "", "v0", map[string]string{}},
		{"get missing", []string{"get", "nothing"}, 200, "", "", map[string]string{}},
		{"no function", nil, 500, "no function name", "", map[string]string{}},
		{"unknown function", []string{"del", "k"}, 500, `unknown function "del"`, "", map[string]string{}},
		{"put missing value", []string{"put", "k"}, 500, "put takes key and value", "", map[string]string{}},
		{"put empty key", []string{"put", "", "v"}, 500, "key is empty", "", map[string]string{}},
		{"get too many", []string{"get", "a", "b"}, 500, "get takes a key", "", map[string]string{}},
		// A key that is not UTF-8 cannot be sent; the contract reports it.
		{"put bad key", []string{"put", "\xffbad", "v"}, 500, "invalid UTF-8", "", map[string]string{}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := txsim.New(db, fmt.Sprintf("tx%d", i))
			defer sim.Done()
			var args [][]byte
			for _, a := range c.args {
				args = append(args, []byte(a))
			}
			resp, _, err := rt.Execute(context.Background(), "bench_1.0:abc", conn, &tx{sim: sim, txid: fmt.Sprintf("tx%d", i)}, &pb.ChaincodeInput{Args: args}, false)
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if resp.GetStatus() != c.wantStatus || !strings.Contains(resp.GetMessage(), c.wantMsg) || string(resp.GetPayload()) != c.wantPay {
				t.Fatalf("response %d %q %q, want %d containing %q, payload %q", resp.GetStatus(), resp.GetMessage(), resp.GetPayload(), c.wantStatus, c.wantMsg, c.wantPay)
			}
			got := writes(t, sim)
			if fmt.Sprint(got) != fmt.Sprint(c.wantWrites) {
				t.Fatalf("writes %v, want %v", got, c.wantWrites)
			}
		})
	}
	if s.Transactions() != 4 || s.Failed() != 6 {
		t.Errorf("counted %d ok, %d failed; want 4 and 6", s.Transactions(), s.Failed())
	}
}

// TestConcurrentTransactions shares one stream among many transactions, as
// the peer does under load.
func TestConcurrentTransactions(t *testing.T) {
	db := openDB(t)
	s := startServer(t, "cc:1")
	rt := chaincode.NewRuntime(chaincode.Options{ExecuteTimeout: 10 * time.Second})
	defer rt.Close()
	conn := &chaincode.Connection{Address: s.Addr(), DialTimeout: 2 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("t%d", i)
			sim := txsim.New(db, id)
			defer sim.Done()
			resp, _, err := rt.Execute(context.Background(), "cc:1", conn, &tx{sim: sim, txid: id}, &pb.ChaincodeInput{Args: [][]byte{[]byte("put"), []byte(id), []byte(id)}}, false)
			if err != nil || resp.GetStatus() != 200 {
				errs <- fmt.Errorf("%s: %v %v", id, resp, err)
				return
			}
			rws, err := sim.Results()
			if err != nil {
				errs <- err
				return
			}
			kv := &kvrwset.KVRWSet{}
			if err := proto.Unmarshal(rws.GetNsRwset()[0].GetRwset(), kv); err != nil || len(kv.GetWrites()) != 1 || kv.GetWrites()[0].GetKey() != id {
				errs <- fmt.Errorf("%s: writes %v %v", id, kv.GetWrites(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Transactions() != 64 {
		t.Errorf("completed %d, want 64", s.Transactions())
	}
}

// TestWrongID: a server registered under another package ID is refused by
// the peer, so a misconfigured bench fails instead of hanging.
func TestWrongID(t *testing.T) {
	s := startServer(t, "other:1")
	rt := chaincode.NewRuntime(chaincode.Options{ExecuteTimeout: 5 * time.Second, StartupTimeout: 5 * time.Second})
	defer rt.Close()
	sim := txsim.New(openDB(t), "t")
	defer sim.Done()
	_, _, err := rt.Execute(context.Background(), "cc:1", &chaincode.Connection{Address: s.Addr(), DialTimeout: 2 * time.Second},
		&tx{sim: sim, txid: "t"}, &pb.ChaincodeInput{Args: [][]byte{[]byte("put"), []byte("k"), []byte("v")}}, false)
	if err == nil || !strings.Contains(err.Error(), "other:1") {
		t.Fatalf("execute with a wrong CHAINCODE_ID: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start("127.0.0.1:0", ""); err == nil {
		t.Error("empty ccid accepted")
	}
	if _, err := Start("not an address", "cc:1"); err == nil || !strings.Contains(err.Error(), "listen address") {
		t.Errorf("bad address: %v", err)
	}
	if _, err := Serve(nil, "cc:1"); err == nil {
		t.Error("nil listener accepted")
	}
}
