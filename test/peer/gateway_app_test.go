package peer_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// What conformance/node/gateway.js reports. It records; the verdicts are
// here.
type appOutput struct {
	HeightBefore, HeightAfter         uint64
	LiveEvents, ReplayedEvents        []appEvent
	ReadAsset, ReadAfterTransfer      asset
	MvccAsset, PolicyAsset            asset
	MissingError, DeletedError        *string
	HistoryAfterUpdate, DeleteHistory []historyEntry
	RichAlice, RichBig, All           []record
	ByColor                           map[string][]asset
	RangePages, QueryPages            []page
	Blocks, FilteredBlocks            []appBlock
	Txs                               []appTx
}

type appTx struct {
	Fn     string
	Args   []string
	TxID   string `json:"txId"`
	Status struct {
		Code        int
		Successful  bool
		BlockNumber uint64
	}
}

type appEvent struct {
	Name        string
	TxID        string `json:"txId"`
	BlockNumber uint64
	Chaincode   string
	Payload     string
}

type appBlock struct {
	Channel string // filtered blocks only
	Number  uint64
	Txs     []struct {
		TxID   string `json:"txId"`
		Type   int
		Code   int
		Events []filteredEvent // filtered blocks only
	}
}

type filteredEvent struct {
	Name, Chaincode string
	TxID            string `json:"txId"`
	PayloadLength   int
}

type asset struct {
	DocType string `json:"docType"`
	ID      string
	Color   string
	Size    int
	Owner   string
}

type record struct {
	Key    string
	Record asset
}

type page struct {
	Records             []record
	FetchedRecordsCount int
	Bookmark            string
}

type historyEntry struct {
	TxID     string `json:"txId"`
	IsDelete bool
	Seconds  int64
	Value    *asset
}

const (
	txValid                  = 0
	txEndorsementPolicyFails = 10
	txMVCCReadConflict       = 11
	headerEndorserTx         = 3
)

// The transactions gateway.js submits, in the order it settles them.
var wantCalls = []string{
	"CreateAsset node1 blue 5 Tom",
	"UpdateAsset node1 blue 5 Alice",
	"CreateAsset a1 green 10 Alice",
	"CreateAsset a2 blue 7 Bob",
	"CreateAsset a3 green 2 Carol",
	"CreateAsset mvcc1 yellow 1 Dan",
	"CreateAsset pol1 purple 4 Eve",
	"CreateAsset del1 red 9 Zed",
	"UpdateAsset mvcc1 yellow 1 Xena",
	"UpdateAsset mvcc1 yellow 1 Yuri",
	"UpdateAsset pol1 purple 4 Mallory",
	"DeleteAsset del1",
	"CreateAsset z9 black 1 End",
}

func newAsset(id, color string, size int, owner string) asset {
	return asset{DocType: "asset", ID: id, Color: color, Size: size, Owner: owner}
}

// assetOf is the asset a Create/UpdateAsset call writes.
func assetOf(args []string) asset {
	size, _ := strconv.Atoi(args[2])
	return newAsset(args[0], args[1], size, args[3])
}

