package chaincode

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/queryresult"
	pb "weft/wire/peer"
)

func decodeQR(t *testing.T, what string, m *pb.ChaincodeMessage) (*pb.QueryResponse, []string) {
	t.Helper()
	qr := &pb.QueryResponse{}
	if err := proto.Unmarshal(expectResponse(t, what, m), qr); err != nil {
		t.Errorf("%s: %v", what, err)
	}
	var keys []string
	for _, r := range qr.GetResults() {
		kv := &queryresult.KV{}
		if err := proto.Unmarshal(r.GetResultBytes(), kv); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if kv.GetNamespace() != "cc" {
			t.Errorf("%s: namespace %q", what, kv.GetNamespace())
		}
		keys = append(keys, kv.GetKey())
	}
	return qr, keys
}

func pageMeta(t *testing.T, qr *pb.QueryResponse) *pb.QueryResponseMetadata {
	t.Helper()
	md := &pb.QueryResponseMetadata{}
	if len(qr.GetMetadata()) == 0 {
		t.Error("paginated response without metadata")
	}
	if err := proto.Unmarshal(qr.GetMetadata(), md); err != nil {
		t.Error(err)
	}
	return md
}

func TestRangeQueryBatches(t *testing.T) {
	l := newTestLedger(t)
	var kvs []string
	for i := 0; i < 250; i++ {
		kvs = append(kvs, fmt.Sprintf("k%03d", i), "v")
	}
	l.put("cc", kvs...)
	l.put("cc", "\x00asset\x00a\x00", "composite")
	r := newTestRuntime(t, Options{})
	var tx fakeTx
	tx.name = "cc"
	runStub(t, l, r, "t1", func(s *fakeStub) {
		qr, keys := decodeQR(t, "range", s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{StartKey: "k", EndKey: ""}))
		if len(keys) != 100 || !qr.GetHasMore() || qr.GetId() == "" || keys[0] != "k000" || len(qr.GetMetadata()) != 0 {
			t.Errorf("first batch: %d keys, has_more %v, id %q", len(keys), qr.GetHasMore(), qr.GetId())
		}
		qr2, keys := decodeQR(t, "next", s.call(pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: qr.GetId()}))
		if len(keys) != 100 || !qr2.GetHasMore() || keys[0] != "k100" {
			t.Errorf("second batch: %d keys, has_more %v", len(keys), qr2.GetHasMore())
		}
		qr3, keys := decodeQR(t, "next", s.call(pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: qr.GetId()}))
		if len(keys) != 50 || qr3.GetHasMore() || keys[49] != "k249" {
			t.Errorf("last batch: %d keys, has_more %v", len(keys), qr3.GetHasMore())
		}
		// Exhausted iterators are dropped; the shim's close still succeeds.
		if m := s.call(pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: qr.GetId()}); m.GetType() != pb.ChaincodeMessage_ERROR {
			t.Errorf("next after the end: %s", m.GetType())
		}
		qc, _ := decodeQR(t, "close", s.call(pb.ChaincodeMessage_QUERY_STATE_CLOSE, &pb.QueryStateClose{Id: qr.GetId()}))
		if qc.GetId() != qr.GetId() || qc.GetHasMore() {
			t.Errorf("close answer %v", qc)
		}
		// Partial composite key range as fabric-shim sends it.
		_, keys = decodeQR(t, "composite", s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{
			StartKey: "\x00asset\x00", EndKey: "\x00asset\x00\U0010FFFF"}))
		if len(keys) != 1 || keys[0] != "\x00asset\x00a\x00" {
			t.Errorf("composite keys %q", keys)
		}
		// A closed unfinished iterator is gone.
		qr, _ = decodeQR(t, "range2", s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{StartKey: "k"}))
		decodeQR(t, "close2", s.call(pb.ChaincodeMessage_QUERY_STATE_CLOSE, &pb.QueryStateClose{Id: qr.GetId()}))
		if m := s.call(pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: qr.GetId()}); m.GetType() != pb.ChaincodeMessage_ERROR {
			t.Errorf("next after close: %s", m.GetType())
		}
	}, &tx)
	rws, err := tx.sim.Results()
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := nsWrites(t, rws, "cc")
	if len(kv.GetRangeQueriesInfo()) == 0 || !kv.GetRangeQueriesInfo()[0].GetItrExhausted() ||
		len(kv.GetRangeQueriesInfo()[0].GetRawReads().GetKvReads()) != 250 {
		t.Errorf("range query info %v", kv.GetRangeQueriesInfo())
	}
}

func TestTotalQueryLimit(t *testing.T) {
	l := newTestLedger(t)
	l.put("cc", "a", "1", "b", "2", "c", "3", "d", "4")
	r := newTestRuntime(t, Options{TotalQueryLimit: 3})
	runStub(t, l, r, "t1", func(s *fakeStub) {
		qr, keys := decodeQR(t, "range", s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{}))
		if len(keys) != 3 || qr.GetHasMore() {
			t.Errorf("limit 3: %q has_more %v", keys, qr.GetHasMore())
		}
	}, nil)
}

