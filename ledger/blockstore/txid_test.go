package blockstore

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// txIDByUnmarshal is the straightforward definition txID must agree with.
func txIDByUnmarshal(env []byte) string {
	var e common.Envelope
	var p common.Payload
	var ch common.ChannelHeader
	if proto.Unmarshal(env, &e) != nil || proto.Unmarshal(e.GetPayload(), &p) != nil ||
		proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch) != nil {
		return ""
	}
	return ch.GetTxId()
}

func TestTxID(t *testing.T) {
	cases := []struct {
		name string
		env  []byte
		want string
	}{
		{"normal", testEnv("abc123", 10), "abc123"},
		{"empty id", testEnv("", 10), ""},
		{"garbage", []byte{0xff, 0xff}, ""},
		{"empty", nil, ""},
		{"no header", mustMarshal(&common.Envelope{Payload: mustMarshal(&common.Payload{Data: []byte("x")})}), ""},
		{"header field repeated: occurrences merge", mustMarshal(&common.Envelope{Payload: append(
			mustMarshal(&common.Payload{Header: &common.Header{ChannelHeader: mustMarshal(&common.ChannelHeader{TxId: "merged"})}}),
			mustMarshal(&common.Payload{Header: &common.Header{SignatureHeader: []byte("sh")}})...)}), "merged"},
		{"truncated", testEnv("abc123", 10)[:20], ""},
		{"invalid utf-8 id", mustMarshal(&common.Envelope{Payload: mustMarshal(&common.Payload{Header: &common.Header{
			ChannelHeader: []byte{0x2a, 0x02, 0xff, 0xfe}}})}), ""},
	}
	for _, c := range cases {
		if got := txID(c.env); got != c.want {
			t.Errorf("%s: txID = %q, want %q", c.name, got, c.want)
		}
		if ref := txIDByUnmarshal(c.env); ref != c.want {
			t.Errorf("%s: reference = %q, want %q (test case wrong)", c.name, ref, c.want)
		}
	}
}

func FuzzTxID(f *testing.F) {
	f.Add(testEnv("tx", 3))
	f.Add([]byte{0x0a, 0x04, 0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, env []byte) {
		if got, want := txID(env), txIDByUnmarshal(env); got != want {
			t.Fatalf("txID = %q, unmarshal gives %q", got, want)
		}
	})
}
