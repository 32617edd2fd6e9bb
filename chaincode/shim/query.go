package shim

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/queryresult"
	pb "weft/wire/peer"
)

func (s *stub) GetStateByRange(startKey, endKey string) (StateQueryIterator, error) {
	it, _, err := s.rangeQuery(startKey, endKey, nil)
	return it, err
}

func (s *stub) GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (StateQueryIterator, *pb.QueryResponseMetadata, error) {
	md, err := pageMetadata(pageSize, bookmark)
	if err != nil {
		return nil, nil, fmt.Errorf("range query: %w", err)
	}
	return s.rangeQuery(startKey, endKey, md)
}

func (s *stub) rangeQuery(startKey, endKey string, md []byte) (*stateIter, *pb.QueryResponseMetadata, error) {
	if startKey == "" {
		startKey = emptyStart
	}
	if err := checkSimpleKey("start key", startKey); err != nil {
		return nil, nil, fmt.Errorf("range query: %w", err)
	}
	if err := checkSimpleKey("end key", endKey); err != nil {
		return nil, nil, fmt.Errorf("range query: %w", err)
	}
	return s.stateQuery(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{StartKey: startKey, EndKey: endKey, Metadata: md})
}

func (s *stub) GetStateByPartialCompositeKey(objectType string, attributes []string) (StateQueryIterator, error) {
	start, err := CreateCompositeKey(objectType, attributes)
	if err != nil {
		return nil, fmt.Errorf("partial composite key query: %w", err)
	}
	it, _, err := s.stateQuery(pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{StartKey: start, EndKey: start + maxRune})
	return it, err
}

func (s *stub) GetQueryResult(query string) (StateQueryIterator, error) {
	it, _, err := s.stateQuery(pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: query})
	return it, err
}

func (s *stub) GetQueryResultWithPagination(query string, pageSize int32, bookmark string) (StateQueryIterator, *pb.QueryResponseMetadata, error) {
	md, err := pageMetadata(pageSize, bookmark)
	if err != nil {
		return nil, nil, fmt.Errorf("rich query: %w", err)
	}
	return s.stateQuery(pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: query, Metadata: md})
}

func pageMetadata(pageSize int32, bookmark string) ([]byte, error) {
	if pageSize <= 0 {
		return nil, fmt.Errorf("page size %d must be positive", pageSize)
	}
	return proto.Marshal(&pb.QueryMetadata{PageSize: pageSize, Bookmark: bookmark})
}

func (s *stub) GetHistoryForKey(key string) (HistoryQueryIterator, error) {
	if key == "" {
		return nil, errors.New("history query: key is empty")
	}
	resp, err := s.query(pb.ChaincodeMessage_GET_HISTORY_FOR_KEY, &pb.GetHistoryForKey{Key: key})
	if err != nil {
		return nil, err
	}
	return &historyIter{cursor{s: s, resp: resp}}, nil
}

func (s *stub) stateQuery(t pb.ChaincodeMessage_Type, req proto.Message) (*stateIter, *pb.QueryResponseMetadata, error) {
	resp, err := s.query(t, req)
	if err != nil {
		return nil, nil, err
	}
	var md *pb.QueryResponseMetadata
	if len(resp.GetMetadata()) > 0 {
		md = &pb.QueryResponseMetadata{}
		if err := proto.Unmarshal(resp.GetMetadata(), md); err != nil {
			return nil, nil, fmt.Errorf("%s: response metadata: %w", t, err)
		}
	}
	return &stateIter{cursor{s: s, resp: resp}}, md, nil
}

func (s *stub) query(t pb.ChaincodeMessage_Type, req proto.Message) (*pb.QueryResponse, error) {
	b, err := s.h.request(s, t, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	resp := &pb.QueryResponse{}
	if err := proto.Unmarshal(b, resp); err != nil {
		return nil, fmt.Errorf("%s: reply is not a QueryResponse: %w", t, err)
	}
	return resp, nil
}

// cursor walks the batches of one peer-side iterator, fetching the next
// batch with QUERY_STATE_NEXT when the current one is used up.
type cursor struct {
	s      *stub
	resp   *pb.QueryResponse
	pos    int
	closed bool
}

var errNoMoreResults = errors.New("no more query results")

func (c *cursor) HasNext() bool {
	return !c.closed && (c.pos < len(c.resp.GetResults()) || c.resp.GetHasMore())
}

func (c *cursor) next() ([]byte, error) {
	if c.closed {
		return nil, errors.New("query iterator is closed")
	}
	if c.pos >= len(c.resp.GetResults()) {
		if !c.resp.GetHasMore() {
			return nil, errNoMoreResults
		}
		resp, err := c.s.query(pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: c.resp.GetId()})
		if err != nil {
			return nil, err
		}
		c.resp, c.pos = resp, 0
		if len(resp.GetResults()) == 0 {
			return nil, errNoMoreResults
		}
	}
	r := c.resp.GetResults()[c.pos]
	c.pos++
	return r.GetResultBytes(), nil
}

// Close releases the peer-side iterator. Closing twice is harmless.
func (c *cursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.resp.GetId() == "" {
		return nil
	}
	_, err := c.s.query(pb.ChaincodeMessage_QUERY_STATE_CLOSE, &pb.QueryStateClose{Id: c.resp.GetId()})
	return err
}

type stateIter struct{ cursor }

func (it *stateIter) Next() (*queryresult.KV, error) {
	b, err := it.next()
	if err != nil {
		return nil, err
	}
	kv := &queryresult.KV{}
	if err := proto.Unmarshal(b, kv); err != nil {
		return nil, fmt.Errorf("query result is not a KV: %w", err)
	}
	return kv, nil
}

type historyIter struct{ cursor }

func (it *historyIter) Next() (*queryresult.KeyModification, error) {
	b, err := it.next()
	if err != nil {
		return nil, err
	}
	km := &queryresult.KeyModification{}
	if err := proto.Unmarshal(b, km); err != nil {
		return nil, fmt.Errorf("history result is not a KeyModification: %w", err)
	}
	return km, nil
}
