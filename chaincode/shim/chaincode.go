package shim

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/ledger/queryresult"
	pb "weft/wire/peer"
)

// Status codes of peer.Response, as the peer interprets them: anything at
// or above ErrorThreshold fails the endorsement.
const (
	OK             = 200
	ErrorThreshold = 400
	ERROR          = 500
)

// Chaincode is an application run by Serve. Init runs for INIT messages
// (definitions with init_required), Invoke for every other transaction.
type Chaincode interface {
	Init(stub Stub) *pb.Response
	Invoke(stub Stub) *pb.Response
}

// Success returns a successful response carrying payload.
func Success(payload []byte) *pb.Response { return &pb.Response{Status: OK, Payload: payload} }

// Error returns a failed response; msg reaches the client as the error text.
func Error(msg string) *pb.Response { return &pb.Response{Status: ERROR, Message: msg} }

// Stub is what a running transaction can see and do. A Stub belongs to one
// transaction and is not valid after Init or Invoke returned. Its methods
// may be called from several goroutines; requests to the peer are then
// made one after another, as the protocol requires.
type Stub interface {
	// GetArgs returns the invocation arguments, function name first.
	GetArgs() [][]byte
	// GetStringArgs returns GetArgs as strings.
	GetStringArgs() []string
	// GetFunctionAndParameters splits the string arguments into the first
	// (the function name, "" when there are no arguments) and the rest.
	GetFunctionAndParameters() (function string, params []string)

	GetTxID() string
	GetChannelID() string
	// GetCreator returns the proposal creator: a marshaled msp.SerializedIdentity.
	GetCreator() ([]byte, error)
	// GetTransient returns the proposal's transient data (never on the ledger).
	GetTransient() (map[string][]byte, error)
	// GetTxTimestamp returns the client's timestamp from the channel header.
	GetTxTimestamp() (*timestamppb.Timestamp, error)
	// GetBinding returns SHA-256(nonce ‖ creator ‖ epoch as 8 little-endian bytes).
	GetBinding() ([]byte, error)
	GetSignedProposal() (*pb.SignedProposal, error)

	// GetState returns the committed value of key, or nil when it has none.
	// Writes of the same transaction are not visible.
	GetState(key string) ([]byte, error)
	PutState(key string, value []byte) error
	DelState(key string) error

	// GetStateByRange iterates over keys in [startKey, endKey); "" leaves
	// a side open. Composite keys are never returned.
	GetStateByRange(startKey, endKey string) (StateQueryIterator, error)
	// GetStateByRangeWithPagination returns one page of pageSize results
	// starting at bookmark ("" for the first page). Read-only transactions only.
	GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (StateQueryIterator, *pb.QueryResponseMetadata, error)
	// GetStateByPartialCompositeKey iterates over the composite keys of
	// objectType whose first attributes equal attributes.
	GetStateByPartialCompositeKey(objectType string, attributes []string) (StateQueryIterator, error)
	CreateCompositeKey(objectType string, attributes []string) (string, error)
	SplitCompositeKey(compositeKey string) (objectType string, attributes []string, err error)
	// GetQueryResult runs a rich (CouchDB selector) query.
	GetQueryResult(query string) (StateQueryIterator, error)
	GetQueryResultWithPagination(query string, pageSize int32, bookmark string) (StateQueryIterator, *pb.QueryResponseMetadata, error)
	// GetHistoryForKey iterates over the committed modifications of key.
	GetHistoryForKey(key string) (HistoryQueryIterator, error)

	// InvokeChaincode calls another chaincode within this transaction.
	// channel "" means this transaction's channel. Failures to reach the
	// callee are returned as a response with status 500.
	InvokeChaincode(chaincodeName string, args [][]byte, channel string) *pb.Response

	// SetEvent attaches an event to the transaction; a later call replaces
	// an earlier one, since a transaction carries at most one event.
	SetEvent(name string, payload []byte) error
}

// StateQueryIterator walks the results of a state query. Close it when done;
// it is closed on the peer anyway when the transaction ends.
type StateQueryIterator interface {
	HasNext() bool
	Next() (*queryresult.KV, error)
	Close() error
}

// HistoryQueryIterator walks the modifications of one key.
type HistoryQueryIterator interface {
	HasNext() bool
	Next() (*queryresult.KeyModification, error)
	Close() error
}
