package deliver

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
	"weft/wire/orderer"
)

// envParts are the pieces of a seek envelope; tests change one of them.
type envParts struct {
	chdr *common.ChannelHeader
	shdr *common.SignatureHeader
	data []byte
}

func goodParts(t testing.TB, s Signer, seek *orderer.SeekInfo) envParts {
	return envParts{
		chdr: &common.ChannelHeader{
			Type:      int32(common.HeaderType_DELIVER_SEEK_INFO),
			ChannelId: testChannelID,
			Timestamp: timestamppb.Now(),
		},
		shdr: &common.SignatureHeader{Creator: s.Serialize()},
		data: check(proto.Marshal(seek))(t),
	}
}

func (p envParts) sign(t testing.TB, s Signer) *common.Envelope {
	payload := check(proto.Marshal(&common.Payload{
		Header: &common.Header{
			ChannelHeader:   check(proto.Marshal(p.chdr))(t),
			SignatureHeader: check(proto.Marshal(p.shdr))(t),
		},
		Data: p.data,
	}))(t)
	return &common.Envelope{Payload: payload, Signature: check(s.Sign(payload))(t)}
}

func TestDeliverRequests(t *testing.T) {
	f := newFixture(t, 4) // blocks 0 (config) .. 4
	conn := serveOrderer(t, f.handler())

	seekWith := func(s Signer, start, stop any, mod func(*orderer.SeekInfo)) func(t *testing.T) *common.Envelope {
		return func(t *testing.T) *common.Envelope {
			si := seekInfo(start, stop)
			if mod != nil {
				mod(si)
			}
			return seekEnv(t, s, si)
		}
	}
	seek := func(start, stop any) func(t *testing.T) *common.Envelope { return seekWith(f.client, start, stop, nil) }
	failIfNotReady := func(si *orderer.SeekInfo) { si.Behavior = orderer.SeekInfo_FAIL_IF_NOT_READY }
	withParts := func(s Signer, mod func(*envParts)) func(t *testing.T) *common.Envelope {
		return func(t *testing.T) *common.Envelope {
			p := goodParts(t, s, seekInfo("oldest", "newest"))
			mod(&p)
			return p.sign(t, s)
		}
	}

	cases := []struct {
		name   string
		env    func(t *testing.T) *common.Envelope
		want   []uint64
		status common.Status
	}{
		{"oldest to newest", seek("oldest", "newest"), []uint64{0, 1, 2, 3, 4}, common.Status_SUCCESS},
		{"specified range", seek(1, 3), []uint64{1, 2, 3}, common.Status_SUCCESS},
		{"single specified", seek(2, 2), []uint64{2}, common.Status_SUCCESS},
		{"newest only", seek("newest", "newest"), []uint64{4}, common.Status_SUCCESS},
		{"oldest only", seek("oldest", "oldest"), []uint64{0}, common.Status_SUCCESS},
		{"specified to newest", seek(3, "newest"), []uint64{3, 4}, common.Status_SUCCESS},
		{"peer reads", seekWith(f.peer, 0, 1, nil), []uint64{0, 1}, common.Status_SUCCESS},
		{"admin reads", seekWith(f.admin, 0, 1, nil), []uint64{0, 1}, common.Status_SUCCESS},
		{"orderer org member reads", seekWith(f.ordererNode, 0, 1, nil), []uint64{0, 1}, common.Status_SUCCESS},
		{"minimal gateway-style header (no nonce, no tx id)", withParts(f.client, func(*envParts) {}), []uint64{0, 1, 2, 3, 4}, common.Status_SUCCESS},
		{"timestamp just inside window", withParts(f.client, func(p *envParts) {
			p.chdr.Timestamp = timestamppb.New(time.Now().Add(-14 * time.Minute))
		}), []uint64{0, 1, 2, 3, 4}, common.Status_SUCCESS},

		{"stop before start", seek(3, 1), nil, common.Status_BAD_REQUEST},
		{"next commit to newest", seek("next", "newest"), nil, common.Status_BAD_REQUEST},
		{"start beyond height", seek(6, 8), nil, common.Status_NOT_FOUND},
		{"fail if not ready beyond height", seekWith(f.client, 3, 7, failIfNotReady), []uint64{3, 4}, common.Status_NOT_FOUND},
		{"fail if not ready next commit", seekWith(f.client, "next", 9, failIfNotReady), nil, common.Status_NOT_FOUND},
		{"fail if not ready within height", seekWith(f.client, 1, 4, failIfNotReady), []uint64{1, 2, 3, 4}, common.Status_SUCCESS},
		{"unknown channel", withParts(f.client, func(p *envParts) { p.chdr.ChannelId = "nosuch" }), nil, common.Status_NOT_FOUND},

		{"bad signature", func(t *testing.T) *common.Envelope {
			env := seekEnv(t, f.client, seekInfo("oldest", "newest"))
			env.Signature[len(env.Signature)/2] ^= 0xff
			return env
		}, nil, common.Status_FORBIDDEN},
		{"signature by someone else", func(t *testing.T) *common.Envelope {
			env := seekEnv(t, f.client, seekInfo("oldest", "newest"))
			env.Signature = check(f.peer.Sign(env.Payload))(t)
			return env
		}, nil, common.Status_FORBIDDEN},
		{"missing signature", func(t *testing.T) *common.Envelope {
			env := seekEnv(t, f.client, seekInfo("oldest", "newest"))
			env.Signature = nil
			return env
		}, nil, common.Status_FORBIDDEN},
		{"non-member org", seekWith(f.outsider, "oldest", "newest", nil), nil, common.Status_FORBIDDEN},
		{"wrong role", seekWith(f.wrongRole, "oldest", "newest", nil), nil, common.Status_FORBIDDEN},
		{"untrusted CA", seekWith(f.untrusted, "oldest", "newest", nil), nil, common.Status_FORBIDDEN},
		{"empty creator", withParts(f.client, func(p *envParts) { p.shdr.Creator = nil }), nil, common.Status_FORBIDDEN},

		{"stale timestamp", withParts(f.client, func(p *envParts) {
			p.chdr.Timestamp = timestamppb.New(time.Now().Add(-20 * time.Minute))
		}), nil, common.Status_BAD_REQUEST},
		{"future timestamp", withParts(f.client, func(p *envParts) {
			p.chdr.Timestamp = timestamppb.New(time.Now().Add(20 * time.Minute))
		}), nil, common.Status_BAD_REQUEST},
		{"missing timestamp", withParts(f.client, func(p *envParts) { p.chdr.Timestamp = nil }), nil, common.Status_BAD_REQUEST},
		{"stale timestamp on unknown channel", withParts(f.client, func(p *envParts) {
			p.chdr.ChannelId = "nosuch"
			p.chdr.Timestamp = timestamppb.New(time.Now().Add(-time.Hour))
		}), nil, common.Status_BAD_REQUEST},
		{"wrong header type", withParts(f.client, func(p *envParts) {
			p.chdr.Type = int32(common.HeaderType_ENDORSER_TRANSACTION)
		}), nil, common.Status_BAD_REQUEST},
		{"malformed seek info", withParts(f.client, func(p *envParts) { p.data = []byte{0xff, 0xff} }), nil, common.Status_BAD_REQUEST},
		{"missing start", seek(nil, 3), nil, common.Status_BAD_REQUEST},
		{"missing stop", seek(1, nil), nil, common.Status_BAD_REQUEST},
		{"empty start position", seek("empty", 3), nil, common.Status_BAD_REQUEST},
		{"empty stop position", seek(0, "empty"), nil, common.Status_BAD_REQUEST},
		{"malformed payload", func(*testing.T) *common.Envelope {
			return &common.Envelope{Payload: []byte{0x0a, 0x05, 0x01}, Signature: []byte{1}}
		}, nil, common.Status_BAD_REQUEST},
		{"payload without header", func(t *testing.T) *common.Envelope {
			return &common.Envelope{Payload: check(proto.Marshal(&common.Payload{Data: []byte{1}}))(t)}
		}, nil, common.Status_BAD_REQUEST},
		{"malformed channel header", func(t *testing.T) *common.Envelope {
			payload := check(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: []byte{0xff}}}))(t)
			return &common.Envelope{Payload: payload}
		}, nil, common.Status_BAD_REQUEST},
		{"malformed signature header", func(t *testing.T) *common.Envelope {
			p := goodParts(t, f.client, seekInfo("oldest", "newest"))
			payload := check(proto.Marshal(&common.Payload{Header: &common.Header{
				ChannelHeader:   check(proto.Marshal(p.chdr))(t),
				SignatureHeader: []byte{0xff},
			}}))(t)
			return &common.Envelope{Payload: payload}
		}, nil, common.Status_BAD_REQUEST},
		{"empty envelope", func(*testing.T) *common.Envelope { return &common.Envelope{} }, nil, common.Status_BAD_REQUEST},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := doRequest(t, conn, c.env(t))
			if r.status != c.status || !slices.Equal(r.numbers(), c.want) {
				t.Fatalf("got blocks %v status %v, want %v %v", r.numbers(), r.status, c.want, c.status)
			}
			for _, b := range r.blocks {
				want := check(f.store.Block(b.Header.Number))(t)
				if !proto.Equal(b, want) {
					t.Fatalf("block %d differs from the stored one", b.Header.Number)
				}
			}
		})
	}
}

func TestHeaderWithSig(t *testing.T) {
	f := newFixture(t, 2)
	conn := serveOrderer(t, f.handler())
	si := seekInfo("oldest", "newest")
	si.ContentType = orderer.SeekInfo_HEADER_WITH_SIG
	r := doRequest(t, conn, seekEnv(t, f.client, si))
	if r.status != common.Status_SUCCESS || !slices.Equal(r.numbers(), []uint64{0, 1, 2}) {
		t.Fatalf("got %v %v", r.numbers(), r.status)
	}
	for _, b := range r.blocks {
		stored := check(f.store.Block(b.Header.Number))(t)
		if !proto.Equal(b.Header, stored.Header) || !proto.Equal(b.Metadata, stored.Metadata) {
			t.Fatalf("block %d: header or metadata changed", b.Header.Number)
		}
		isConfig := b.Header.Number == 0
		if isConfig != isConfigBlock(stored) {
			t.Fatalf("block %d: isConfigBlock = %v", b.Header.Number, !isConfig)
		}
		if hasData := len(b.GetData().GetData()) > 0; hasData != isConfig {
			t.Fatalf("block %d: data kept = %v, want %v", b.Header.Number, hasData, isConfig)
		}
	}
}
