package broadcast

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"weft/msp/msptest"
	"weft/wire/common"
)

// unknownField is a well-formed protobuf field no message here defines.
func unknownField(b []byte) []byte {
	b = append([]byte(nil), b...)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	return protowire.AppendBytes(b, []byte("x"))
}

// reordered encodes the payload with data before header: same content,
// different bytes.
func reordered(tb testing.TB, payload []byte) []byte {
	tb.Helper()
	p := &common.Payload{}
	if err := proto.Unmarshal(payload, p); err != nil {
		tb.Fatal(err)
	}
	data := must(proto.Marshal(&common.Payload{Data: p.Data}))
	hdr := must(proto.Marshal(&common.Payload{Header: p.Header}))
	return append(data, hdr...)
}

func TestProcessTransactions(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	client := f.member(t, "client")
	other := f.member(t, "admin")

	cases := []struct {
		name     string
		env      func(t *testing.T) *common.Envelope
		status   common.Status
		info     string // substring of the response info
		exactTxt string // whole info, when the text is part of the contract
	}{
		{name: "valid client tx", env: func(t *testing.T) *common.Envelope { return tx(t, client, nil) }, status: common.Status_SUCCESS},
		{name: "valid admin tx", env: func(t *testing.T) *common.Envelope { return tx(t, other, nil) }, status: common.Status_SUCCESS},
		{name: "nil envelope", env: func(*testing.T) *common.Envelope { return nil }, status: common.Status_BAD_REQUEST, info: "envelope is missing"},
		{name: "empty payload", env: func(*testing.T) *common.Envelope { return &common.Envelope{Signature: []byte{1}} },
			status: common.Status_BAD_REQUEST, info: "payload is empty"},
		{name: "unsigned", env: func(t *testing.T) *common.Envelope { e := tx(t, client, nil); e.Signature = nil; return e },
			status: common.Status_FORBIDDEN, info: "signature is empty"},
		{name: "payload garbage", env: func(*testing.T) *common.Envelope {
			return &common.Envelope{Payload: []byte{0xff, 0xff, 0xff}, Signature: []byte{1}}
		}, status: common.Status_BAD_REQUEST, info: "envelope payload"},
		{name: "payload trailing field", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.payload = unknownField })
		}, status: common.Status_BAD_REQUEST, info: "unknown fields or trailing bytes"},
		{name: "payload trailing garbage byte", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.payload = func(b []byte) []byte { return append(b, 0x80) } })
		}, status: common.Status_BAD_REQUEST, info: "envelope payload"},
		{name: "payload non-canonical field order", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.payload = func(b []byte) []byte { return reordered(t, b) } })
		}, status: common.Status_BAD_REQUEST, info: "not canonically encoded"},
		{name: "envelope unknown field", env: func(t *testing.T) *common.Envelope {
			e := tx(t, client, nil)
			e.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 1))
			return e
		}, status: common.Status_BAD_REQUEST, info: "envelope has unknown fields"},
		{name: "missing header", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.payload = func([]byte) []byte { return must(proto.Marshal(&common.Payload{Data: []byte("x")})) }
			})
		}, status: common.Status_BAD_REQUEST, info: "payload header is missing"},
		{name: "missing channel header", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.payload = func([]byte) []byte {
					return must(proto.Marshal(&common.Payload{Header: &common.Header{SignatureHeader: []byte{1}}}))
				}
			})
		}, status: common.Status_BAD_REQUEST, info: "channel_header is missing"},
		{name: "missing signature header", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.payload = func(b []byte) []byte {
					pl := &common.Payload{}
					_ = proto.Unmarshal(b, pl)
					pl.Header.SignatureHeader = nil
					return must(proto.Marshal(pl))
				}
			})
		}, status: common.Status_FORBIDDEN, info: "creator is missing"},
		{name: "channel header garbage", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.payload = func(b []byte) []byte {
					pl := &common.Payload{}
					_ = proto.Unmarshal(b, pl)
					pl.Header.ChannelHeader = []byte{0x0a, 0x05, 'a'}
					return must(proto.Marshal(pl))
				}
			})
		}, status: common.Status_BAD_REQUEST, info: "channel header"},
		{name: "signature header trailing field", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.payload = func(b []byte) []byte {
					pl := &common.Payload{}
					_ = proto.Unmarshal(b, pl)
					pl.Header.SignatureHeader = unknownField(pl.Header.SignatureHeader)
					return must(proto.Marshal(pl))
				}
			})
		}, status: common.Status_BAD_REQUEST, info: "signature header: unknown fields"},
		{name: "empty channel id", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.ChannelId = "" })
		}, status: common.Status_BAD_REQUEST, info: "channel_id is empty"},
		{name: "invalid channel id", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.ChannelId = "My_Channel" })
		}, status: common.Status_BAD_REQUEST, info: "channel_id"},
		{name: "CONFIG from a client", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.Type = int32(common.HeaderType_CONFIG) })
		}, status: common.Status_BAD_REQUEST, info: "type CONFIG is created by the orderer"},
		{name: "MESSAGE type", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.Type = int32(common.HeaderType_MESSAGE) })
		}, status: common.Status_BAD_REQUEST, info: "type MESSAGE is not accepted"},
		{name: "unknown type", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.Type = 77 })
		}, status: common.Status_BAD_REQUEST, info: "type 77 is not accepted"},
		{name: "empty creator", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.sh.Creator = nil })
		}, status: common.Status_FORBIDDEN, info: "creator is missing"},
		{name: "empty nonce", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.sh.Nonce = nil })
		}, status: common.Status_BAD_REQUEST, info: "nonce is empty"},
		{name: "wrong tx id", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.TxId = strings.Repeat("ab", 32) })
		}, status: common.Status_BAD_REQUEST, info: "does not match SHA-256(nonce ‖ creator)"},
		{name: "unknown channel", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.ch.ChannelId = "otherchannel" })
		}, status: common.Status_BAD_REQUEST, exactTxt: `channel "otherchannel" does not exist on this orderer`},
		{name: "oversized", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.data = bytes.Repeat([]byte{1}, testMaxBytes) })
		}, status: common.Status_BAD_REQUEST, info: "exceeds the channel's BatchSize.AbsoluteMaxBytes of 65536"},
		{name: "signed by another key", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) { p.signer = other })
		}, status: common.Status_FORBIDDEN, info: "envelope signature of"},
		{name: "corrupted signature", env: func(t *testing.T) *common.Envelope {
			e := tx(t, client, nil)
			e.Signature[len(e.Signature)-1] ^= 1
			return e
		}, status: common.Status_FORBIDDEN, info: "envelope signature of"},
		{name: "high-S signature", env: func(t *testing.T) *common.Envelope {
			e := tx(t, client, nil)
			e.Signature = must(msptest.HighS(client.Cert.PublicKey.(*ecdsa.PublicKey), e.Signature))
			return e
		}, status: common.Status_FORBIDDEN, info: "low-S"},
		{name: "creator of an MSP not in the channel", env: func(t *testing.T) *common.Envelope {
			return tx(t, f.member(t, "outsider"), nil)
		}, status: common.Status_FORBIDDEN, info: "creator is not a valid identity of this channel"},
		{name: "creator from an untrusted CA", env: func(t *testing.T) *common.Envelope {
			return tx(t, f.member(t, "forged"), nil)
		}, status: common.Status_FORBIDDEN, info: "creator is not a valid identity of this channel"},
		{name: "creator garbage", env: func(t *testing.T) *common.Envelope {
			return tx(t, client, func(p *txParts) {
				p.sh.Creator = []byte("nobody")
				p.ch.TxId = txID(p.sh.Nonce, p.sh.Creator)
			})
		}, status: common.Status_FORBIDDEN, info: "creator is not a valid identity"},
		{name: "expired cert", env: func(t *testing.T) *common.Envelope {
			return tx(t, f.member(t, "expired"), nil)
		}, status: common.Status_FORBIDDEN, info: "creator is not a valid identity"},
		{name: "peer is not a writer", env: func(t *testing.T) *common.Envelope {
			return tx(t, f.member(t, "peer"), nil)
		}, status: common.Status_FORBIDDEN, info: "policy /Channel/Writers not satisfied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := f.support()
			env := tc.env(t)
			var sent []byte
			if env != nil {
				sent = must(proto.Marshal(env))
			}
			resp := f.handler(s).Process(context.Background(), env)
			if resp.Status != tc.status {
				t.Fatalf("status %v (%q), want %v", resp.Status, resp.Info, tc.status)
			}
			if tc.info != "" && !strings.Contains(resp.Info, tc.info) {
				t.Fatalf("info %q does not mention %q", resp.Info, tc.info)
			}
			if tc.exactTxt != "" && resp.Info != tc.exactTxt {
				t.Fatalf("info %q, want %q", resp.Info, tc.exactTxt)
			}
			ordered, configured := s.counts()
			if configured != 0 {
				t.Fatalf("Configure called for a transaction")
			}
			if tc.status != common.Status_SUCCESS {
				if ordered != 0 {
					t.Fatal("rejected envelope reached Order")
				}
				return
			}
			if ordered != 1 {
				t.Fatalf("Order called %d times, want 1", ordered)
			}
			if got := must(proto.Marshal(s.ordered[0])); !bytes.Equal(got, sent) {
				t.Fatal("Order got different bytes than were sent")
			}
			if s.seqs[0] != f.bundle.Sequence() {
				t.Fatalf("Order got config sequence %d, want %d", s.seqs[0], f.bundle.Sequence())
			}
		})
	}
}

