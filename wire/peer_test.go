package wire_test

import (
	"encoding/hex"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
	"weft/wire/discovery"
	"weft/wire/gateway"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/orderer"
	"weft/wire/peer"
	"weft/wire/peer/lifecycle"
)

// peerLookup follows path through nested length-delimited fields (always the
// first occurrence of each number) and returns the wire type and value of the
// last one: the varint, or the raw bytes of a length-delimited field.
// Kept separate from wire_test.go's helpers so the two files evolve alone.
func peerLookup(b []byte, path ...protowire.Number) (protowire.Type, uint64, []byte, error) {
	for i, want := range path {
		found := false
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				return 0, 0, nil, fmt.Errorf("path[%d]: tag: %w", i, protowire.ParseError(n))
			}
			b = b[n:]
			var v uint64
			var raw []byte
			switch typ {
			case protowire.VarintType:
				v, n = protowire.ConsumeVarint(b)
			case protowire.BytesType:
				raw, n = protowire.ConsumeBytes(b)
			default:
				n = protowire.ConsumeFieldValue(num, typ, b)
			}
			if n < 0 {
				return 0, 0, nil, fmt.Errorf("path[%d]: field %d: %w", i, num, protowire.ParseError(n))
			}
			b = b[n:]
			if num != want {
				continue
			}
			if i == len(path)-1 {
				return typ, v, raw, nil
			}
			if typ != protowire.BytesType {
				return 0, 0, nil, fmt.Errorf("path[%d]: field %d has wire type %d, want bytes", i, num, typ)
			}
			b, found = raw, true
			break
		}
		if !found {
			return 0, 0, nil, fmt.Errorf("path[%d]: field %d not present", i, want)
		}
	}
	return 0, 0, nil, fmt.Errorf("empty path")
}

var peerTS = &timestamppb.Timestamp{Seconds: 5, Nanos: 6}

func peerSignedProposal() *peer.SignedProposal {
	return &peer.SignedProposal{ProposalBytes: []byte("pb"), Signature: []byte("sig")}
}

func peerKVRWSet() *kvrwset.KVRWSet {
	return &kvrwset.KVRWSet{
		Reads: []*kvrwset.KVRead{{Key: "k1", Version: &kvrwset.Version{BlockNum: 3, TxNum: 4}}},
		RangeQueriesInfo: []*kvrwset.RangeQueryInfo{{
			StartKey: "a", EndKey: "z", ItrExhausted: true,
			ReadsInfo: &kvrwset.RangeQueryInfo_ReadsMerkleHashes{ReadsMerkleHashes: &kvrwset.QueryReadsMerkleSummary{
				MaxDegree: 2, MaxLevel: 1, MaxLevelHashes: [][]byte{[]byte("h")},
			}},
		}},
		Writes: []*kvrwset.KVWrite{{Key: "k2", IsDelete: true, Value: []byte("v")}},
		MetadataWrites: []*kvrwset.KVMetadataWrite{{Key: "k3", Entries: []*kvrwset.KVMetadataEntry{
			{Name: "VALIDATION_PARAMETER", Value: []byte("vp")},
		}}},
	}
}

func peerApprove(t *testing.T) *lifecycle.ApproveChaincodeDefinitionForMyOrgArgs {
	ap := &peer.ApplicationPolicy{Type: &peer.ApplicationPolicy_ChannelConfigPolicyReference{
		ChannelConfigPolicyReference: "/Channel/Application/Endorsement",
	}}
	vp, err := proto.Marshal(ap)
	if err != nil {
		t.Fatalf("marshal ApplicationPolicy: %v", err)
	}
	return &lifecycle.ApproveChaincodeDefinitionForMyOrgArgs{
		Sequence: 1, Name: "basic", Version: "1.0", EndorsementPlugin: "escc", ValidationPlugin: "vscc",
		ValidationParameter: vp,
		Collections: &peer.CollectionConfigPackage{Config: []*peer.CollectionConfig{{
			Payload: &peer.CollectionConfig_StaticCollectionConfig{StaticCollectionConfig: &peer.StaticCollectionConfig{
				Name: "c", RequiredPeerCount: 1, MaximumPeerCount: 2, BlockToLive: 3,
				MemberOnlyRead: true, MemberOnlyWrite: true, EndorsementPolicy: ap,
			}},
		}}},
		InitRequired: true,
		Source: &lifecycle.ChaincodeSource{Type: &lifecycle.ChaincodeSource_LocalPackage{
			LocalPackage: &lifecycle.ChaincodeSource_Local{PackageId: "basic_1.0:abc"},
		}},
	}
}

