package chaincode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"weft/ledger/statedb"
	"weft/wire/ledger/queryresult"
	pb "weft/wire/peer"
)

// queryIter is an open shim iterator: state range, rich query or history.
type queryIter struct {
	// next returns the next marshaled result and its key; nil at the end.
	next     func() (*pb.QueryResultBytes, string, error)
	close    func()
	pending  *pb.QueryResultBytes // read ahead to know whether more remain
	pendKey  string
	returned int32
	limit    int32
	// paginated queries answer one page with QueryResponseMetadata; the
	// bookmark function turns the next unread key into the client's bookmark.
	paginated bool
	bookmark  func(nextKey string, more bool) string
}

func stateIter(ns string, it statedb.Iterator) (func() (*pb.QueryResultBytes, string, error), func()) {
	next := func() (*pb.QueryResultBytes, string, error) {
		kv, err := it.Next()
		if err != nil || kv == nil {
			return nil, "", err
		}
		b, err := proto.Marshal(&queryresult.KV{Namespace: ns, Key: kv.Key, Value: kv.Value})
		if err != nil {
			return nil, "", err
		}
		return &pb.QueryResultBytes{ResultBytes: b}, kv.Key, nil
	}
	return next, it.Close
}

func queryMetadata(raw []byte) (*pb.QueryMetadata, error) {
	md := &pb.QueryMetadata{}
	if err := proto.Unmarshal(raw, md); err != nil {
		return nil, fmt.Errorf("metadata is not a QueryMetadata: %w", err)
	}
	if md.GetPageSize() < 0 {
		return nil, fmt.Errorf("page size %d is negative", md.GetPageSize())
	}
	return md, nil
}

func isPaginated(md *pb.QueryMetadata) bool { return md.GetPageSize() > 0 || md.GetBookmark() != "" }

func (tx *txState) limitFor(md *pb.QueryMetadata) int32 {
	limit := tx.h.r.opts.TotalQueryLimit
	if ps := md.GetPageSize(); ps > 0 && ps < limit {
		limit = ps
	}
	return limit
}

func getStateByRange(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetStateByRange{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if err := noCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	md, err := queryMetadata(req.GetMetadata())
	if err != nil {
		return nil, err
	}
	q := &queryIter{limit: tx.limitFor(md), paginated: isPaginated(md)}
	start := req.GetStartKey()
	if q.paginated {
		if err := tx.beforePaginatedQuery(); err != nil {
			return nil, err
		}
		// A range bookmark is the first key of the next page, as in Fabric.
		if md.GetBookmark() != "" {
			start = md.GetBookmark()
		}
		q.bookmark = func(nextKey string, more bool) string {
			if !more {
				return ""
			}
			return nextKey
		}
	}
	it, err := tx.tc.Simulator().GetStateRange(tx.ns, start, req.GetEndKey())
	if err != nil {
		return nil, err
	}
	q.next, q.close = stateIter(tx.ns, it)
	return tx.startQuery(q)
}

// Rich-query bookmarks count the results already paged through: the state
// database has no CouchDB bookmarks, and an offset works with any sort order.
// Like CouchDB's, the bookmark is never empty, even on the last page: an
// empty bookmark means "from the start", so a client that pages until it
// gets no records would otherwise read the first page again, forever.
const offsetBookmarkPrefix = "weft-offset:"

func getQueryResult(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetQueryResult{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if err := noCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	md, err := queryMetadata(req.GetMetadata())
	if err != nil {
		return nil, err
	}
	q := &queryIter{limit: tx.limitFor(md), paginated: isPaginated(md)}
	skip := 0
	if q.paginated {
		if err := tx.beforePaginatedQuery(); err != nil {
			return nil, err
		}
		if b := md.GetBookmark(); b != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(b, offsetBookmarkPrefix))
			if !strings.HasPrefix(b, offsetBookmarkPrefix) || err != nil || n < 0 {
				return nil, fmt.Errorf("bookmark %q was not issued by this peer", b)
			}
			skip = n
		}
		q.bookmark = func(string, bool) string {
			return offsetBookmarkPrefix + strconv.Itoa(skip+int(q.returned))
		}
	}
	it, err := tx.tc.Simulator().GetQueryResult(tx.ns, req.GetQuery())
	if err != nil {
		return nil, err
	}
	q.next, q.close = stateIter(tx.ns, it)
	for i := 0; i < skip; i++ {
		r, _, err := q.next()
		if err != nil {
			q.close()
			return nil, err
		}
		if r == nil {
			break
		}
	}
	return tx.startQuery(q)
}

