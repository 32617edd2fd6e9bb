package wire_test

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
	"weft/wire/msp"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

// field is one top-level record of a protobuf encoding.
type field struct {
	num protowire.Number
	typ protowire.Type
	raw []byte // payload for BytesType, nil otherwise
	v   uint64 // value for VarintType
}

// parse splits b into its top-level records, failing on malformed input so
// a test can never pass on garbage.
func parse(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.raw, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

// step addresses the idx-th occurrence of field num at one nesting level.
type step struct {
	num protowire.Number
	idx int
}

// at walks path through nested length-delimited fields and returns the
// record found at its end.
func at(b []byte, path ...step) (field, error) {
	var cur field
	for i, s := range path {
		if i > 0 {
			if cur.typ != protowire.BytesType {
				return field{}, fmt.Errorf("path element %d: field %d is not length-delimited", i, cur.num)
			}
			b = cur.raw
		}
		fs, err := parse(b)
		if err != nil {
			return field{}, err
		}
		seen, found := 0, false
		for _, f := range fs {
			if f.num != s.num {
				continue
			}
			if seen == s.idx {
				cur, found = f, true
				break
			}
			seen++
		}
		if !found {
			return field{}, fmt.Errorf("path element %d: field %d occurrence %d missing", i, s.num, s.idx)
		}
	}
	return cur, nil
}

func p(nums ...protowire.Number) []step {
	out := make([]step, len(nums))
	for i, n := range nums {
		out[i] = step{num: n}
	}
	return out
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	return b
}

type check struct {
	path  []step
	typ   protowire.Type
	bytes []byte // expected payload for BytesType; nil means "any"
	v     uint64 // expected value for VarintType
}

func TestWireLayout(t *testing.T) {
	cert := []byte("tls-cert-hash")
	hdr := &common.ChannelHeader{
		Type:        int32(common.HeaderType_ENDORSER_TRANSACTION),
		Version:     1,
		Timestamp:   &timestamppb.Timestamp{Seconds: 7, Nanos: 9},
		ChannelId:   "mychannel",
		TxId:        "tx1",
		Epoch:       3,
		Extension:   []byte("ext"),
		TlsCertHash: cert,
	}
	block := &common.Block{
		Header: &common.BlockHeader{Number: 42, PreviousHash: []byte("prev"), DataHash: []byte("dh")},
		Data:   &common.BlockData{Data: [][]byte{[]byte("tx-a"), []byte("tx-b")}},
		Metadata: &common.BlockMetadata{Metadata: [][]byte{
			[]byte("sigs"), nil, []byte("filter"), nil, []byte("commit"),
		}},
	}
	role := mustMarshal(t, &common.MSPRole{MspIdentifier: "Org1MSP", Role: common.MSPRole_PEER})
	spe := &common.SignaturePolicyEnvelope{
		Version: 0,
		Rule: &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{
			N:     1,
			Rules: []*common.SignaturePolicy{{Type: &common.SignaturePolicy_SignedBy{SignedBy: 0}}},
		}}},
		Identities: []*common.MSPPrincipal{{
			PrincipalClassification: common.MSPPrincipal_ROLE,
			Principal:               role,
		}},
	}
	cfgEnv := &common.ConfigEnvelope{
		Config: &common.Config{Sequence: 5, ChannelGroup: &common.ConfigGroup{
			Version: 2,
			Groups:  map[string]*common.ConfigGroup{"Application": {ModPolicy: "Admins"}},
			Values: map[string]*common.ConfigValue{"HashingAlgorithm": {
				Value: mustMarshal(t, &common.HashingAlgorithm{Name: "SHA256"}), ModPolicy: "Admins",
			}},
			Policies: map[string]*common.ConfigPolicy{"Readers": {Policy: &common.Policy{
				Type: int32(common.Policy_IMPLICIT_META),
			}}},
			ModPolicy: "Admins",
		}},
		LastUpdate: &common.Envelope{Payload: []byte("upd")},
	}
	seek := &orderer.SeekInfo{
		Start:       &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{Specified: &orderer.SeekSpecified{Number: 10}}},
		Stop:        &orderer.SeekPosition{Type: &orderer.SeekPosition_NextCommit{NextCommit: &orderer.SeekNextCommit{}}},
		Behavior:    orderer.SeekInfo_FAIL_IF_NOT_READY,
		ContentType: orderer.SeekInfo_HEADER_WITH_SIG,
	}
	sid := &msp.SerializedIdentity{Mspid: "Org1MSP", IdBytes: []byte("pem")}
	raft := &etcdraft.ConfigMetadata{
		Consenters: []*etcdraft.Consenter{{Host: "o1", Port: 7050, ClientTlsCert: []byte("c"), ServerTlsCert: []byte("s")}},
		Options:    &etcdraft.Options{TickInterval: "500ms", SnapshotIntervalSize: 16777216},
	}

	tests := []struct {
		name   string
		msg    proto.Message
		checks []check
	}{
		{"Envelope", &common.Envelope{Payload: []byte("p"), Signature: []byte("s")}, []check{
			{path: p(1), typ: protowire.BytesType, bytes: []byte("p")},
			{path: p(2), typ: protowire.BytesType, bytes: []byte("s")},
		}},
		{"ChannelHeader", hdr, []check{
			{path: p(1), typ: protowire.VarintType, v: 3},
			{path: p(2), typ: protowire.VarintType, v: 1},
			{path: p(3, 1), typ: protowire.VarintType, v: 7},
			{path: p(3, 2), typ: protowire.VarintType, v: 9},
			{path: p(4), typ: protowire.BytesType, bytes: []byte("mychannel")},
			{path: p(5), typ: protowire.BytesType, bytes: []byte("tx1")},
			{path: p(6), typ: protowire.VarintType, v: 3},
			{path: p(7), typ: protowire.BytesType, bytes: []byte("ext")},
			{path: p(8), typ: protowire.BytesType, bytes: cert},
		}},
		{"Block", block, []check{
			{path: p(1, 1), typ: protowire.VarintType, v: 42},
			{path: p(1, 2), typ: protowire.BytesType, bytes: []byte("prev")},
			{path: p(1, 3), typ: protowire.BytesType, bytes: []byte("dh")},
			{path: []step{{2, 0}, {1, 1}}, typ: protowire.BytesType, bytes: []byte("tx-b")},
			{path: []step{{3, 0}, {1, int(common.BlockMetadataIndex_TRANSACTIONS_FILTER)}}, typ: protowire.BytesType, bytes: []byte("filter")},
			{path: []step{{3, 0}, {1, int(common.BlockMetadataIndex_COMMIT_HASH)}}, typ: protowire.BytesType, bytes: []byte("commit")},
		}},
		{"ConfigEnvelope", cfgEnv, []check{
			{path: p(1, 1), typ: protowire.VarintType, v: 5},
			{path: p(1, 2, 1), typ: protowire.VarintType, v: 2},
			{path: p(1, 2, 2, 1), typ: protowire.BytesType, bytes: []byte("Application")},
			{path: p(1, 2, 2, 2, 5), typ: protowire.BytesType, bytes: []byte("Admins")},
			{path: p(1, 2, 3, 1), typ: protowire.BytesType, bytes: []byte("HashingAlgorithm")},
			{path: p(1, 2, 3, 2, 2, 1), typ: protowire.BytesType, bytes: []byte("SHA256")},
			{path: p(1, 2, 3, 2, 3), typ: protowire.BytesType, bytes: []byte("Admins")},
			{path: p(1, 2, 4, 1), typ: protowire.BytesType, bytes: []byte("Readers")},
			{path: p(1, 2, 4, 2, 2, 1), typ: protowire.VarintType, v: 3},
			{path: p(1, 2, 5), typ: protowire.BytesType, bytes: []byte("Admins")},
			{path: p(2, 1), typ: protowire.BytesType, bytes: []byte("upd")},
		}},
		{"SignaturePolicyEnvelope", spe, []check{
			{path: p(2, 2, 1), typ: protowire.VarintType, v: 1},
			// signed_by = 0 inside a oneof is still emitted.
			{path: p(2, 2, 2, 1), typ: protowire.VarintType, v: 0},
			{path: p(3, 2), typ: protowire.BytesType, bytes: role},
			{path: p(3, 2, 1), typ: protowire.BytesType, bytes: []byte("Org1MSP")},
			{path: p(3, 2, 2), typ: protowire.VarintType, v: 3},
		}},
		{"SeekInfo", seek, []check{
			{path: p(1, 3, 1), typ: protowire.VarintType, v: 10},
			{path: p(2, 4), typ: protowire.BytesType, bytes: []byte{}},
			{path: p(3), typ: protowire.VarintType, v: 1},
			{path: p(5), typ: protowire.VarintType, v: 1},
		}},
		{"DeliverResponse status", &orderer.DeliverResponse{Type: &orderer.DeliverResponse_Status{Status: common.Status_NOT_FOUND}}, []check{
			{path: p(1), typ: protowire.VarintType, v: 404},
		}},
		{"DeliverResponse block", &orderer.DeliverResponse{Type: &orderer.DeliverResponse_Block{Block: block}}, []check{
			{path: p(2, 1, 1), typ: protowire.VarintType, v: 42},
		}},
		{"BroadcastResponse", &orderer.BroadcastResponse{Status: common.Status_SERVICE_UNAVAILABLE, Info: "busy"}, []check{
			{path: p(1), typ: protowire.VarintType, v: 503},
			{path: p(2), typ: protowire.BytesType, bytes: []byte("busy")},
		}},
		{"SerializedIdentity", sid, []check{
			{path: p(1), typ: protowire.BytesType, bytes: []byte("Org1MSP")},
			{path: p(2), typ: protowire.BytesType, bytes: []byte("pem")},
		}},
		{"FabricMSPConfig", &msp.FabricMSPConfig{Name: "Org1MSP", TlsRootCerts: [][]byte{[]byte("tls")}, FabricNodeOus: &msp.FabricNodeOUs{Enable: true}}, []check{
			{path: p(9), typ: protowire.BytesType, bytes: []byte("tls")},
			{path: p(11, 1), typ: protowire.VarintType, v: 1},
		}},
		{"etcdraft.ConfigMetadata", raft, []check{
			{path: p(1, 2), typ: protowire.VarintType, v: 7050},
			{path: p(1, 4), typ: protowire.BytesType, bytes: []byte("s")},
			{path: p(2, 5), typ: protowire.VarintType, v: 16777216},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustMarshal(t, tc.msg)
			for _, c := range tc.checks {
				f, err := at(b, c.path...)
				if err != nil {
					t.Fatalf("path %v: %v", c.path, err)
				}
				if f.typ != c.typ {
					t.Fatalf("path %v: wire type %d, want %d", c.path, f.typ, c.typ)
				}
				switch {
				case c.typ == protowire.VarintType && f.v != c.v:
					t.Errorf("path %v: value %d, want %d", c.path, f.v, c.v)
				case c.typ == protowire.BytesType && c.bytes != nil && !bytes.Equal(f.raw, c.bytes):
					t.Errorf("path %v: bytes %q, want %q", c.path, f.raw, c.bytes)
				}
			}
		})
	}
}

