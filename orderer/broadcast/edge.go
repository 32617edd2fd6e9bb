package broadcast

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"weft/channelconfig"
	"weft/wire/common"
)

// parsed is an envelope that passed the structural checks.
type parsed struct {
	env     *common.Envelope
	payload *common.Payload
	ch      *common.ChannelHeader
	sh      *common.SignatureHeader
	typ     common.HeaderType
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// decodeCanonical unmarshals raw into m and insists that raw is the one
// encoding of m: no unknown fields at any depth and byte-identical on
// re-encoding. The signature covers these bytes, so accepting several byte
// forms of the same content would let anyone mint new "transactions" (and
// new hashes) from a signed one.
func decodeCanonical(raw []byte, m proto.Message) error {
	if err := proto.Unmarshal(raw, m); err != nil {
		return err
	}
	if hasUnknown(m.ProtoReflect()) {
		return errors.New("unknown fields or trailing bytes")
	}
	again, err := deterministic.Marshal(m)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, raw) {
		return errors.New("not canonically encoded")
	}
	return nil
}

// hasUnknown reports unknown fields in m or any message nested in it.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = hasUnknown(mv.Message())
					return !found
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len() && !found; i++ {
					found = hasUnknown(l.Get(i).Message())
				}
			}
		case fd.Message() != nil:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}

// parse performs every check that needs neither the channel nor crypto.
func parse(env *common.Envelope) (*parsed, *rejection) {
	if env == nil {
		return nil, badRequest("envelope is missing")
	}
	if hasUnknown(env.ProtoReflect()) {
		return nil, badRequest("envelope has unknown fields or trailing bytes")
	}
	if len(env.Payload) == 0 {
		return nil, badRequest("envelope payload is empty")
	}
	p := &parsed{env: env, payload: &common.Payload{}, ch: &common.ChannelHeader{}, sh: &common.SignatureHeader{}}
	if err := decodeCanonical(env.Payload, p.payload); err != nil {
		return nil, badRequest("envelope payload: %v", err)
	}
	hdr := p.payload.Header
	if hdr == nil {
		return nil, badRequest("payload header is missing")
	}
	if len(hdr.ChannelHeader) == 0 {
		return nil, badRequest("payload header: channel_header is missing")
	}
	if err := decodeCanonical(hdr.ChannelHeader, p.ch); err != nil {
		return nil, badRequest("channel header: %v", err)
	}
	if err := decodeCanonical(hdr.SignatureHeader, p.sh); err != nil {
		return nil, badRequest("signature header: %v", err)
	}
	if p.ch.ChannelId == "" {
		return nil, badRequest("channel header: channel_id is empty")
	}
	if err := channelconfig.ValidateChannelID(p.ch.ChannelId); err != nil {
		return nil, badRequest("channel header: channel_id: %v", err)
	}
	p.typ = common.HeaderType(p.ch.Type)
	switch p.typ {
	case common.HeaderType_ENDORSER_TRANSACTION, common.HeaderType_CONFIG_UPDATE:
	case common.HeaderType_CONFIG:
		return nil, badRequest("channel header: type CONFIG is created by the orderer; clients send CONFIG_UPDATE")
	default:
		return nil, badRequest("channel header: type %s is not accepted by broadcast (want ENDORSER_TRANSACTION or CONFIG_UPDATE)", typeName(p.ch.Type))
	}
	return p, nil
}

// checkTxID runs after authorisation: Fabric answers a missing signature
// header or creator FORBIDDEN (its signature filter fails), so only an
// envelope whose signer is known gets the BAD_REQUEST checks on the nonce
// and transaction ID.
func checkTxID(p *parsed) *rejection {
	if len(p.sh.Nonce) == 0 {
		return badRequest("signature header: nonce is empty")
	}
	if p.typ == common.HeaderType_ENDORSER_TRANSACTION {
		if want := channelconfig.ComputeTxID(p.sh.Nonce, p.sh.Creator); p.ch.TxId != want {
			return badRequest("channel header: tx_id %q does not match SHA-256(nonce ‖ creator) %q", short(p.ch.TxId), want)
		}
	}
	return nil
}

func typeName(t int32) string {
	if name, ok := common.HeaderType_name[t]; ok {
		return name
	}
	return fmt.Sprintf("%d", t)
}

// short bounds client-chosen strings quoted in responses and logs.
func short(s string) string {
	const limit = 100
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