// peerMessages builds the representative messages shared by the tests. The
// same values were serialized with @hyperledger/fabric-protos 0.3.7 (JS) to
// produce the golden hex in TestPeerGoldenEncoding.
func peerMessages(t *testing.T) map[string]proto.Message {
	kv := peerKVRWSet()
	kvBytes, err := proto.Marshal(kv)
	if err != nil {
		t.Fatalf("marshal KVRWSet: %v", err)
	}
	return map[string]proto.Message{
		"EndorseRequest": &gateway.EndorseRequest{
			TransactionId: "tx1", ChannelId: "mychannel", ProposedTransaction: peerSignedProposal(),
			EndorsingOrganizations: []string{"Org1MSP", "Org2MSP"},
		},
		"ChaincodeMessage": &peer.ChaincodeMessage{
			Type: peer.ChaincodeMessage_GET_STATE_MULTIPLE, Timestamp: peerTS, Payload: []byte("p"), Txid: "tx1",
			Proposal:       peerSignedProposal(),
			ChaincodeEvent: &peer.ChaincodeEvent{ChaincodeId: "cc", TxId: "tx1", EventName: "ev", Payload: []byte("x")},
			ChannelId:      "mychannel",
		},
		"ProposalResponse": &peer.ProposalResponse{
			Version: 1, Timestamp: peerTS,
			Response:    &peer.Response{Status: 200, Message: "OK", Payload: []byte("r")},
			Payload:     []byte("prp"),
			Endorsement: &peer.Endorsement{Endorser: []byte("e"), Signature: []byte("s")},
			Interest: &peer.ChaincodeInterest{Chaincodes: []*peer.ChaincodeCall{{
				Name: "cc", CollectionNames: []string{"c1"}, NoPrivateReads: true, NoPublicWrites: true,
				DisregardNamespacePolicy: true,
			}}},
		},
		"ChaincodeProposalPayload": &peer.ChaincodeProposalPayload{
			Input: []byte("in"), TransientMap: map[string][]byte{"k": []byte("v")},
		},
		"ChaincodeInvocationSpec": &peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
			Type:        peer.ChaincodeSpec_NODE,
			ChaincodeId: &peer.ChaincodeID{Path: "p", Name: "basic", Version: "1.0"},
			Input:       &peer.ChaincodeInput{Args: [][]byte{[]byte("a"), []byte("b")}, IsInit: true},
			Timeout:     30,
		}},
		"KVRWSet": kv,
		"TxReadWriteSet": &rwset.TxReadWriteSet{
			DataModel: rwset.TxReadWriteSet_KV,
			NsRwset: []*rwset.NsReadWriteSet{{
				Namespace: "cc", Rwset: kvBytes,
				CollectionHashedRwset: []*rwset.CollectionHashedReadWriteSet{
					{CollectionName: "c", HashedRwset: []byte("h"), PvtRwsetHash: []byte("ph")},
				},
			}},
		},
		"ApproveChaincodeDefinitionForMyOrgArgs": peerApprove(t),
		"CommitStatusResponse": &gateway.CommitStatusResponse{
			Result: peer.TxValidationCode_MVCC_READ_CONFLICT, BlockNumber: 7,
		},
		"DeliverResponse": &peer.DeliverResponse{Type: &peer.DeliverResponse_FilteredBlock{FilteredBlock: &peer.FilteredBlock{
			ChannelId: "ch", Number: 9,
			FilteredTransactions: []*peer.FilteredTransaction{{
				Txid: "t", Type: common.HeaderType_ENDORSER_TRANSACTION,
				TxValidationCode: peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE,
				Data: &peer.FilteredTransaction_TransactionActions{TransactionActions: &peer.FilteredTransactionActions{
					ChaincodeActions: []*peer.FilteredChaincodeAction{{
						ChaincodeEvent: &peer.ChaincodeEvent{ChaincodeId: "cc", TxId: "t", EventName: "e"},
					}},
				}},
			}},
		}}},
		"ChaincodeEventsRequest": &gateway.ChaincodeEventsRequest{
			ChannelId: "ch", ChaincodeId: "cc", Identity: []byte("id"),
			StartPosition: &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{
				Specified: &orderer.SeekSpecified{Number: 5},
			}},
			AfterTransactionId: "t",
		},
		"ErrorDetail": &gateway.ErrorDetail{Address: "peer0:7051", MspId: "Org1MSP", Message: "boom"},
		"PutStateMetadata": &peer.PutStateMetadata{
			Key: "k", Collection: "c", Metadata: &peer.StateMetadata{Metakey: "m", Value: []byte("v")},
		},
		"WriteBatchState": &peer.WriteBatchState{Rec: []*peer.WriteRecord{{
			Key: "k", Value: []byte("v"), Collection: "c", Type: peer.WriteRecord_PURGE_PRIVATE_DATA,
		}}},
		"GetStateByRange": &peer.GetStateByRange{StartKey: "a", EndKey: "b", Collection: "c", Metadata: []byte("m")},
		"KeyModification": &queryresult.KeyModification{
			TxId: "t", Value: []byte("v"), Timestamp: peerTS, IsDelete: true,
		},
	}
}