func TestRangePagination(t *testing.T) {
	l := newTestLedger(t)
	var kvs []string
	for i := 0; i < 10; i++ {
		kvs = append(kvs, fmt.Sprintf("k%03d", i), "v")
	}
	l.put("cc", kvs...)
	r := newTestRuntime(t, Options{})
	page := func(s *fakeStub, size int32, bookmark string) ([]string, *pb.QueryResponseMetadata) {
		qr, keys := decodeQR(t, "page", s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{
			StartKey: "k000", EndKey: "k999", Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: size, Bookmark: bookmark})}))
		if qr.GetHasMore() {
			t.Error("paginated response with has_more")
		}
		return keys, pageMeta(t, qr)
	}
	runStub(t, l, r, "t1", func(s *fakeStub) {
		for _, want := range []struct {
			bookmark, first, next string
			n                     int
		}{
			{"", "k000", "k004", 4}, {"k004", "k004", "k008", 4}, {"k008", "k008", "", 2},
		} {
			keys, md := page(s, 4, want.bookmark)
			if len(keys) != want.n || keys[0] != want.first || md.GetBookmark() != want.next || md.GetFetchedRecordsCount() != int32(want.n) {
				t.Errorf("page from %q: %q, metadata %v", want.bookmark, keys, md)
			}
		}
		// Paginated queries are for read-only transactions.
		if m := s.call(pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: "x", Value: []byte("1")}); m.GetType() != pb.ChaincodeMessage_ERROR ||
			!strings.Contains(string(m.GetPayload()), "paginated") {
			t.Errorf("write after paginated query: %s %q", m.GetType(), m.GetPayload())
		}
	}, nil)
	runStub(t, l, r, "t2", func(s *fakeStub) {
		expectResponse(t, "put", s.call(pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: "x", Value: []byte("1")}))
		m := s.call(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: 2})})
		if m.GetType() != pb.ChaincodeMessage_ERROR || !strings.Contains(string(m.GetPayload()), "after a write") {
			t.Errorf("paginated query after write: %s %q", m.GetType(), m.GetPayload())
		}
	}, nil)
}

func TestRichQueryAndPagination(t *testing.T) {
	l := newTestLedger(t)
	var kvs []string
	for i := 0; i < 7; i++ {
		color := "red"
		if i%2 == 1 {
			color = "blue"
		}
		kvs = append(kvs, fmt.Sprintf("a%d", i), fmt.Sprintf(`{"color":%q,"n":%d}`, color, i))
	}
	l.put("cc", kvs...)
	r := newTestRuntime(t, Options{})
	const q = `{"selector":{"color":"red"},"sort":[{"n":"desc"}]}`
	runStub(t, l, r, "t1", func(s *fakeStub) {
		qr, keys := decodeQR(t, "query", s.call(pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: q}))
		if strings.Join(keys, ",") != "a6,a4,a2,a0" || qr.GetHasMore() || len(qr.GetMetadata()) != 0 {
			t.Errorf("query keys %q", keys)
		}
		// The bookmark is never empty, as CouchDB's: following it past
		// the last page yields no records rather than the first page.
		for _, want := range []struct {
			size           int32
			bookmark, keys string
			next           string
		}{
			{3, "", "a6,a4,a2", "weft-offset:3"},
			{3, "weft-offset:3", "a0", "weft-offset:4"},
			{3, "weft-offset:4", "", "weft-offset:4"},
			{4, "", "a6,a4,a2,a0", "weft-offset:4"},
			{2, "weft-offset:2", "a2,a0", "weft-offset:4"},
			{2, "weft-offset:9", "", "weft-offset:9"},
		} {
			qr, keys := decodeQR(t, "page", s.call(pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: q,
				Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: want.size, Bookmark: want.bookmark})}))
			md := pageMeta(t, qr)
			if got := strings.Join(keys, ","); got != want.keys || md.GetBookmark() != want.next ||
				int(md.GetFetchedRecordsCount()) != len(keys) || qr.GetHasMore() {
				t.Errorf("page of %d from %q: keys %q, metadata %v, has_more %v; want keys %q, bookmark %q",
					want.size, want.bookmark, got, md, qr.GetHasMore(), want.keys, want.next)
			}
		}
		// A client paging until it gets an empty page stops.
		var all []string
		bookmark := ""
		for i := 0; ; i++ {
			if i == 5 {
				t.Fatalf("paging did not end: %q", all)
			}
			qr, keys := decodeQR(t, "page", s.call(pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: q,
				Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: 2, Bookmark: bookmark})}))
			if len(keys) == 0 {
				break
			}
			all = append(all, keys...)
			bookmark = pageMeta(t, qr).GetBookmark()
		}
		if strings.Join(all, ",") != "a6,a4,a2,a0" {
			t.Errorf("paged keys %q", all)
		}
	}, nil)
}

func TestHistoryForKey(t *testing.T) {
	l := newTestLedger(t)
	for i, v := range []string{"one", "two", ""} {
		sim := l.sim(fmt.Sprintf("h%d", i))
		if err := sim.PutState("cc", "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		rws, err := sim.Results()
		if err != nil {
			t.Fatal(err)
		}
		l.commit(fmt.Sprintf("h%d", i), rws)
	}
	r := newTestRuntime(t, Options{})
	runStub(t, l, r, "t1", func(s *fakeStub) {
		qr := &pb.QueryResponse{}
		if err := proto.Unmarshal(expectResponse(t, "history", s.call(pb.ChaincodeMessage_GET_HISTORY_FOR_KEY, &pb.GetHistoryForKey{Key: "k"})), qr); err != nil {
			t.Error(err)
		}
		var got []string
		for _, res := range qr.GetResults() {
			m := &queryresult.KeyModification{}
			if err := proto.Unmarshal(res.GetResultBytes(), m); err != nil {
				t.Error(err)
			}
			if m.GetTimestamp() == nil {
				t.Error("history entry without timestamp")
			}
			got = append(got, fmt.Sprintf("%s:%s:%v", m.GetTxId(), m.GetValue(), m.GetIsDelete()))
		}
		if strings.Join(got, ",") != "h2::true,h1:two:false,h0:one:false" || qr.GetHasMore() {
			t.Errorf("history %v", got)
		}
	}, nil)
}
