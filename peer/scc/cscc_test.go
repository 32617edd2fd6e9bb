package scc

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/msp"
	"weft/wire/common"
	"weft/wire/peer"
)

func TestCSCC(t *testing.T) {
	n := newNet(t)
	chs := &channels{}
	c := &CSCC{Channels: chs, IsLocalAdmin: n.isAdmin}
	genesis := must(proto.Marshal(n.genesis))(t)
	noApp := must(proto.Marshal(n.ordererOnly))(t)
	dataBlock := must(proto.Marshal(&common.Block{Header: &common.BlockHeader{}, Data: &common.BlockData{Data: [][]byte{[]byte("x")}}}))(t)

	tests := []struct {
		name    string
		args    [][]byte
		creator *msp.Identity
		wantMsg string // "" = success
		check   func(t *testing.T, payload []byte)
	}{
		{"no args", nil, n.admin, "Incorrect number of arguments, 0", nil},
		{"join without block", strArgs("JoinChain"), n.admin, "Incorrect number of arguments, 1", nil},
		{"join with empty block", [][]byte{[]byte("JoinChain"), nil}, n.admin, "<nil> configuration block", nil},
		{"join with garbage", [][]byte{[]byte("JoinChain"), {0xff, 0xff}}, n.admin, "Failed to reconstruct the genesis block", nil},
		{"join with a data block", [][]byte{[]byte("JoinChain"), dataBlock}, n.admin, "failed to extract channel id", nil},
		{"join without application group", [][]byte{[]byte("JoinChain"), noApp}, n.admin, "missing Application configuration group", nil},
		{"join by a client", [][]byte{[]byte("JoinChain"), genesis}, n.client, "access denied for [JoinChain]", nil},
		{"join without creator", [][]byte{[]byte("JoinChain"), genesis}, nil, "access denied", nil},
		{"GetChannels before join", strArgs("GetChannels"), n.client, "", func(t *testing.T, p []byte) {
			res := &peer.ChannelQueryResponse{}
			if err := proto.Unmarshal(p, res); err != nil || len(res.Channels) != 0 {
				t.Fatalf("channels %v %v", res, err)
			}
		}},
		{"join", [][]byte{[]byte("JoinChain"), genesis}, n.admin, "", nil},
		{"join twice", [][]byte{[]byte("JoinChain"), genesis}, n.admin, "already exists", nil},
		{"GetChannels", strArgs("GetChannels"), n.client, "", func(t *testing.T, p []byte) {
			res := &peer.ChannelQueryResponse{}
			if err := proto.Unmarshal(p, res); err != nil || len(res.Channels) != 1 || res.Channels[0].ChannelId != testChannel {
				t.Fatalf("channels %v %v", res, err)
			}
		}},
		{"GetConfigBlock", strArgs("GetConfigBlock", testChannel), n.client, "", func(t *testing.T, p []byte) {
			b := &common.Block{}
			if err := proto.Unmarshal(p, b); err != nil || !proto.Equal(b.Header, n.genesis.Header) {
				t.Fatalf("block %v %v", b.GetHeader(), err)
			}
			// The joined block got a TRANSACTIONS_FILTER marking its tx valid.
			if f := b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]; len(f) != 1 || f[0] != byte(peer.TxValidationCode_VALID) {
				t.Fatalf("filter %v", f)
			}
		}},
		{"GetChannelConfig", strArgs("GetChannelConfig", testChannel), n.client, "", func(t *testing.T, p []byte) {
			cfg := &common.Config{}
			if err := proto.Unmarshal(p, cfg); err != nil || cfg.GetChannelGroup().GetGroups()["Application"] == nil {
				t.Fatalf("config %v", err)
			}
		}},
		{"GetConfigBlock unknown channel", strArgs("GetConfigBlock", "nope"), n.client, "Unknown channel ID, nope", nil},
		{"GetConfigBlock empty channel", strArgs("GetConfigBlock", ""), n.client, "ChannelID must not be nil", nil},
		{"GetConfigBlock without channel", strArgs("GetConfigBlock"), n.client, "Incorrect number of arguments, 1", nil},
		{"GetChannelConfig unknown channel", strArgs("GetChannelConfig", "nope"), n.client, "Unknown channel ID, nope", nil},
		{"JoinBySnapshotStatus", strArgs("JoinBySnapshotStatus"), n.admin, "", func(t *testing.T, p []byte) {
			res := &peer.JoinBySnapshotStatus{}
			if err := proto.Unmarshal(p, res); err != nil || res.InProgress {
				t.Fatalf("status %v %v", res, err)
			}
		}},
		{"JoinBySnapshotStatus by a client", strArgs("JoinBySnapshotStatus"), n.client, "access denied", nil},
		{"JoinChainBySnapshot", strArgs("JoinChainBySnapshot", "/tmp/snap"), n.admin, "not supported", nil},
		{"unknown function", strArgs("Frob", "x"), n.admin, "Requested function Frob not found.", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Invoke(t.Context(), &stub{args: tc.args, creator: tc.creator})
			if tc.wantMsg != "" {
				if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
					t.Fatalf("got %d %q, want 500 %q", resp.Status, resp.Message, tc.wantMsg)
				}
				return
			}
			if resp.Status != 200 {
				t.Fatalf("status %d: %s", resp.Status, resp.Message)
			}
			if tc.check != nil {
				tc.check(t, resp.Payload)
			}
		})
	}

	t.Run("join error is reported", func(t *testing.T) {
		c := &CSCC{Channels: &channels{joinErr: errors.New("disk full")}, IsLocalAdmin: n.isAdmin}
		resp := c.Invoke(t.Context(), &stub{args: [][]byte{[]byte("JoinChain"), genesis}, creator: n.admin})
		if resp.Status != 500 || !strings.Contains(resp.Message, "joining channel mychannel: disk full") {
			t.Fatalf("%d %q", resp.Status, resp.Message)
		}
	})
	t.Run("no admin check configured denies", func(t *testing.T) {
		c := &CSCC{Channels: &channels{}}
		resp := c.Invoke(t.Context(), &stub{args: [][]byte{[]byte("JoinChain"), genesis}, creator: n.admin})
		if resp.Status != 500 || !strings.Contains(resp.Message, "access denied") {
			t.Fatalf("%d %q", resp.Status, resp.Message)
		}
	})
}