// Golden bytes produced by @hyperledger/fabric-protos 0.3.7 (google-protobuf
// JS) from the same field values as peerMessages.
var peerGolden = map[string]string{
	"EndorseRequest":                         "0a0374783112096d796368616e6e656c1a090a027062120373696722074f7267314d535022074f7267324d5350",
	"ChaincodeMessage":                       "08191204080510061a017022037478312a090a027062120373696732100a02636312037478311a0265762201783a096d796368616e6e656c",
	"ProposalResponse":                       "0801120408051006220a08c80112024f4b1a01722a0370727032060a01651201733a100a0e0a02636312026331180120013001",
	"ChaincodeProposalPayload":               "0a02696e12060a016b120176",
	"ChaincodeInvocationSpec":                "0a1f0802120f0a0170120562617369631a03312e301a080a01610a01621801201e",
	"KVRWSet":                                "0a0a0a026b3112040803100412110a016112017a18012a07080210011a01681a090a026b3210011a017622200a026b33121a0a1456414c49444154494f4e5f504152414d4554455212027670",
	"TxReadWriteSet":                         "125e0a026363124c0a0a0a026b3112040803100412110a016112017a18012a07080210011a01681a090a026b3210011a017622200a026b33121a0a1456414c49444154494f4e5f504152414d45544552120276701a0a0a01631201681a027068",
	"ApproveChaincodeDefinitionForMyOrgArgs": "0801120562617369631a03312e302204657363632a0476736363322212202f4368616e6e656c2f4170706c69636174696f6e2f456e646f7273656d656e743a350a330a310a016318012002280330013801422212202f4368616e6e656c2f4170706c69636174696f6e2f456e646f7273656d656e7440014a11120f0a0d62617369635f312e303a616263",
	"CommitStatusResponse":                   "080b1007",
	"DeliverResponse":                        "1a1f0a026368100922170a01741003180a220e0a0c0a0a0a0263631201741a0165",
	"ChaincodeEventsRequest":                 "0a026368120263631a02696422041a0208052a0174",
	"ErrorDetail":                            "0a0a70656572303a3730353112074f7267314d53501a04626f6f6d",
	"PutStateMetadata":                       "0a016b1a016322060a016d120176",
	"WriteBatchState":                        "0a0b0a016b1201761a01632817",
	"GetStateByRange":                        "0a01611201621a016322016d",
	"KeyModification":                        "0a01741201761a04080510062001",
}

func TestPeerGoldenEncoding(t *testing.T) {
	msgs := peerMessages(t)
	if len(msgs) != len(peerGolden) {
		t.Fatalf("%d messages but %d golden encodings", len(msgs), len(peerGolden))
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			want, ok := peerGolden[name]
			if !ok {
				t.Fatalf("no golden encoding")
			}
			got, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if hex.EncodeToString(got) != want {
				t.Errorf("encoding differs from Fabric's\n got  %x\n want %s", got, want)
			}
			// Fabric-produced bytes must decode into the same values.
			raw, err := hex.DecodeString(want)
			if err != nil {
				t.Fatalf("golden hex: %v", err)
			}
			back := m.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(raw, back); err != nil {
				t.Fatalf("unmarshal golden: %v", err)
			}
			if !proto.Equal(back, m) {
				t.Errorf("decoded golden differs: %v", back)
			}
			// Negative: dropping the last byte always cuts the final field short.
			if err := proto.Unmarshal(raw[:len(raw)-1], m.ProtoReflect().New().Interface()); err == nil {
				t.Errorf("truncated input decoded without error")
			}
		})
	}
}

