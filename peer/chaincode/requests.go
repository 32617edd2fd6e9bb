package chaincode

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "weft/wire/peer"
)

// requestFunc answers one shim request with a RESPONSE payload.
type requestFunc func(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error)

var requestHandlers = map[pb.ChaincodeMessage_Type]requestFunc{
	pb.ChaincodeMessage_GET_STATE:             getState,
	pb.ChaincodeMessage_GET_STATE_MULTIPLE:    getStateMultiple,
	pb.ChaincodeMessage_PUT_STATE:             putState,
	pb.ChaincodeMessage_DEL_STATE:             delState,
	pb.ChaincodeMessage_WRITE_BATCH_STATE:     writeBatch,
	pb.ChaincodeMessage_GET_STATE_METADATA:    getStateMetadata,
	pb.ChaincodeMessage_PUT_STATE_METADATA:    putStateMetadata,
	pb.ChaincodeMessage_GET_STATE_BY_RANGE:    getStateByRange,
	pb.ChaincodeMessage_GET_QUERY_RESULT:      getQueryResult,
	pb.ChaincodeMessage_GET_HISTORY_FOR_KEY:   getHistoryForKey,
	pb.ChaincodeMessage_QUERY_STATE_NEXT:      queryStateNext,
	pb.ChaincodeMessage_QUERY_STATE_CLOSE:     queryStateClose,
	pb.ChaincodeMessage_INVOKE_CHAINCODE:      invokeChaincode,
	pb.ChaincodeMessage_GET_PRIVATE_DATA_HASH: privateOnly,
	pb.ChaincodeMessage_PURGE_PRIVATE_DATA:    privateOnly,
}

var errPrivateData = errors.New("private data is not supported yet")

func noCollection(collection string) error {
	if collection != "" {
		return errPrivateData
	}
	return nil
}

func privateOnly(*txState, *pb.ChaincodeMessage) ([]byte, error) { return nil, errPrivateData }