func checkGatewayApp(t *testing.T, out *appOutput) {
	txs := checkStatuses(t, out)
	if t.Failed() {
		return
	}
	create, update, mvccA, mvccB, pol, del := txs[0], txs[1], txs[8], txs[9], txs[10], txs[11]

	// Live: the listener started before the block existed.
	want := []appEvent{{Name: "AssetCreated", TxID: create.TxID, BlockNumber: create.Status.BlockNumber, Chaincode: "basic",
		Payload: `{"docType":"asset","ID":"node1","Color":"blue","Size":5,"Owner":"Tom"}`}}
	if !reflect.DeepEqual(out.LiveEvents, want) {
		t.Errorf("live chaincode events %+v, want %+v", out.LiveEvents, want)
	}

	if want := newAsset("node1", "blue", 5, "Tom"); out.ReadAsset != want {
		t.Errorf("ReadAsset after create: %+v, want %+v", out.ReadAsset, want)
	}
	if want := newAsset("node1", "blue", 5, "Alice"); out.ReadAfterTransfer != want {
		t.Errorf("ReadAsset after update: %+v, want %+v", out.ReadAfterTransfer, want)
	}
	for _, e := range []struct {
		got  *string
		want string
	}{{out.MissingError, "asset no-such-asset does not exist"}, {out.DeletedError, "asset del1 does not exist"}} {
		if e.got == nil || !strings.Contains(*e.got, e.want) {
			t.Errorf("evaluate error %v, want one containing %q", e.got, e.want)
		}
	}

	// MVCC: the valid one of the two racers decides the owner.
	winner := mvccA
	if mvccB.Status.Code == txValid {
		winner = mvccB
	}
	if want := assetOf(winner.Args); out.MvccAsset != want {
		t.Errorf("asset after the MVCC race: %+v, want the winner's %+v", out.MvccAsset, want)
	}
	if want := newAsset("pol1", "purple", 4, "Eve"); out.PolicyAsset != want {
		t.Errorf("asset after the policy failure: %+v, want it unchanged %+v", out.PolicyAsset, want)
	}

	checkHistory(t, "node1 after create+update", out.HistoryAfterUpdate, []historyEntry{
		{TxID: update.TxID, Value: &out.ReadAfterTransfer}, {TxID: create.TxID, Value: &out.ReadAsset}})
	zed := newAsset("del1", "red", 9, "Zed")
	checkHistory(t, "del1 after create+delete", out.DeleteHistory, []historyEntry{
		{TxID: del.TxID, IsDelete: true}, {TxID: txs[7].TxID, Value: &zed}})

	checkQueries(t, out, winner.Args[3])
	checkReplayedEvents(t, out, txs)
	checkBlocks(t, out, txs, pol)
}

// checkStatuses checks the settled transactions and returns them.
func checkStatuses(t *testing.T, out *appOutput) []appTx {
	txs := out.Txs
	var calls []string
	for _, tx := range txs {
		calls = append(calls, strings.Join(append([]string{tx.Fn}, tx.Args...), " "))
	}
	if !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("transactions %q, want %q", calls, wantCalls)
		return nil
	}
	txID := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	wantCode := map[int]int{10: txEndorsementPolicyFails}
	// Exactly one of the racers (8, 9) commits.
	switch a, b := txs[8].Status.Code, txs[9].Status.Code; {
	case a == txValid && b == txMVCCReadConflict:
		wantCode[9] = txMVCCReadConflict
	case a == txMVCCReadConflict && b == txValid:
		wantCode[8] = txMVCCReadConflict
	default:
		t.Errorf("MVCC racers committed with codes %d and %d; want one %d and one %d", a, b, txValid, txMVCCReadConflict)
	}
	for i, tx := range txs {
		st := tx.Status
		if st.Code != wantCode[i] || st.Successful != (st.Code == txValid) {
			t.Errorf("%s (%s): status %+v, want code %d", calls[i], tx.TxID, st, wantCode[i])
		}
		if !txID.MatchString(tx.TxID) || seen[tx.TxID] {
			t.Errorf("%s: bad or repeated transaction id %q", calls[i], tx.TxID)
		}
		seen[tx.TxID] = true
	}
	// Each group was submitted after the previous one committed; within a
	// group the order is the orderer's.
	groups := [][]int{{0}, {1}, {2, 3, 4, 5, 6, 7}, {8, 9}, {10}, {11}, {12}}
	var prev uint64
	for g, group := range groups {
		lo, hi := ^uint64(0), uint64(0)
		for _, i := range group {
			lo, hi = min(lo, txs[i].Status.BlockNumber), max(hi, txs[i].Status.BlockNumber)
		}
		if g > 0 && lo <= prev {
			t.Errorf("%s committed in block %d, not after block %d", calls[group[0]], lo, prev)
		}
		prev = hi
	}
	if txs[0].Status.BlockNumber != out.HeightBefore || out.HeightAfter != prev+1 {
		t.Errorf("heights %d..%d; transactions in blocks %d..%d", out.HeightBefore, out.HeightAfter, txs[0].Status.BlockNumber, prev)
	}
	return txs
}

