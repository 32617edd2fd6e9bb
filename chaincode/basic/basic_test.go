package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"weft/chaincode/internal/peertest"
	"weft/chaincode/shim"
	"weft/peer/chaincode"
)

const ccid = "basic_1.0:0123abcd"

// startBasic serves the sample on a loopback port and deploys it on a peer.
func startBasic(t *testing.T) *peertest.Peer {
	t.Helper()
	cc, err := newChaincode()
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- shim.Serve(ctx, cc, shim.ServerOptions{Listener: lis, ChaincodeID: ccid, Logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	p := peertest.New(t)
	p.Deploy("basic", ccid, &chaincode.Connection{Address: lis.Addr().String(), DialTimeout: 2 * time.Second})
	return p
}

func ok(t *testing.T, p *peertest.Peer, args ...string) peertest.Result {
	t.Helper()
	res, err := p.Invoke("basic", args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if res.Resp.GetStatus() != 200 {
		t.Fatalf("%q: status %d: %s", args, res.Resp.GetStatus(), res.Resp.GetMessage())
	}
	return res
}

func fails(t *testing.T, p *peertest.Peer, want string, args ...string) {
	t.Helper()
	res, err := p.Invoke("basic", args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if res.Resp.GetStatus() != 500 || !strings.Contains(res.Resp.GetMessage(), want) {
		t.Errorf("%q: status %d message %q, want 500 with %q", args, res.Resp.GetStatus(), res.Resp.GetMessage(), want)
	}
	if w, _ := peertest.Writes(res.RWSet, "basic"); len(w) != 0 {
		t.Errorf("%q failed but wrote %v", args, w)
	}
}

func readAsset(t *testing.T, p *peertest.Peer, id string) Asset {
	t.Helper()
	var a Asset
	if err := json.Unmarshal(ok(t, p, "ReadAsset", id).Resp.GetPayload(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func allAssets(t *testing.T, p *peertest.Peer) []Asset {
	t.Helper()
	var as []Asset
	if err := json.Unmarshal(ok(t, p, "GetAllAssets").Resp.GetPayload(), &as); err != nil {
		t.Fatal(err)
	}
	return as
}

func TestAssetTransferBasic(t *testing.T) {
	p := startBasic(t)
	if got := string(ok(t, p, "GetAllAssets").Resp.GetPayload()); got != "[]" {
		t.Errorf("GetAllAssets on an empty ledger: %s", got)
	}

	res := ok(t, p, "InitLedger")
	w, err := peertest.Writes(res.RWSet, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if keys := strings.Join(peertest.Keys(w), ","); keys != "asset1,asset2,asset3,asset4,asset5,asset6" {
		t.Fatalf("InitLedger wrote %s", keys)
	}
	// Byte-exact: endorsers running other implementations must agree.
	if want := `{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}`; w["asset1"] != want {
		t.Errorf("asset1 stored as %s, want %s", w["asset1"], want)
	}
	all := allAssets(t, p)
	if len(all) != 6 || all[2] != (Asset{ID: "asset3", Color: "green", Size: 10, Owner: "Jin Soo", AppraisedValue: 500}) {
		t.Errorf("GetAllAssets after InitLedger: %+v", all)
	}

	// Create, as the fabric-samples application does.
	res = ok(t, p, "CreateAsset", "asset7", "yellow", "5", "Tom", "1300")
	wantJSON := `{"AppraisedValue":1300,"Color":"yellow","ID":"asset7","Owner":"Tom","Size":5}`
	if len(res.Resp.GetPayload()) != 0 || res.Event.GetEventName() != EventCreate || string(res.Event.GetPayload()) != wantJSON ||
		res.Event.GetChaincodeId() != "basic" || res.Event.GetTxId() != res.TxID {
		t.Errorf("CreateAsset payload %q event %v", res.Resp.GetPayload(), res.Event)
	}
	if got := string(ok(t, p, "ReadAsset", "asset7").Resp.GetPayload()); got != wantJSON {
		t.Errorf("ReadAsset asset7 = %s", got)
	}
	fails(t, p, "the asset asset7 already exists", "CreateAsset", "asset7", "red", "1", "Ann", "1")
	fails(t, p, `CreateAsset: argument 3: "five" is not an integer`, "CreateAsset", "asset8", "red", "five", "Ann", "1")
	fails(t, p, "CreateAsset: expected 5 arguments", "CreateAsset", "asset8", "red")

	// Update.
	ok(t, p, "UpdateAsset", "asset1", "purple", "6", "Tomoko", "350")
	if a := readAsset(t, p, "asset1"); a != (Asset{ID: "asset1", Color: "purple", Size: 6, Owner: "Tomoko", AppraisedValue: 350}) {
		t.Errorf("after UpdateAsset: %+v", a)
	}
	fails(t, p, "the asset nope does not exist", "UpdateAsset", "nope", "red", "1", "Ann", "1")

	// Transfer returns the previous owner as plain text.
	res = ok(t, p, "TransferAsset", "asset1", "Saptha")
	if got := string(res.Resp.GetPayload()); got != "Tomoko" {
		t.Errorf("TransferAsset returned %q", got)
	}
	var ev Asset
	if err := json.Unmarshal(res.Event.GetPayload(), &ev); err != nil || res.Event.GetEventName() != EventTransfer || ev.Owner != "Saptha" {
		t.Errorf("TransferAsset event %v (%v)", res.Event, err)
	}
	if a := readAsset(t, p, "asset1"); a.Owner != "Saptha" || a.Color != "purple" {
		t.Errorf("after TransferAsset: %+v", a)
	}
	fails(t, p, "the asset nope does not exist", "TransferAsset", "nope", "Ann")

	// Exists and delete.
	for id, want := range map[string]string{"asset2": "true", "nope": "false"} {
		if got := string(ok(t, p, "AssetExists", id).Resp.GetPayload()); got != want {
			t.Errorf("AssetExists %s = %s, want %s", id, got, want)
		}
	}
	res = ok(t, p, "DeleteAsset", "asset2")
	if w, _ := peertest.Writes(res.RWSet, "basic"); !reflect.DeepEqual(w, map[string]string{"asset2": "<deleted>"}) {
		t.Errorf("DeleteAsset writes %v", w)
	}
	if got := string(ok(t, p, "AssetExists", "asset2").Resp.GetPayload()); got != "false" {
		t.Errorf("AssetExists after delete = %s", got)
	}
	fails(t, p, "the asset asset2 does not exist", "DeleteAsset", "asset2")
	fails(t, p, "the asset asset2 does not exist", "ReadAsset", "asset2")

	var ids []string
	for _, a := range allAssets(t, p) {
		ids = append(ids, a.ID)
	}
	if got := strings.Join(ids, ","); got != "asset1,asset3,asset4,asset5,asset6,asset7" {
		t.Errorf("GetAllAssets at the end: %s", got)
	}

	// Contract-qualified names, as getContract(name, "SmartContract") sends.
	if got := string(ok(t, p, "SmartContract:AssetExists", "asset3").Resp.GetPayload()); got != "true" {
		t.Errorf("qualified AssetExists = %s", got)
	}
	fails(t, p, `function "NoSuch" not found`, "NoSuch")
	fails(t, p, "no function name given", []string{}...)
}

func TestRunNeedsEnvironment(t *testing.T) {
	t.Setenv(shim.EnvAddress, "")
	t.Setenv(shim.EnvID, "x:1")
	if err := run(context.Background()); err == nil || !strings.Contains(err.Error(), shim.EnvAddress) {
		t.Errorf("run without an address: %v", err)
	}
	t.Setenv(shim.EnvAddress, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx); err != nil {
		t.Errorf("run with an ended context: %v", err)
	}
}
