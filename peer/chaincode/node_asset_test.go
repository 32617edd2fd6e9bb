package chaincode

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type asset struct {
	DocType string
	ID      string
	Color   string
	Size    int
	Owner   string
}

func TestNodeShimAssetContract(t *testing.T) {
	requireNode(t)
	n := &ccNet{t: t, l: newTestLedger(t), r: newTestRuntime(t, Options{ExecuteTimeout: 20 * time.Second, StartupTimeout: 10 * time.Second}),
		ccs: map[string]*nodeCC{}, creator: newTLSFiles(t).clientCert}
	n.ccs["asset"] = startNodeCC(t, "asset_1.0")
	n.ccs["other"] = startNodeCC(t, "other_1.0")

	// Create: write set holds the asset and its color index entry; the event
	// comes back with the peer-filled chaincode and transaction ids.
	for _, a := range [][]string{{"asset1", "red", "5", "alice"}, {"asset2", "blue", "3", "bob"}, {"asset3", "red", "10", "carol"}} {
		res := n.ok(true, "asset", append([]string{"CreateAsset"}, a...)...)
		want := fmt.Sprintf(`{"docType":"asset","ID":%q,"Color":%q,"Size":%s,"Owner":%q}`, a[0], a[1], a[2], a[3])
		if string(res.resp.GetPayload()) != want {
			t.Fatalf("CreateAsset payload %s, want %s", res.resp.GetPayload(), want)
		}
		if res.ev.GetEventName() != "AssetCreated" || string(res.ev.GetPayload()) != want || res.ev.GetChaincodeId() != "asset" || res.ev.GetTxId() != res.txid {
			t.Fatalf("event %v", res.ev)
		}
		kv, writes := nsWrites(t, res.rws, "asset")
		index := "\x00color~id\x00" + a[1] + "\x00" + a[0] + "\x00"
		if len(writes) != 2 || writes[a[0]] != want || writes[index] != "\x00" {
			t.Fatalf("writes %q", writes)
		}
		if len(kv.GetReads()) != 1 || kv.GetReads()[0].GetKey() != a[0] || kv.GetReads()[0].GetVersion() != nil {
			t.Fatalf("reads %v", kv.GetReads())
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"duplicate", []string{"CreateAsset", "asset1", "red", "1", "x"}, "asset asset1 already exists"},
		{"missing", []string{"ReadAsset", "nope"}, "asset nope does not exist"},
		{"unknown function", []string{"NoSuchFn"}, "NoSuchFn"},
		{"private data", []string{"ReadPrivate", "coll", "k"}, "private data is not supported yet"},
		{"unknown callee", []string{"CallOther", "ghost", "", `["ReadAsset","x"]`}, "chaincode ghost is not defined"},
	} {
		res := n.invoke(true, "asset", tc.args...)
		if res.resp.GetStatus() != 500 || !strings.Contains(res.resp.GetMessage(), tc.want) {
			t.Errorf("%s: status %d message %q, want 500 with %q", tc.name, res.resp.GetStatus(), res.resp.GetMessage(), tc.want)
		}
	}

	res := n.ok(false, "asset", "ReadAsset", "asset1")
	var a1 asset
	if err := json.Unmarshal(res.resp.GetPayload(), &a1); err != nil || a1.Owner != "alice" || a1.Size != 5 {
		t.Fatalf("ReadAsset %s %v", res.resp.GetPayload(), err)
	}
	kv, writes := nsWrites(t, res.rws, "asset")
	if len(writes) != 0 || len(kv.GetReads()) != 1 || kv.GetReads()[0].GetVersion().GetBlockNum() != 1 {
		t.Fatalf("ReadAsset rwset reads %v writes %v", kv.GetReads(), writes)
	}

	n.ok(true, "asset", "UpdateAsset", "asset1", "blue", "6", "alice")
	n.ok(true, "asset", "DeleteAsset", "asset2")
	n.ok(true, "asset", "CreateAsset", "asset4", "green", "1", "dave")

	type record struct {
		Key    string
		Record asset
	}
	keysOf := func(payload []byte) string {
		var recs []record
		if err := json.Unmarshal(payload, &recs); err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		var ks []string
		for _, r := range recs {
			ks = append(ks, r.Key)
		}
		return strings.Join(ks, ",")
	}
	// getStateByRange('', '') skips the composite index keys.
	if got := keysOf(n.ok(false, "asset", "GetAllAssets").resp.GetPayload()); got != "asset1,asset3,asset4" {
		t.Errorf("GetAllAssets %s", got)
	}
	var blue []asset
	if err := json.Unmarshal(n.ok(false, "asset", "GetAssetsByColor", "blue").resp.GetPayload(), &blue); err != nil || len(blue) != 1 || blue[0].ID != "asset1" {
		t.Errorf("GetAssetsByColor blue %v %v", blue, err)
	}
	var red []asset
	if err := json.Unmarshal(n.ok(false, "asset", "GetAssetsByColor", "red").resp.GetPayload(), &red); err != nil || len(red) != 1 || red[0].ID != "asset3" {
		t.Errorf("GetAssetsByColor red %v %v", red, err)
	}
	if got := keysOf(n.ok(false, "asset", "QueryAssets", `{"selector":{"Size":{"$gte":5}},"sort":[{"Size":"desc"}]}`).resp.GetPayload()); got != "asset3,asset1" {
		t.Errorf("QueryAssets %s", got)
	}

	// Pagination: range bookmarks are keys, rich query bookmarks are opaque.
	type page struct {
		Records             []record
		FetchedRecordsCount int
		Bookmark            string
	}
	getPage := func(args ...string) page {
		var p page
		if err := json.Unmarshal(n.ok(false, "asset", args...).resp.GetPayload(), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := getPage("GetAssetsByRangeWithPagination", "asset", "asset~", "2", "")
	if len(p.Records) != 2 || p.FetchedRecordsCount != 2 || p.Bookmark != "asset4" || p.Records[1].Key != "asset3" {
		t.Errorf("range page 1 %+v", p)
	}
	p = getPage("GetAssetsByRangeWithPagination", "asset", "asset~", "2", p.Bookmark)
	if len(p.Records) != 1 || p.Bookmark != "" || p.Records[0].Key != "asset4" {
		t.Errorf("range page 2 %+v", p)
	}
	const all = `{"selector":{"docType":"asset"}}`
	var paged []string
	bookmark := ""
	for i := 0; i < 4; i++ {
		p = getPage("QueryAssetsWithPagination", all, "2", bookmark)
		for _, r := range p.Records {
			paged = append(paged, r.Key)
		}
		if p.FetchedRecordsCount != len(p.Records) {
			t.Errorf("query page %d: fetched %d, %d records", i, p.FetchedRecordsCount, len(p.Records))
		}
		if bookmark = p.Bookmark; bookmark == "" {
			break
		}
	}
	if strings.Join(paged, ",") != "asset1,asset3,asset4" {
		t.Errorf("query pages %v", paged)
	}

	// History, newest first, with timestamps and deletes.
	type mod struct {
		TxID     string `json:"txId"`
		IsDelete bool
		Seconds  int64
		Value    *asset
	}
	var hist []mod
	if err := json.Unmarshal(n.ok(false, "asset", "GetAssetHistory", "asset2").resp.GetPayload(), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || !hist[0].IsDelete || hist[1].IsDelete || hist[1].Value.Owner != "bob" || hist[0].Seconds <= hist[1].Seconds || hist[1].TxID != "tx0002" {
		t.Errorf("history of asset2 %+v", hist)
	}

	// More results than one batch: the shim pulls them with QUERY_STATE_NEXT.
	var bulk []string
	for i := 0; i < 230; i++ {
		id := fmt.Sprintf("bulk%03d", i)
		bulk = append(bulk, id, fmt.Sprintf(`{"docType":"asset","ID":%q,"Color":"grey","Size":%d,"Owner":"x"}`, id, i))
	}
	n.l.put("asset", bulk...)
	if got := strings.Count(keysOf(n.ok(false, "asset", "GetAllAssets").resp.GetPayload()), ",") + 1; got != 233 {
		t.Errorf("GetAllAssets returned %d assets, want 233", got)
	}
	res = n.ok(false, "asset", "QueryAssets", `{"selector":{"Color":"grey","Size":{"$lt":150}}}`)
	if got := strings.Count(keysOf(res.resp.GetPayload()), ",") + 1; got != 150 {
		t.Errorf("QueryAssets returned %d assets, want 150", got)
	}

	// Key-level endorsement metadata goes through PUT/GET_STATE_METADATA.
	res = n.ok(true, "asset", "SetAssetPolicy", "asset1", "policy-bytes")
	kv, _ = nsWrites(t, res.rws, "asset")
	if len(kv.GetMetadataWrites()) != 1 || kv.GetMetadataWrites()[0].GetEntries()[0].GetName() != "VALIDATION_PARAMETER" {
		t.Errorf("metadata writes %v", kv.GetMetadataWrites())
	}
	if got := string(n.ok(false, "asset", "GetAssetPolicy", "asset1").resp.GetPayload()); got != "policy-bytes" {
		t.Errorf("GetAssetPolicy %q", got)
	}

	// Chaincode-to-chaincode: the callee writes its own namespace within the
	// caller's transaction, and its response comes back nested.
	res = n.ok(true, "asset", "CallOther", "other", "", `["CreateAsset","x1","pink","2","eve"]`)
	var called struct {
		Status  int
		Message string
		Payload string
	}
	if err := json.Unmarshal(res.resp.GetPayload(), &called); err != nil || called.Status != 200 || !strings.Contains(called.Payload, `"ID":"x1"`) {
		t.Errorf("CallOther %s %v", res.resp.GetPayload(), err)
	}
	if _, w := nsWrites(t, res.rws, "other"); w["x1"] == "" {
		t.Errorf("callee writes %v", w)
	}
	if _, w := nsWrites(t, res.rws, "asset"); len(w) != 0 {
		t.Errorf("caller writes %v", w)
	}
	res = n.ok(false, "asset", "CallOther", "other", "", `["ReadAsset","missing"]`)
	if err := json.Unmarshal(res.resp.GetPayload(), &called); err != nil || called.Status != 500 || !strings.Contains(called.Message, "does not exist") {
		t.Errorf("CallOther failing callee %s %v", res.resp.GetPayload(), err)
	}
	res = n.invoke(false, "asset", "CallOther", "other", "elsewhere", `["ReadAsset","x1"]`)
	if res.resp.GetStatus() != 500 || !strings.Contains(res.resp.GetMessage(), "channel elsewhere is not joined") {
		t.Errorf("CallOther other channel: %v", res.resp)
	}
	if got := string(n.ok(false, "other", "ReadAsset", "x1").resp.GetPayload()); !strings.Contains(got, `"Owner":"eve"`) {
		t.Errorf("other ReadAsset %s", got)
	}

	// Transaction data reaches the stub.
	var info struct {
		TxID    string
		Channel string
		MSPID   string
		Seconds int64
	}
	res = n.ok(false, "asset", "TxInfo")
	if err := json.Unmarshal(res.resp.GetPayload(), &info); err != nil || info.TxID != res.txid || info.Channel != "mychannel" ||
		info.MSPID != "Org1MSP" || info.Seconds != 1700000000 {
		t.Errorf("TxInfo %s %v", res.resp.GetPayload(), err)
	}

	// Many concurrent transactions on one stream.
	var wg sync.WaitGroup
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := n.invoke(false, "asset", "ReadAsset", "asset3")
			if !strings.Contains(string(res.resp.GetPayload()), `"Owner":"carol"`) {
				t.Errorf("concurrent ReadAsset: %v", res.resp)
			}
		}()
	}
	wg.Wait()

	// The chaincode server restarts: the runtime notices and redials.
	other := n.ccs["other"]
	other.stop()
	other.start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		txid := n.txid()
		tx := n.context("other", "mychannel", txid)
		tx.sim = n.l.sim(txid)
		resp, _, err := n.r.Execute(t.Context(), other.ccid, other.conn, tx, input("ReadAsset", "x1"), false)
		tx.sim.Done()
		if err == nil && resp.GetStatus() == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect after restart: %v %v", resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