func TestProcessWritersNeedAdmin(t *testing.T) {
	f := newFixture(t, fixtureOpts{org1Writers: "OR('Org1MSP.admin')"})
	for _, tc := range []struct {
		member string
		status common.Status
	}{
		{"client", common.Status_FORBIDDEN},
		{"admin", common.Status_SUCCESS},
		{"ordAdmin", common.Status_SUCCESS}, // /Channel/Writers is ANY Writers, orderer org included
	} {
		t.Run(tc.member, func(t *testing.T) {
			s := f.support()
			resp := f.handler(s).Process(context.Background(), tx(t, f.member(t, tc.member), nil))
			if resp.Status != tc.status {
				t.Fatalf("status %v (%q), want %v", resp.Status, resp.Info, tc.status)
			}
			if n, _ := s.counts(); (n == 1) != (tc.status == common.Status_SUCCESS) {
				t.Fatalf("Order called %d times", n)
			}
		})
	}
}

type tempErr struct{}

func (tempErr) Error() string   { return "try again" }
func (tempErr) Temporary() bool { return true }

func TestProcessOrderErrors(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	cases := []struct {
		name    string
		order   func(ctx context.Context, env *common.Envelope) error
		timeout bool
		status  common.Status
		info    string
	}{
		{"unavailable", func(context.Context, *common.Envelope) error {
			return errors.Join(ErrUnavailable, errors.New("no Raft leader"))
		}, false, common.Status_SERVICE_UNAVAILABLE, "no Raft leader"},
		{"temporary", func(context.Context, *common.Envelope) error { return tempErr{} }, false, common.Status_SERVICE_UNAVAILABLE, "try again"},
		{"deadline", func(ctx context.Context, _ *common.Envelope) error { <-ctx.Done(); return ctx.Err() }, true,
			common.Status_SERVICE_UNAVAILABLE, "deadline exceeded"},
		{"other", func(context.Context, *common.Envelope) error { return errors.New("disk on fire") }, false,
			common.Status_INTERNAL_SERVER_ERROR, "disk on fire"},
		{"panic", func(context.Context, *common.Envelope) error { panic("boom") }, false,
			common.Status_INTERNAL_SERVER_ERROR, "internal error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := f.support()
			s.order = tc.order
			h := f.handler(s)
			if tc.timeout {
				h.Timeout = 20 * time.Millisecond
			}
			resp := h.Process(context.Background(), tx(t, f.member(t, "client"), nil))
			if resp.Status != tc.status || !strings.Contains(resp.Info, tc.info) {
				t.Fatalf("got %v %q, want %v containing %q", resp.Status, resp.Info, tc.status, tc.info)
			}
		})
	}
}