// TestExactEncoding pins complete encodings for small messages, built by
// hand from the field numbers in the Fabric facts document.
func TestExactEncoding(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		want []byte
	}{
		{"Envelope", &common.Envelope{Payload: []byte{0xAA}, Signature: []byte{0xBB}},
			[]byte{0x0a, 0x01, 0xAA, 0x12, 0x01, 0xBB}},
		{"ChannelHeader tls_cert_hash only", &common.ChannelHeader{TlsCertHash: []byte{1}},
			[]byte{0x42, 0x01, 0x01}},
		{"SeekInfo newest", &orderer.SeekInfo{Start: &orderer.SeekPosition{Type: &orderer.SeekPosition_Newest{Newest: &orderer.SeekNewest{}}}},
			[]byte{0x0a, 0x02, 0x0a, 0x00}},
		{"LastConfig", &common.LastConfig{Index: 300}, []byte{0x08, 0xac, 0x02}},
		{"ConfigUpdate isolated_data", &common.ConfigUpdate{IsolatedData: map[string][]byte{"k": {9}}},
			[]byte{0x2a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustMarshal(t, tc.msg); !bytes.Equal(got, tc.want) {
				t.Errorf("encoding % x, want % x", got, tc.want)
			}
		})
	}
}

func TestEnumValues(t *testing.T) {
	tests := []struct {
		name string
		got  int32
		want int32
	}{
		{"Status.SUCCESS", int32(common.Status_SUCCESS), 200},
		{"Status.REQUEST_ENTITY_TOO_LARGE", int32(common.Status_REQUEST_ENTITY_TOO_LARGE), 413},
		{"HeaderType.CONFIG_UPDATE", int32(common.HeaderType_CONFIG_UPDATE), 2},
		{"HeaderType.DELIVER_SEEK_INFO", int32(common.HeaderType_DELIVER_SEEK_INFO), 5},
		{"HeaderType.CHAINCODE_PACKAGE", int32(common.HeaderType_CHAINCODE_PACKAGE), 6},
		{"MSPPrincipal.COMBINED", int32(common.MSPPrincipal_COMBINED), 4},
		{"MSPRole.ORDERER", int32(common.MSPRole_ORDERER), 4},
		{"ImplicitMetaPolicy.MAJORITY", int32(common.ImplicitMetaPolicy_MAJORITY), 2},
		{"ConsensusType.STATE_MAINTENANCE", int32(orderer.ConsensusType_STATE_MAINTENANCE), 1},
		{"SeekInfo.BEST_EFFORT", int32(orderer.SeekInfo_BEST_EFFORT), 1},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestServices(t *testing.T) {
	if got := orderer.AtomicBroadcast_Broadcast_FullMethodName; got != "/orderer.AtomicBroadcast/Broadcast" {
		t.Errorf("Broadcast path %q", got)
	}
	if got := orderer.AtomicBroadcast_Deliver_FullMethodName; got != "/orderer.AtomicBroadcast/Deliver" {
		t.Errorf("Deliver path %q", got)
	}
	if got := orderer.Cluster_Step_FullMethodName; got != "/orderer.Cluster/Step" {
		t.Errorf("Step path %q", got)
	}
	if n := len(orderer.AtomicBroadcast_ServiceDesc.Streams); n != 2 {
		t.Errorf("AtomicBroadcast: %d streaming methods, want 2", n)
	}
	if n := len(orderer.Cluster_ServiceDesc.Streams); n != 1 {
		t.Errorf("Cluster: %d streaming methods, want 1", n)
	}
	for _, s := range append(orderer.AtomicBroadcast_ServiceDesc.Streams, orderer.Cluster_ServiceDesc.Streams...) {
		if !s.ClientStreams || !s.ServerStreams {
			t.Errorf("%s: want bidirectional streaming", s.StreamName)
		}
	}
}

// TestMalformedInput makes sure decoding rejects bytes that do not match
// the protobuf framing, and that the test helpers cannot be fooled either.
func TestMalformedInput(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated length", []byte{0x0a, 0x05, 'a'}},
		{"field number zero", []byte{0x00}},
		{"truncated varint", []byte{0x08, 0xff}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := proto.Unmarshal(tc.in, &common.Envelope{}); err == nil {
				t.Errorf("Unmarshal accepted % x", tc.in)
			}
			if _, err := parse(tc.in); err == nil {
				t.Errorf("parse accepted % x", tc.in)
			}
		})
	}
	env := mustMarshal(t, &common.Envelope{Payload: []byte("x")})
	if _, err := at(env, p(2)...); err == nil {
		t.Error("at() found absent field 2")
	}
	hdr := mustMarshal(t, &common.ChannelHeader{Type: 1})
	if _, err := at(hdr, p(1, 1)...); err == nil {
		t.Error("at() descended into a varint")
	}
}
