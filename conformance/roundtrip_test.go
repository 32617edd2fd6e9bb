package conformance

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// Register every weft wire package.
	_ "weft/wire/common"
	_ "weft/wire/discovery"
	_ "weft/wire/gateway"
	_ "weft/wire/ledger/queryresult"
	_ "weft/wire/ledger/rwset"
	_ "weft/wire/ledger/rwset/kvrwset"
	_ "weft/wire/msp"
	_ "weft/wire/orderer"
	_ "weft/wire/orderer/etcdraft"
	_ "weft/wire/peer"
	_ "weft/wire/peer/lifecycle"
)

// wireMessages lists every message type declared in weft's .proto files
// (nested types included, map entry types excluded).
func wireMessages(t *testing.T) []protoreflect.MessageType {
	var out []protoreflect.MessageType
	var walk func(protoreflect.MessageDescriptors)
	walk = func(mds protoreflect.MessageDescriptors) {
		for i := 0; i < mds.Len(); i++ {
			md := mds.Get(i)
			if md.IsMapEntry() {
				continue
			}
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
			if err != nil {
				t.Fatalf("message %s not registered: %v", md.FullName(), err)
			}
			out = append(out, mt)
			walk(md.Messages())
		}
	}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		// Only weft's own files: grpc and the well-known types register
		// theirs in the same registry.
		top, _, _ := strings.Cut(fd.Path(), "/")
		if !weftProtoDirs[top] {
			return true
		}
		walk(fd.Messages())
		return true
	})
	return out
}

var weftProtoDirs = map[string]bool{
	"common": true, "msp": true, "peer": true, "orderer": true, "gateway": true,
	"discovery": true, "ledger": true, "gossip": true,
}

type rtJob struct {
	Name string `json:"name"`
	B64  string `json:"b64"`
}

type rtResult struct {
	Name   string `json:"name"`
	Object any    `json:"object"`
	B64    string `json:"b64"`
	Error  string `json:"error"`
}

// TestRoundTripWithFabricProtos encodes a fully populated instance of every
// weft message type in Go, decodes it with the official
// @hyperledger/fabric-protos classes in Node, and checks (1) Node sees
// the same field values and (2) Node's re-encoding decodes in Go to an
// equal message. A wrong field number, type or name on our side shows up
// as a missing or different value in (1) and a dropped field in (2).
func TestRoundTripWithFabricProtos(t *testing.T) {
	types := wireMessages(t)
	if len(types) < 150 {
		t.Fatalf("only %d message types registered; wire packages missing?", len(types))
	}
	var jobs []rtJob
	var msgs []proto.Message
	for i, mt := range types {
		// Two instances with different oneof choices where the type has oneofs.
		for _, seed := range []int{i*7 + 1, i*7 + 2} {
			m := mt.New()
			populate(m, seed, 0)
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Interface())
			if err != nil {
				t.Fatalf("%s: marshal: %v", mt.Descriptor().FullName(), err)
			}
			jobs = append(jobs, rtJob{Name: string(mt.Descriptor().FullName()), B64: base64.StdEncoding.EncodeToString(b)})
			msgs = append(msgs, m.Interface())
		}
	}
	var results []rtResult
	runNode(t, "roundtrip.js", jobs, &results)
	if len(results) != len(jobs) {
		t.Fatalf("node returned %d results for %d jobs", len(results), len(jobs))
	}
	for i, r := range results {
		name := jobs[i].Name
		if r.Error != "" {
			t.Errorf("%s: node: %s", name, firstLine(r.Error))
			continue
		}
		want := roundJSON(t, jspbObject(msgs[i].ProtoReflect()))
		if got := normObject(r.Object); !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Errorf("%s: node decoded different values\n node: %s\n go:   %s", name, gj, wj)
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(r.B64)
		if err != nil {
			t.Fatalf("%s: bad base64 from node: %v", name, err)
		}
		back := msgs[i].ProtoReflect().Type().New().Interface()
		if err := proto.Unmarshal(raw, back); err != nil {
			t.Errorf("%s: Go cannot decode node's encoding: %v", name, err)
			continue
		}
		if !proto.Equal(back, msgs[i]) {
			t.Errorf("%s: node's encoding decodes to a different message in Go", name)
		}
	}
	t.Logf("%d message types, %d instances round-tripped through @hyperledger/fabric-protos", len(types), len(jobs))
}

// roundJSON passes v through encoding/json so that its number and
// container types match what json.Unmarshal gives for node's output.
func roundJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