func checkHistory(t *testing.T, what string, got, want []historyEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("history of %s: %d entries %+v, want %d", what, len(got), got, len(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.TxID != w.TxID || g.IsDelete != w.IsDelete || !reflect.DeepEqual(g.Value, w.Value) || g.Seconds <= 0 {
			t.Errorf("history of %s [%d]: %+v (value %+v), want %+v (value %+v)", what, i, g, g.Value, w, w.Value)
		}
	}
	if got[0].Seconds < got[1].Seconds {
		t.Errorf("history of %s is not newest first: %+v", what, got)
	}
}

func checkQueries(t *testing.T, out *appOutput, mvccOwner string) {
	// The world state at the end; go1 was written by weft's Go client.
	state := []asset{
		newAsset("a1", "green", 10, "Alice"), newAsset("a2", "blue", 7, "Bob"), newAsset("a3", "green", 2, "Carol"),
		newAsset("go1", "red", 3, "Ann"), newAsset("mvcc1", "yellow", 1, mvccOwner), newAsset("node1", "blue", 5, "Alice"),
		newAsset("pol1", "purple", 4, "Eve"), newAsset("z9", "black", 1, "End"),
	}
	records := func(keep func(asset) bool) []record {
		var rs []record
		for _, a := range state {
			if keep(a) {
				rs = append(rs, record{Key: a.ID, Record: a})
			}
		}
		return rs
	}
	all := records(func(asset) bool { return true })
	for _, q := range []struct {
		what      string
		got, want []record
	}{
		{"GetAllAssets (range)", out.All, all},
		{`QueryAssets {"Owner":"Alice"}`, out.RichAlice, records(func(a asset) bool { return a.Owner == "Alice" })},
		{`QueryAssets {"Size":{"$gte":5}}`, out.RichBig, records(func(a asset) bool { return a.Size >= 5 })},
	} {
		if !reflect.DeepEqual(q.got, q.want) {
			t.Errorf("%s: %+v\nwant %+v", q.what, q.got, q.want)
		}
	}
	for _, color := range []string{"blue", "green", "red", "purple"} {
		var want []asset
		for _, r := range records(func(a asset) bool { return a.Color == color }) {
			want = append(want, r.Record)
		}
		if got := out.ByColor[color]; !reflect.DeepEqual(got, want) {
			t.Errorf("GetAssetsByColor(%s) (composite key): %+v, want %+v", color, got, want)
		}
	}
	// Range pages: the bookmark is the next page's first key, empty at the end.
	wantRange := []page{{all[0:3], 3, all[3].Key}, {all[3:6], 3, all[6].Key}, {all[6:], 2, ""}}
	if !reflect.DeepEqual(out.RangePages, wantRange) {
		t.Errorf("range pages of 3: %+v\nwant %+v", out.RangePages, wantRange)
	}
	// Rich-query pages: opaque bookmarks, never empty, then an empty page.
	if n := len(out.QueryPages); n != 3 {
		t.Errorf("rich-query pages of 4: %d pages %+v, want 2 full and an empty one", n, out.QueryPages)
		return
	}
	var paged []record
	for i, p := range out.QueryPages {
		if want := min(4, len(all)-len(paged)); len(p.Records) != want || p.FetchedRecordsCount != want || p.Bookmark == "" {
			t.Errorf("rich-query page %d: %d records, fetched %d, bookmark %q; want %d records and a bookmark",
				i, len(p.Records), p.FetchedRecordsCount, p.Bookmark, want)
		}
		paged = append(paged, p.Records...)
	}
	if !reflect.DeepEqual(paged, all) {
		t.Errorf("rich-query pages together: %+v\nwant %+v", paged, all)
	}
}

// checkReplayedEvents: every valid transaction that set an event, in
// ledger order, and none of the invalid ones.
func checkReplayedEvents(t *testing.T, out *appOutput, txs []appTx) {
	byID := map[string]appTx{}
	for _, tx := range txs {
		byID[tx.TxID] = tx
	}
	var want []appEvent
	for _, b := range out.Blocks {
		for _, btx := range b.Txs {
			tx, ok := byID[btx.TxID]
			if !ok || tx.Status.Code != txValid || tx.Fn == "DeleteAsset" {
				continue
			}
			name := map[string]string{"CreateAsset": "AssetCreated", "UpdateAsset": "AssetUpdated"}[tx.Fn]
			payload, _ := json.Marshal(assetOf(tx.Args))
			want = append(want, appEvent{Name: name, TxID: tx.TxID, BlockNumber: b.Number, Chaincode: "basic", Payload: string(payload)})
		}
	}
	if len(want) != 10 || !reflect.DeepEqual(out.ReplayedEvents, want) {
		t.Errorf("replayed chaincode events:\n%+v\nwant (10):\n%+v", out.ReplayedEvents, want)
	}
}

// checkBlocks: full and filtered blocks from the first transaction's block
// to the last hold exactly the app's transactions, each in the block and
// with the validation code its commit status gave.
func checkBlocks(t *testing.T, out *appOutput, txs []appTx, pol appTx) {
	first, last := txs[0].Status.BlockNumber, txs[len(txs)-1].Status.BlockNumber
	type placed struct {
		block uint64
		code  int
	}
	want := map[string]placed{}
	events := map[string][]filteredEvent{}
	for _, tx := range txs {
		want[tx.TxID] = placed{tx.Status.BlockNumber, tx.Status.Code}
		events[tx.TxID] = []filteredEvent{}
		// Filtered blocks carry the events of invalid transactions too,
		// without payloads.
		if name, ok := map[string]string{"CreateAsset": "AssetCreated", "UpdateAsset": "AssetUpdated"}[tx.Fn]; ok {
			events[tx.TxID] = []filteredEvent{{Name: name, Chaincode: "basic", TxID: tx.TxID}}
		}
	}
	for kind, blocks := range map[string][]appBlock{"block": out.Blocks, "filtered block": out.FilteredBlocks} {
		if len(blocks) != int(last-first+1) {
			t.Errorf("%s events from %d: %d blocks, want %d..%d", kind, first, len(blocks), first, last)
			continue
		}
		got := map[string]placed{}
		for i, b := range blocks {
			if b.Number != first+uint64(i) {
				t.Errorf("%s event %d: block %d, want %d", kind, i, b.Number, first+uint64(i))
			}
			if kind == "filtered block" && b.Channel != "mychannel" {
				t.Errorf("filtered block %d: channel %q", b.Number, b.Channel)
			}
			for _, tx := range b.Txs {
				if _, dup := got[tx.TxID]; dup || tx.Type != headerEndorserTx {
					t.Errorf("%s %d: transaction %s repeated or of type %d", kind, b.Number, tx.TxID, tx.Type)
				}
				got[tx.TxID] = placed{b.Number, tx.Code}
				if kind == "filtered block" && !reflect.DeepEqual(tx.Events, events[tx.TxID]) {
					t.Errorf("filtered block %d, tx %s: events %+v, want %+v", b.Number, tx.TxID, tx.Events, events[tx.TxID])
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s events: transactions (block, code) %v\nwant %v", kind, got, want)
		}
		if p := got[pol.TxID]; p.code != txEndorsementPolicyFails {
			t.Errorf("%s events: Org1-only endorsed tx %s has code %d", kind, pol.TxID, p.code)
		}
	}
}