func TestPeerFieldNumbers(t *testing.T) {
	msgs := peerMessages(t)
	tests := []struct {
		msg     string
		path    []protowire.Number
		typ     protowire.Type
		varint  uint64
		bytes   string
		wantErr bool // the field must be absent
	}{
		{msg: "EndorseRequest", path: []protowire.Number{4}, typ: protowire.BytesType, bytes: "Org1MSP"},
		{msg: "EndorseRequest", path: []protowire.Number{3, 2}, typ: protowire.BytesType, bytes: "sig"},
		{msg: "EndorseRequest", path: []protowire.Number{5}, wantErr: true},
		{msg: "ChaincodeMessage", path: []protowire.Number{7}, typ: protowire.BytesType, bytes: "mychannel"},
		{msg: "ChaincodeMessage", path: []protowire.Number{1}, typ: protowire.VarintType, varint: 25},
		{msg: "ChaincodeMessage", path: []protowire.Number{6, 3}, typ: protowire.BytesType, bytes: "ev"},
		{msg: "ChaincodeMessage", path: []protowire.Number{5, 1}, typ: protowire.BytesType, bytes: "pb"},
		{msg: "ProposalResponse", path: []protowire.Number{6, 1}, typ: protowire.BytesType, bytes: "e"},
		{msg: "ProposalResponse", path: []protowire.Number{4, 1}, typ: protowire.VarintType, varint: 200},
		{msg: "ProposalResponse", path: []protowire.Number{7, 1, 6}, typ: protowire.VarintType, varint: 1},
		{msg: "ProposalResponse", path: []protowire.Number{3}, wantErr: true},
		{msg: "ChaincodeProposalPayload", path: []protowire.Number{2, 2}, typ: protowire.BytesType, bytes: "v"},
		{msg: "ChaincodeInvocationSpec", path: []protowire.Number{1, 3, 3}, typ: protowire.VarintType, varint: 1},
		{msg: "ChaincodeInvocationSpec", path: []protowire.Number{1, 1}, typ: protowire.VarintType, varint: 2},
		{msg: "KVRWSet", path: []protowire.Number{3, 2}, typ: protowire.VarintType, varint: 1},
		{msg: "KVRWSet", path: []protowire.Number{1, 2, 2}, typ: protowire.VarintType, varint: 4},
		{msg: "KVRWSet", path: []protowire.Number{2, 5, 1}, typ: protowire.VarintType, varint: 2},
		{msg: "KVRWSet", path: []protowire.Number{2, 4}, wantErr: true},
		{msg: "TxReadWriteSet", path: []protowire.Number{2, 3, 3}, typ: protowire.BytesType, bytes: "ph"},
		{msg: "ApproveChaincodeDefinitionForMyOrgArgs", path: []protowire.Number{9, 2, 1}, typ: protowire.BytesType, bytes: "basic_1.0:abc"},
		{msg: "ApproveChaincodeDefinitionForMyOrgArgs", path: []protowire.Number{8}, typ: protowire.VarintType, varint: 1},
		{msg: "ApproveChaincodeDefinitionForMyOrgArgs", path: []protowire.Number{7, 1, 1, 5}, typ: protowire.VarintType, varint: 3},
		{msg: "CommitStatusResponse", path: []protowire.Number{1}, typ: protowire.VarintType, varint: 11},
		{msg: "DeliverResponse", path: []protowire.Number{3, 4, 3}, typ: protowire.VarintType, varint: 10},
		{msg: "DeliverResponse", path: []protowire.Number{3, 3}, wantErr: true},
		{msg: "ChaincodeEventsRequest", path: []protowire.Number{4, 3, 1}, typ: protowire.VarintType, varint: 5},
		{msg: "WriteBatchState", path: []protowire.Number{1, 5}, typ: protowire.VarintType, varint: 23},
		{msg: "PutStateMetadata", path: []protowire.Number{2}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%v", tc.msg, tc.path), func(t *testing.T) {
			m, ok := msgs[tc.msg]
			if !ok {
				t.Fatalf("unknown message %q", tc.msg)
			}
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			typ, v, raw, err := peerLookup(b, tc.path...)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("field path %v present, want absent", tc.path)
				}
				return
			}
			if err != nil {
				t.Fatalf("lookup: %v", err)
			}
			if typ != tc.typ {
				t.Fatalf("wire type %d, want %d", typ, tc.typ)
			}
			if typ == protowire.VarintType && v != tc.varint {
				t.Errorf("value %d, want %d", v, tc.varint)
			}
			if typ == protowire.BytesType && string(raw) != tc.bytes {
				t.Errorf("value %q, want %q", raw, tc.bytes)
			}
		})
	}
}