func TestProcessMisconfiguredHandler(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	env := tx(t, f.member(t, "client"), nil)
	cases := []struct {
		name   string
		h      *Handler
		status common.Status
	}{
		{"no registrar", &Handler{Logger: discardLogger()}, common.Status_INTERNAL_SERVER_ERROR},
		{"nil support", &Handler{Registrar: fakeRegistrar{testChannel: nil}, Logger: discardLogger()}, common.Status_BAD_REQUEST},
		{"no bundle", &Handler{Registrar: fakeRegistrar{testChannel: &fakeSupport{}}, Logger: discardLogger()}, common.Status_SERVICE_UNAVAILABLE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if resp := tc.h.Process(context.Background(), env); resp.Status != tc.status {
				t.Fatalf("status %v (%q), want %v", resp.Status, resp.Info, tc.status)
			}
		})
	}
}

func TestProcessBytes(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	good := must(proto.Marshal(tx(t, f.member(t, "client"), nil)))
	env := &common.Envelope{}
	if err := proto.Unmarshal(good, env); err != nil {
		t.Fatal(err)
	}
	swapped := append(must(proto.Marshal(&common.Envelope{Signature: env.Signature})), must(proto.Marshal(&common.Envelope{Payload: env.Payload}))...)
	cases := []struct {
		name   string
		raw    []byte
		status common.Status
	}{
		{"canonical", good, common.Status_SUCCESS},
		{"trailing unknown field", unknownField(good), common.Status_BAD_REQUEST},
		{"trailing truncated varint", append(append([]byte(nil), good...), 0x80), common.Status_BAD_REQUEST},
		{"fields out of order", swapped, common.Status_BAD_REQUEST},
		{"empty", nil, common.Status_BAD_REQUEST},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := f.support()
			resp := f.handler(s).ProcessBytes(context.Background(), tc.raw)
			if resp.Status != tc.status {
				t.Fatalf("status %v (%q), want %v", resp.Status, resp.Info, tc.status)
			}
			if n, _ := s.counts(); (n == 1) != (tc.status == common.Status_SUCCESS) {
				t.Fatalf("Order called %d times", n)
			}
		})
	}
}
