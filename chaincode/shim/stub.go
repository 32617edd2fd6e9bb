package shim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
	pb "weft/wire/peer"
)

// stub is the Stub of one running transaction.
type stub struct {
	h       *handler
	txid    string
	channel string
	args    [][]byte
	reply   chan *pb.ChaincodeMessage
	reqMu   sync.Mutex

	// From the signed proposal; a transaction without one (never the case
	// for client transactions) leaves them empty and the getters fail.
	sp        *pb.SignedProposal
	creator   []byte
	nonce     []byte
	epoch     uint64
	timestamp *timestamppb.Timestamp
	transient map[string][]byte

	evMu sync.Mutex
	ev   *pb.ChaincodeEvent
}

func newStub(h *handler, m *pb.ChaincodeMessage, reply chan *pb.ChaincodeMessage) (*stub, error) {
	in := &pb.ChaincodeInput{}
	if err := proto.Unmarshal(m.GetPayload(), in); err != nil {
		return nil, fmt.Errorf("payload is not a ChaincodeInput: %w", err)
	}
	s := &stub{h: h, txid: m.GetTxid(), channel: m.GetChannelId(), args: in.GetArgs(), reply: reply, sp: m.GetProposal()}
	if s.sp == nil {
		return s, nil
	}
	if err := s.readProposal(); err != nil {
		return nil, fmt.Errorf("signed proposal: %w", err)
	}
	return s, nil
}

func (s *stub) readProposal() error {
	prop := &pb.Proposal{}
	if err := proto.Unmarshal(s.sp.GetProposalBytes(), prop); err != nil {
		return fmt.Errorf("proposal: %w", err)
	}
	hdr := &common.Header{}
	if err := proto.Unmarshal(prop.GetHeader(), hdr); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	ch := &common.ChannelHeader{}
	if err := proto.Unmarshal(hdr.GetChannelHeader(), ch); err != nil {
		return fmt.Errorf("channel header: %w", err)
	}
	sh := &common.SignatureHeader{}
	if err := proto.Unmarshal(hdr.GetSignatureHeader(), sh); err != nil {
		return fmt.Errorf("signature header: %w", err)
	}
	cpp := &pb.ChaincodeProposalPayload{}
	if err := proto.Unmarshal(prop.GetPayload(), cpp); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	s.creator, s.nonce, s.epoch = sh.GetCreator(), sh.GetNonce(), ch.GetEpoch()
	s.timestamp, s.transient = ch.GetTimestamp(), cpp.GetTransientMap()
	return nil
}

var errNoProposal = errors.New("the transaction carries no signed proposal")

func (s *stub) GetArgs() [][]byte { return s.args }

func (s *stub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}

func (s *stub) GetFunctionAndParameters() (string, []string) {
	all := s.GetStringArgs()
	if len(all) == 0 {
		return "", nil
	}
	return all[0], all[1:]
}

func (s *stub) GetTxID() string      { return s.txid }
func (s *stub) GetChannelID() string { return s.channel }

func (s *stub) GetCreator() ([]byte, error) {
	if s.sp == nil {
		return nil, errNoProposal
	}
	return s.creator, nil
}

func (s *stub) GetTransient() (map[string][]byte, error) {
	if s.sp == nil {
		return nil, errNoProposal
	}
	return s.transient, nil
}

func (s *stub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	if s.sp == nil {
		return nil, errNoProposal
	}
	return s.timestamp, nil
}

func (s *stub) GetBinding() ([]byte, error) {
	if s.sp == nil {
		return nil, errNoProposal
	}
	h := sha256.New()
	h.Write(s.nonce)
	h.Write(s.creator)
	h.Write(binary.LittleEndian.AppendUint64(nil, s.epoch))
	return h.Sum(nil), nil
}

func (s *stub) GetSignedProposal() (*pb.SignedProposal, error) {
	if s.sp == nil {
		return nil, errNoProposal
	}
	return s.sp, nil
}

// checkKey catches what the request could not even be marshaled with.
func checkKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("%s: key is empty", op)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%s: key %q is not valid UTF-8", op, key)
	}
	return nil
}

func (s *stub) GetState(key string) ([]byte, error) {
	if err := checkKey("get state", key); err != nil {
		return nil, err
	}
	b, err := s.h.request(s, pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: key})
	if err != nil {
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	if len(b) == 0 {
		// The peer cannot tell an absent key from an empty value; both are nil.
		return nil, nil
	}
	return b, nil
}

func (s *stub) PutState(key string, value []byte) error {
	if err := checkKey("put state", key); err != nil {
		return err
	}
	if _, err := s.h.request(s, pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: key, Value: value}); err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

func (s *stub) DelState(key string) error {
	if err := checkKey("delete state", key); err != nil {
		return err
	}
	if _, err := s.h.request(s, pb.ChaincodeMessage_DEL_STATE, &pb.DelState{Key: key}); err != nil {
		return fmt.Errorf("delete state %q: %w", key, err)
	}
	return nil
}

func (s *stub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return CreateCompositeKey(objectType, attributes)
}

func (s *stub) SplitCompositeKey(compositeKey string) (string, []string, error) {
	return SplitCompositeKey(compositeKey)
}

func (s *stub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("set event: event name is empty")
	}
	s.evMu.Lock()
	s.ev = &pb.ChaincodeEvent{EventName: name, Payload: payload}
	s.evMu.Unlock()
	return nil
}

func (s *stub) event() *pb.ChaincodeEvent {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	return s.ev
}

func (s *stub) InvokeChaincode(name string, args [][]byte, channel string) *pb.Response {
	if name == "" {
		return Error("invoke chaincode: chaincode name is empty")
	}
	target := name
	if channel != "" {
		target = name + "/" + channel
	}
	spec := &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: target}, Input: &pb.ChaincodeInput{Args: args}}
	b, err := s.h.request(s, pb.ChaincodeMessage_INVOKE_CHAINCODE, spec)
	if err != nil {
		return Error(fmt.Sprintf("invoke chaincode %s: %v", target, err))
	}
	// The answer nests the callee's final message, whose payload is its Response.
	final := &pb.ChaincodeMessage{}
	if err := proto.Unmarshal(b, final); err != nil {
		return Error(fmt.Sprintf("invoke chaincode %s: reply is not a ChaincodeMessage: %v", target, err))
	}
	if final.GetType() != pb.ChaincodeMessage_COMPLETED {
		return Error(fmt.Sprintf("invoke chaincode %s: %s: %s", target, final.GetType(), final.GetPayload()))
	}
	resp := &pb.Response{}
	if err := proto.Unmarshal(final.GetPayload(), resp); err != nil {
		return Error(fmt.Sprintf("invoke chaincode %s: payload is not a Response: %v", target, err))
	}
	return resp
}
