package orderer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/deliver"
	"weft/fabcrypto"
	"weft/msp/msptest"
	"weft/test/harness"
	"weft/wire/common"
)

// envParts builds an envelope piece by piece so each case can break
// exactly one thing while everything else stays valid.
type envParts struct {
	channel  string
	typ      common.HeaderType
	creator  []byte
	data     []byte
	noChHdr  bool
	noSigHdr bool
	trailer  []byte // appended to the marshaled payload before signing
}

func (p envParts) payload(t *testing.T) []byte {
	t.Helper()
	nonce := channelconfig.NewNonce()
	hdr := &common.Header{}
	if !p.noChHdr {
		ch, err := proto.Marshal(&common.ChannelHeader{
			Type: int32(p.typ), ChannelId: p.channel,
			TxId: channelconfig.ComputeTxID(nonce, p.creator), Timestamp: timestamppb.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		hdr.ChannelHeader = ch
	}
	if !p.noSigHdr {
		sh, err := proto.Marshal(&common.SignatureHeader{Creator: p.creator, Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		hdr.SignatureHeader = sh
	}
	raw, err := proto.Marshal(&common.Payload{Header: hdr, Data: p.data})
	if err != nil {
		t.Fatal(err)
	}
	return append(raw, p.trailer...)
}

// signed signs the payload with s, the way an honest client would.
func (p envParts) signed(t *testing.T, s harness.Signer) *common.Envelope {
	t.Helper()
	payload := p.payload(t)
	sig, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}
}

// foreignSigner is an msptest member as a deliver/harness signer.
type foreignSigner struct{ m *msptest.Member }

func (f foreignSigner) Sign(msg []byte) ([]byte, error) { return f.m.Sign(msg) }
func (f foreignSigner) Serialize() []byte               { return f.m.Serialized }

// highS returns sig with S replaced by N-S, after checking that the result
// is still a mathematically valid ECDSA signature of msg: the orderer must
// refuse it for its form (Fabric accepts only low-S), not for its value.
func highS(t *testing.T, pub *ecdsa.PublicKey, msg, sig []byte) []byte {
	t.Helper()
	r, s, err := fabcrypto.UnmarshalSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	flipped := new(big.Int).Sub(pub.Curve.Params().N, s)
	out, err := fabcrypto.MarshalSignature(r, flipped)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(msg)
	if !ecdsa.Verify(pub, digest[:], r, flipped) {
		t.Fatal("flipped signature no longer verifies: the high-S case would test nothing")
	}
	if low, err := fabcrypto.IsLowS(pub, out); err != nil || low {
		t.Fatalf("flipped signature is not high-S (low=%v, err=%v)", low, err)
	}
	return out
}

// TestNegativeBroadcastDeliverParticipation sends every kind of bad
// envelope through the real Broadcast API of a 3-orderer cluster, checks
// the status Fabric v2.5/v3 gives for it, and that none of them ends up in
// a block while a valid envelope sent afterwards does. It also checks the
// access control of Deliver (Readers policy) and of the participation API
// (admin CN and admin TLS CA).
func TestNegativeBroadcastDeliverParticipation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts orderer processes")
	}
	o := harness.NewOrderers(t, 3, 3)
	for i := 0; i < 3; i++ {
		o.Start(t, i)
	}
	for i := 0; i < 3; i++ {
		o.Join(t, i, o.Genesis)
	}
	if o.Leader(30*time.Second, []int{0, 1, 2}) < 0 {
		t.Fatal("no leader elected")
	}

	user := o.User1(t)
	admin := o.OrdererAdmin(t)
	creator := user.Signer.Serialize()
	pub, ok := user.Signer.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatal("User1's key is not ECDSA")
	}
	// An identity from a CA the channel does not know, once claiming to be
	// of Org1MSP and once of an MSP the channel does not have.
	stranger, err := msptest.NewOrg("Org1MSP", false)
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := stranger.Role("User1@org1.example.com", msptest.OUClient)
	if err != nil {
		t.Fatal(err)
	}
	unknownOrg, err := msptest.NewOrg("NoSuchMSP", false)
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := unknownOrg.Role("User1", msptest.OUClient)
	if err != nil {
		t.Fatal(err)
	}
	genesisConfig := o.Genesis.GetData().GetData()[0]

	tx := func(data string) envParts {
		return envParts{channel: o.Channel, typ: common.HeaderType_ENDORSER_TRANSACTION, creator: creator, data: []byte(data)}
	}
	// The statuses are those of Fabric's orderer: failures to read the
	// channel header, an unknown channel and CONFIG envelopes are refused
	// before any filter (always BAD_REQUEST); size and structure filters give
	// BAD_REQUEST; anything the signature/Writers filter refuses, including
	// a missing signature or signature header, is FORBIDDEN.
	cases := []struct {
		name string
		env  func(t *testing.T) *common.Envelope
		want common.Status
	}{
		{"unsigned", func(t *testing.T) *common.Envelope {
			e := tx("unsigned").signed(t, user.Signer)
			e.Signature = nil
			return e
		}, common.Status_FORBIDDEN},
		{"signature over other bytes", func(t *testing.T) *common.Envelope {
			e := tx("badly signed").signed(t, user.Signer)
			other, err := user.Signer.Sign(append([]byte("not the payload "), e.Payload...))
			if err != nil {
				t.Fatal(err)
			}
			e.Signature = other
			return e
		}, common.Status_FORBIDDEN},
		{"high-S signature", func(t *testing.T) *common.Envelope {
			e := tx("high S").signed(t, user.Signer)
			e.Signature = highS(t, pub, e.Payload, e.Signature)
			return e
		}, common.Status_FORBIDDEN},
		{"unknown channel", func(t *testing.T) *common.Envelope {
			p := tx("wrong channel")
			p.channel = "nosuchchannel"
			return p.signed(t, user.Signer)
		}, common.Status_BAD_REQUEST},
		{"payload with trailing garbage", func(t *testing.T) *common.Envelope {
			p := tx("garbage")
			p.trailer = []byte{0xde, 0xad, 0xbe, 0xef} // a truncated varint: not protobuf
			return p.signed(t, user.Signer)
		}, common.Status_BAD_REQUEST},
		{"missing channel header", func(t *testing.T) *common.Envelope {
			p := tx("no channel header")
			p.noChHdr = true
			return p.signed(t, user.Signer)
		}, common.Status_BAD_REQUEST},
		{"missing signature header", func(t *testing.T) *common.Envelope {
			p := tx("no signature header")
			p.noSigHdr = true
			return p.signed(t, user.Signer)
		}, common.Status_FORBIDDEN},
		{"larger than AbsoluteMaxBytes", func(t *testing.T) *common.Envelope {
			huge := make([]byte, 1<<20+1024)
			for i := range huge {
				huge[i] = byte(i)
			}
			p := tx("")
			p.data = huge
			return p.signed(t, user.Signer)
		}, common.Status_BAD_REQUEST},
		{"creator from a foreign CA claiming Org1MSP", func(t *testing.T) *common.Envelope {
			p := tx("impostor")
			p.creator = impostor.Serialized
			return p.signed(t, foreignSigner{impostor})
		}, common.Status_FORBIDDEN},
		{"creator of an MSP not in the channel", func(t *testing.T) *common.Envelope {
			p := tx("outsider")
			p.creator = outsider.Serialized
			return p.signed(t, foreignSigner{outsider})
		}, common.Status_FORBIDDEN},
		{"CONFIG envelope from a client", func(t *testing.T) *common.Envelope {
			p := tx("")
			p.typ, p.data = common.HeaderType_CONFIG, configEnvelopeData(t, genesisConfig)
			p.creator = admin.Signer.Serialize()
			return p.signed(t, admin.Signer)
		}, common.Status_BAD_REQUEST},
	}

	rejected := map[[32]byte]string{}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := c.env(t)
			h, err := harness.EnvelopeHash(env)
			if err != nil {
				t.Fatal(err)
			}
			rejected[h] = c.name
			via := k % 3 // leader and followers alike must refuse
			st, info := broadcastOne(t, o, via, user, env)
			if st != c.want {
				t.Errorf("via %s: status %v (%q), want %v as Fabric v2.5/v3 answers", o.Procs[via].Name, st, info, c.want)
			}
		})
	}

	valid, err := harness.Envelope(o.Channel, user.Signer, []byte("the only valid envelope"))
	if err != nil {
		t.Fatal(err)
	}
	if st, info := broadcastOne(t, o, 1, user, valid); st != common.Status_SUCCESS {
		t.Fatalf("valid envelope: %v (%q)", st, info)
	}
	validHash, _ := harness.EnvelopeHash(valid)
	acked := map[[32]byte]bool{validHash: true}
	height := checkLedgers(t, o, []int{0, 1, 2}, acked)
	for _, b := range o.Blocks(t, 0, user, height)[1:] {
		for _, h := range harness.BlockEnvelopes(b) {
			if name, bad := rejected[h]; bad {
				t.Errorf("block %d holds the rejected %q envelope", b.GetHeader().GetNumber(), name)
			} else if h != validHash {
				t.Errorf("block %d holds an envelope nobody sent", b.GetHeader().GetNumber())
			}
		}
	}

	t.Run("deliver without Readers", func(t *testing.T) {
		conn := o.Dial(t, 2, user) // TLS as User1, requests signed by strangers
		for _, who := range []*msptest.Member{impostor, outsider} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			got := 0
			err := deliver.Pull(ctx, conn, o.Channel, foreignSigner{who}, 0, 0, harness.TLSCertHash(user.TLSCert),
				func(*common.Block) error { got++; return nil })
			cancel()
			var se *deliver.StatusError
			if !errors.As(err, &se) || se.Status != common.Status_FORBIDDEN {
				t.Errorf("pull as %s from a foreign CA: %v, want status FORBIDDEN", who.MSPID, err)
			}
			if got != 0 {
				t.Errorf("%d blocks delivered to %s from a foreign CA", got, who.MSPID)
			}
		}
		// The same stream setup with User1's own signature works, so the
		// refusals above are about the signer alone.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := deliver.Pull(ctx, conn, o.Channel, user.Signer, 0, 0, harness.TLSCertHash(user.TLSCert),
			func(*common.Block) error { return nil }); err != nil {
			t.Errorf("pull as User1: %v", err)
		}
	})

	t.Run("participation API", func(t *testing.T) {
		checkParticipationACL(t, o)
	})
}

// configEnvelopeData is the Data of the genesis block's CONFIG envelope:
// a well-formed ConfigEnvelope, so only the header type is wrong.
func configEnvelopeData(t *testing.T, rawEnv []byte) []byte {
	t.Helper()
	env := &common.Envelope{}
	payload := &common.Payload{}
	if err := proto.Unmarshal(rawEnv, env); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(env.Payload, payload); err != nil {
		t.Fatal(err)
	}
	return payload.Data
}

// broadcastOne sends env alone on a fresh stream to orderer via.
func broadcastOne(t *testing.T, o *harness.Orderers, via int, id *harness.Identity, env *common.Envelope) (common.Status, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, info, err := harness.Broadcast(ctx, o.Dial(t, via, id), []*common.Envelope{env}, 1)
	if err != nil {
		t.Fatalf("broadcast via %s: %v", o.Procs[via].Name, err)
	}
	return st[0], info[0]
}