func TestPeerEnumValues(t *testing.T) {
	tests := []struct {
		name      string
		got, want int32
	}{
		{"ChaincodeMessage.KEEPALIVE", int32(peer.ChaincodeMessage_KEEPALIVE), 18},
		{"ChaincodeMessage.RESPONSE", int32(peer.ChaincodeMessage_RESPONSE), 13},
		{"ChaincodeMessage.PURGE_PRIVATE_DATA", int32(peer.ChaincodeMessage_PURGE_PRIVATE_DATA), 23},
		{"ChaincodeMessage.WRITE_BATCH_STATE", int32(peer.ChaincodeMessage_WRITE_BATCH_STATE), 24},
		{"ChaincodeMessage.GET_STATE_MULTIPLE", int32(peer.ChaincodeMessage_GET_STATE_MULTIPLE), 25},
		{"WriteRecord.PUT_STATE_METADATA", int32(peer.WriteRecord_PUT_STATE_METADATA), 21},
		{"TxValidationCode.INVALID_CHAINCODE", int32(peer.TxValidationCode_INVALID_CHAINCODE), 25},
		{"TxValidationCode.NOT_VALIDATED", int32(peer.TxValidationCode_NOT_VALIDATED), 254},
		{"TxValidationCode.INVALID_OTHER_REASON", int32(peer.TxValidationCode_INVALID_OTHER_REASON), 255},
		{"ChaincodeSpec.JAVA", int32(peer.ChaincodeSpec_JAVA), 4},
		{"MetaDataKeys.VALIDATION_PARAMETER_V2", int32(peer.MetaDataKeys_VALIDATION_PARAMETER_V2), 1},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	// Negative: Fabric leaves 12 unused; a value there would shift nothing
	// on the wire but would mean the enum was not copied faithfully.
	if name, ok := peer.ChaincodeMessage_Type_name[12]; ok {
		t.Errorf("ChaincodeMessage.Type has value 12 (%s), want none", name)
	}
}

// Full names matter beyond the wire bytes: gRPC paths and Any type URLs use them.
func TestPeerFullNamesAndLayout(t *testing.T) {
	tests := []struct {
		msg  proto.Message
		want protoreflect.FullName
	}{
		{&peer.ChaincodeMessage{}, "protos.ChaincodeMessage"},
		{&peer.FilteredBlock{}, "protos.FilteredBlock"},
		{&lifecycle.QueryInstalledChaincodesResult_InstalledChaincode{}, "lifecycle.QueryInstalledChaincodesResult.InstalledChaincode"},
		{&rwset.TxPvtReadWriteSet{}, "rwset.TxPvtReadWriteSet"},
		{&kvrwset.KVWriteHash{}, "kvrwset.KVWriteHash"},
		{&queryresult.KV{}, "queryresult.KV"},
		{&gateway.ErrorDetail{}, "gateway.ErrorDetail"},
		{&discovery.SignedRequest{}, "discovery.SignedRequest"},
	}
	for _, tc := range tests {
		if got := tc.msg.ProtoReflect().Descriptor().FullName(); got != tc.want {
			t.Errorf("full name %s, want %s", got, tc.want)
		}
	}

	cpp := (&peer.ChaincodeProposalPayload{}).ProtoReflect().Descriptor()
	if f := cpp.Fields().ByNumber(2); f == nil || f.Name() != "TransientMap" || !f.IsMap() {
		t.Errorf("ChaincodeProposalPayload field 2 = %v, want map TransientMap", f)
	}
	reserved := []struct {
		msg protoreflect.MessageDescriptor
		num protowire.Number
	}{
		{(&peer.ChaincodeHeaderExtension{}).ProtoReflect().Descriptor(), 1},
		{(&peer.ChaincodeAction{}).ProtoReflect().Descriptor(), 5},
		{(&peer.ChaincodeDeploymentSpec{}).ProtoReflect().Descriptor(), 4},
	}
	for _, r := range reserved {
		if !r.msg.ReservedRanges().Has(r.num) {
			t.Errorf("%s: field %d not reserved", r.msg.FullName(), r.num)
		}
	}
	if od := (&peer.DeliverResponse{}).ProtoReflect().Descriptor().Oneofs().ByName("Type"); od == nil || od.Fields().Len() != 4 {
		t.Errorf("DeliverResponse oneof Type = %v, want 4 members", od)
	}
}

func TestPeerGatewayServices(t *testing.T) {
	tests := []struct {
		file           protoreflect.FileDescriptor
		service        protoreflect.FullName
		method         protoreflect.Name
		client, server bool // streaming
		in, out        protoreflect.FullName
	}{
		{gateway.File_gateway_gateway_proto, "gateway.Gateway", "Endorse", false, false, "gateway.EndorseRequest", "gateway.EndorseResponse"},
		{gateway.File_gateway_gateway_proto, "gateway.Gateway", "Submit", false, false, "gateway.SubmitRequest", "gateway.SubmitResponse"},
		{gateway.File_gateway_gateway_proto, "gateway.Gateway", "CommitStatus", false, false, "gateway.SignedCommitStatusRequest", "gateway.CommitStatusResponse"},
		{gateway.File_gateway_gateway_proto, "gateway.Gateway", "Evaluate", false, false, "gateway.EvaluateRequest", "gateway.EvaluateResponse"},
		{gateway.File_gateway_gateway_proto, "gateway.Gateway", "ChaincodeEvents", false, true, "gateway.SignedChaincodeEventsRequest", "gateway.ChaincodeEventsResponse"},
		{peer.File_peer_events_proto, "protos.Deliver", "Deliver", true, true, "common.Envelope", "protos.DeliverResponse"},
		{peer.File_peer_events_proto, "protos.Deliver", "DeliverFiltered", true, true, "common.Envelope", "protos.DeliverResponse"},
		{peer.File_peer_events_proto, "protos.Deliver", "DeliverWithPrivateData", true, true, "common.Envelope", "protos.DeliverResponse"},
		{peer.File_peer_peer_proto, "protos.Endorser", "ProcessProposal", false, false, "protos.SignedProposal", "protos.ProposalResponse"},
		{peer.File_peer_chaincode_shim_proto, "protos.ChaincodeSupport", "Register", true, true, "protos.ChaincodeMessage", "protos.ChaincodeMessage"},
		{peer.File_peer_chaincode_shim_proto, "protos.Chaincode", "Connect", true, true, "protos.ChaincodeMessage", "protos.ChaincodeMessage"},
		{discovery.File_discovery_protocol_proto, "discovery.Discovery", "Discover", false, false, "discovery.SignedRequest", "discovery.Response"},
	}
	for _, tc := range tests {
		t.Run(string(tc.service)+"/"+string(tc.method), func(t *testing.T) {
			sd := tc.file.Services().ByName(tc.service.Name())
			if sd == nil || sd.FullName() != tc.service {
				t.Fatalf("service %s not in %s", tc.service, tc.file.Path())
			}
			md := sd.Methods().ByName(tc.method)
			if md == nil {
				t.Fatalf("method %s missing", tc.method)
			}
			if md.IsStreamingClient() != tc.client || md.IsStreamingServer() != tc.server {
				t.Errorf("streaming client=%v server=%v, want %v/%v", md.IsStreamingClient(), md.IsStreamingServer(), tc.client, tc.server)
			}
			if md.Input().FullName() != tc.in || md.Output().FullName() != tc.out {
				t.Errorf("%s -> %s, want %s -> %s", md.Input().FullName(), md.Output().FullName(), tc.in, tc.out)
			}
		})
	}
	if gateway.Gateway_Endorse_FullMethodName != "/gateway.Gateway/Endorse" {
		t.Errorf("Endorse path %q", gateway.Gateway_Endorse_FullMethodName)
	}
	if peer.Chaincode_Connect_FullMethodName != "/protos.Chaincode/Connect" {
		t.Errorf("Connect path %q", peer.Chaincode_Connect_FullMethodName)
	}
	// Negative: no extra methods beyond Fabric's five.
	if n := gateway.File_gateway_gateway_proto.Services().ByName("Gateway").Methods().Len(); n != 5 {
		t.Errorf("Gateway has %d methods, want 5", n)
	}
}