func getHistoryForKey(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetHistoryForKey{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	mods, err := tx.tc.Simulator().GetHistoryForKey(tx.ns, req.GetKey())
	if err != nil {
		return nil, err
	}
	i := 0
	q := &queryIter{limit: tx.h.r.opts.TotalQueryLimit, close: func() {}}
	q.next = func() (*pb.QueryResultBytes, string, error) {
		if i >= len(mods) {
			return nil, "", nil
		}
		m := mods[i]
		i++
		if m.GetTimestamp() == nil {
			return nil, "", fmt.Errorf("history entry of tx %s has no timestamp", m.GetTxId())
		}
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, "", err
		}
		return &pb.QueryResultBytes{ResultBytes: b}, "", nil
	}
	return tx.startQuery(q)
}

const iterPrefix = "it"

// startQuery registers q and answers with its first batch.
func (tx *txState) startQuery(q *queryIter) ([]byte, error) {
	id := iterPrefix + strconv.FormatUint(tx.h.iterSeq.Add(1), 10)
	tx.mu.Lock()
	tx.iters[id] = q
	tx.mu.Unlock()
	return tx.nextBatch(id, q)
}

func queryStateNext(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.QueryStateNext{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	tx.mu.Lock()
	q := tx.iters[req.GetId()]
	tx.mu.Unlock()
	if q == nil {
		return nil, errors.New("query iterator not found")
	}
	return tx.nextBatch(req.GetId(), q)
}

// queryStateClose always succeeds: the shim closes iterators it has already
// exhausted, which the peer has dropped by then.
func queryStateClose(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.QueryStateClose{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	tx.dropIter(req.GetId())
	return proto.Marshal(&pb.QueryResponse{HasMore: false, Id: req.GetId()})
}

func (tx *txState) dropIter(id string) {
	tx.mu.Lock()
	q := tx.iters[id]
	delete(tx.iters, id)
	tx.mu.Unlock()
	if q != nil {
		q.close()
	}
}

// nextBatch returns up to queryBatchSize results (a whole page when
// paginated). The iterator is dropped once it has nothing more to give.
func (tx *txState) nextBatch(id string, q *queryIter) ([]byte, error) {
	resp := &pb.QueryResponse{Id: id}
	more := false
	for {
		if q.returned >= q.limit {
			// Paginated: peek to know whether another page exists.
			if q.paginated && q.pending == nil {
				r, k, err := q.next()
				if err != nil {
					tx.dropIter(id)
					return nil, err
				}
				q.pending, q.pendKey = r, k
			}
			more = q.pending != nil
			break
		}
		r, k := q.pending, q.pendKey
		q.pending = nil
		if r == nil {
			var err error
			if r, k, err = q.next(); err != nil {
				tx.dropIter(id)
				return nil, err
			}
		}
		if r == nil {
			break
		}
		if !q.paginated && len(resp.Results) == queryBatchSize {
			q.pending, q.pendKey = r, k
			resp.HasMore = true
			return proto.Marshal(resp)
		}
		resp.Results = append(resp.Results, r)
		q.returned++
	}
	if q.paginated {
		md, err := proto.Marshal(&pb.QueryResponseMetadata{FetchedRecordsCount: q.returned, Bookmark: q.bookmark(q.pendKey, more)})
		if err != nil {
			return nil, err
		}
		resp.Metadata = md
	}
	tx.dropIter(id)
	return proto.Marshal(resp)
}