func decode(msg *pb.ChaincodeMessage, m proto.Message) error {
	if err := proto.Unmarshal(msg.GetPayload(), m); err != nil {
		return fmt.Errorf("payload is not a %s: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

func checkWriteKey(key string) error {
	if key == "" {
		return errors.New("key is empty")
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %x is not valid UTF-8", key)
	}
	return nil
}

func getState(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetState{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if err := noCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	return tx.tc.Simulator().GetState(tx.ns, req.GetKey())
}

func getStateMultiple(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetStateMultiple{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if err := noCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	if len(req.GetKeys()) > maxBatchKeys {
		return nil, fmt.Errorf("%d keys requested, at most %d allowed", len(req.GetKeys()), maxBatchKeys)
	}
	res := &pb.GetStateMultipleResult{Values: make([][]byte, 0, len(req.GetKeys()))}
	for _, k := range req.GetKeys() {
		v, err := tx.tc.Simulator().GetState(tx.ns, k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		res.Values = append(res.Values, v)
	}
	return proto.Marshal(res)
}

func putState(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.PutState{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	return nil, tx.put(req.GetKey(), req.GetValue(), req.GetCollection())
}

func (tx *txState) put(key string, value []byte, collection string) error {
	if err := noCollection(collection); err != nil {
		return err
	}
	if err := checkWriteKey(key); err != nil {
		return err
	}
	if err := tx.beforeWrite(); err != nil {
		return err
	}
	return tx.tc.Simulator().PutState(tx.ns, key, value)
}

func delState(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.DelState{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	return nil, tx.del(req.GetKey(), req.GetCollection())
}

func (tx *txState) del(key, collection string) error {
	if err := noCollection(collection); err != nil {
		return err
	}
	if err := checkWriteKey(key); err != nil {
		return err
	}
	if err := tx.beforeWrite(); err != nil {
		return err
	}
	return tx.tc.Simulator().DelState(tx.ns, key)
}

func (tx *txState) putMetadata(key, collection string, md *pb.StateMetadata) error {
	if err := noCollection(collection); err != nil {
		return err
	}
	if err := checkWriteKey(key); err != nil {
		return err
	}
	if md.GetMetakey() == "" {
		return errors.New("metadata key is empty")
	}
	if err := tx.beforeWrite(); err != nil {
		return err
	}
	// Like Fabric, one PUT_STATE_METADATA replaces the key's whole metadata.
	return tx.tc.Simulator().SetStateMetadata(tx.ns, key, map[string][]byte{md.GetMetakey(): md.GetValue()})
}

func writeBatch(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.WriteBatchState{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if len(req.GetRec()) > maxBatchKeys {
		return nil, fmt.Errorf("%d records in a batch, at most %d allowed", len(req.GetRec()), maxBatchKeys)
	}
	for i, rec := range req.GetRec() {
		var err error
		switch rec.GetType() {
		case pb.WriteRecord_PUT_STATE:
			err = tx.put(rec.GetKey(), rec.GetValue(), rec.GetCollection())
		case pb.WriteRecord_DEL_STATE:
			err = tx.del(rec.GetKey(), rec.GetCollection())
		case pb.WriteRecord_PUT_STATE_METADATA:
			err = tx.putMetadata(rec.GetKey(), rec.GetCollection(), rec.GetMetadata())
		case pb.WriteRecord_PURGE_PRIVATE_DATA:
			err = errPrivateData
		default:
			err = fmt.Errorf("unknown operation type %s", rec.GetType())
		}
		if err != nil {
			return nil, fmt.Errorf("record %d (key %q): %w", i, rec.GetKey(), err)
		}
	}
	return nil, nil
}

func getStateMetadata(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.GetStateMetadata{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	if err := noCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	md, err := tx.tc.Simulator().GetStateMetadata(tx.ns, req.GetKey())
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res := &pb.StateMetadataResult{}
	for _, k := range keys {
		res.Entries = append(res.Entries, &pb.StateMetadata{Metakey: k, Value: md[k]})
	}
	return proto.Marshal(res)
}

func putStateMetadata(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	req := &pb.PutStateMetadata{}
	if err := decode(msg, req); err != nil {
		return nil, err
	}
	return nil, tx.putMetadata(req.GetKey(), req.GetCollection(), req.GetMetadata())
}

// parseCalleeName splits "name", "name/channel" or the legacy
// "name:version/channel" the way Fabric does.
func parseCalleeName(s string) (name, channel string) {
	if i := strings.Index(s, "/"); i >= 0 {
		s, channel = s[:i], s[i+1:]
	}
	if i := strings.Index(s, ":"); i >= 0 {
		s = s[:i]
	}
	return s, channel
}

// invokeChaincode answers with the callee's final message, marshaled: the
// shim expects a ChaincodeMessage (COMPLETED with a Response) in the payload.
func invokeChaincode(tx *txState, msg *pb.ChaincodeMessage) ([]byte, error) {
	spec := &pb.ChaincodeSpec{}
	if err := decode(msg, spec); err != nil {
		return nil, err
	}
	name, channel := parseCalleeName(spec.GetChaincodeId().GetName())
	if name == "" {
		return nil, errors.New("chaincode name is empty")
	}
	if channel == "" {
		channel = tx.tc.ChannelID()
	}
	resp, ev, err := tx.tc.InvokeChaincode(withCallee(tx.ctx, name), name, spec.GetInput().GetArgs(), channel)
	if err != nil {
		return nil, fmt.Errorf("execute failed: %w", err)
	}
	if resp == nil {
		return nil, errors.New("execute failed: no response")
	}
	payload, err := proto.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&pb.ChaincodeMessage{
		Type: pb.ChaincodeMessage_COMPLETED, Payload: payload, Txid: msg.GetTxid(), ChannelId: channel, ChaincodeEvent: ev,
	})
}
