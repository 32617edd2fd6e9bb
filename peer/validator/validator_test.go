package validator

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/msp/msptest"
	"weft/peer/txsim"
	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/peer"
)

const (
	VALID   = peer.TxValidationCode_VALID
	EPF     = peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE
	MVCC    = peer.TxValidationCode_MVCC_READ_CONFLICT
	PHANTOM = peer.TxValidationCode_PHANTOM_READ_CONFLICT
	DUP     = peer.TxValidationCode_DUPLICATE_TXID
)

// validTx writes cc/k=v endorsed by an Org1 peer.
func validTx(t testing.TB, f *fixture, kvs ...string) []byte {
	return f.envelope(t, txSpec{results: f.simulate(t, writes(kvs...))})
}

func TestValidate(t *testing.T) {
	type tcase struct {
		name  string
		txs   func(t *testing.T, f *fixture) [][]byte
		want  []peer.TxValidationCode
		check func(t *testing.T, f *fixture, res *Result)
	}
	one := func(s func(t *testing.T, f *fixture) txSpec) func(t *testing.T, f *fixture) [][]byte {
		return func(t *testing.T, f *fixture) [][]byte {
			spec := s(t, f)
			if spec.results == nil {
				spec.results = f.simulate(t, writes("k", "v"))
			}
			return [][]byte{f.envelope(t, spec)}
		}
	}
	cases := []tcase{
		{
			name: "valid write", want: []peer.TxValidationCode{VALID},
			txs: func(t *testing.T, f *fixture) [][]byte {
				return [][]byte{f.envelope(t, txSpec{results: f.simulate(t, func(s *txsim.Simulator) error {
					if _, err := s.GetState("cc", "a"); err != nil {
						return err
					}
					return s.PutState("cc", "k", []byte("v"))
				})})}
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				vv, del, ok := res.Batch.Get("cc", "k")
				if !ok || del || string(vv.Value) != "v" || vv.Version.BlockNum != 2 || vv.Version.TxNum != 0 {
					t.Errorf("batch entry = %+v deleted=%v ok=%v", vv, del, ok)
				}
				if res.Batch.Len() != 1 {
					t.Errorf("batch has %d keys, want 1", res.Batch.Len())
				}
				if res.TxIDs[0] == "" {
					t.Error("tx id not reported")
				}
				if !slices.Equal(f.pols.asks, []string{"cc"}) {
					t.Errorf("policy checks %v, want [cc]", f.pols.asks)
				}
			},
		},
		{name: "bad creator signature", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_CREATOR_SIGNATURE},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{envelope: func(e *common.Envelope) { e.Signature = []byte("junk") }}
			})},
		{name: "creator from untrusted CA", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_CREATOR_SIGNATURE},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{creator: f.untrusted} })},
		{name: "creator not in channel", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_CREATOR_SIGNATURE},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{creator: f.outsider} })},
		{name: "tx id mismatch", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_PROPOSAL_TXID},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{chdr: func(h *common.ChannelHeader) { h.TxId = "deadbeef" }}
			})},
		{name: "proposal hash mismatch", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{prp: func(p *peer.ProposalResponsePayload) { p.ProposalHash[0] ^= 1 }}
			})},
		{name: "two actions", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{tx: func(tx *peer.Transaction) { tx.Actions = append(tx.Actions, tx.Actions[0]) }}
			})},
		{name: "no endorsements", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsements: func([]*peer.Endorsement) []*peer.Endorsement { return nil }}
			})},
		{name: "bad endorsement signature", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsements: func(es []*peer.Endorsement) []*peer.Endorsement {
					es[0].Signature = []byte("junk")
					return es
				}}
			})},
		{name: "endorsement signed over other data", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsements: func(es []*peer.Endorsement) []*peer.Endorsement {
					es[0].Signature = must(f.peer1.Sign([]byte("something else")))(t)
					return es
				}}
			})},
		{name: "endorsed by wrong org", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{endorsers: []*msptest.Member{f.peer2}} })},
		{name: "endorsed by client of right org", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsers: []*msptest.Member{f.client1AsEndorser}}
			})},
		{name: "endorsed by untrusted identity", want: []peer.TxValidationCode{EPF},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{endorsers: []*msptest.Member{f.untrusted}} })},
		{name: "extra bad endorsement ignored", want: []peer.TxValidationCode{VALID},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{endorsers: []*msptest.Member{f.outsider, f.peer1}}
			})},
		{name: "second namespace needs both orgs", want: []peer.TxValidationCode{EPF},
			txs: func(t *testing.T, f *fixture) [][]byte {
				res := f.simulate(t, func(s *txsim.Simulator) error { return s.PutState("other", "x", []byte("1")) })
				return [][]byte{f.envelope(t, txSpec{results: res})}
			}},
		{name: "second namespace satisfied", want: []peer.TxValidationCode{VALID},
			txs: func(t *testing.T, f *fixture) [][]byte {
				res := f.simulate(t, func(s *txsim.Simulator) error { return s.PutState("other", "x", []byte("1")) })
				return [][]byte{f.envelope(t, txSpec{results: res, endorsers: []*msptest.Member{f.peer1, f.peer2}})}
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				if !slices.Equal(f.pols.asks, []string{"cc", "other"}) {
					t.Errorf("policy checks %v, want [cc other]", f.pols.asks)
				}
			}},
		{name: "read-only namespace not policy checked", want: []peer.TxValidationCode{VALID},
			txs: func(t *testing.T, f *fixture) [][]byte {
				res := f.simulate(t, func(s *txsim.Simulator) error {
					if _, err := s.GetState("ro", "x"); err != nil {
						return err
					}
					return s.PutState("cc", "k", []byte("v"))
				})
				return [][]byte{f.envelope(t, txSpec{results: res})}
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				if slices.Contains(f.pols.asks, "ro") {
					t.Errorf("read-only namespace checked: %v", f.pols.asks)
				}
			}},
		{name: "unknown chaincode", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_CHAINCODE},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{cc: "nosuchcc"} })},
		{name: "chaincode name mismatch", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_CHAINCODE},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{action: func(a *peer.ChaincodeAction) { a.ChaincodeId.Name = "other" }}
			})},
		{name: "chaincode version missing", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_CHAINCODE},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{action: func(a *peer.ChaincodeAction) { a.ChaincodeId.Version = "" }}
			})},
		{name: "event of other chaincode", want: []peer.TxValidationCode{peer.TxValidationCode_INVALID_OTHER_REASON},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{events: must(proto.Marshal(&peer.ChaincodeEvent{ChaincodeId: "other", EventName: "e"}))(t)}
			})},
		{name: "event reported", want: []peer.TxValidationCode{VALID},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{events: must(proto.Marshal(&peer.ChaincodeEvent{ChaincodeId: "cc", EventName: "sold", Payload: []byte("p")}))(t)}
			}),
			check: func(t *testing.T, f *fixture, res *Result) {
				if ev := res.Events[0]; ev.GetEventName() != "sold" || string(ev.GetPayload()) != "p" {
					t.Errorf("event = %v", ev)
				}
			}},
		{name: "bad rwset", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_RWSET},
			txs: one(func(t *testing.T, f *fixture) txSpec { return txSpec{results: []byte{0xff, 0xff, 0xff}} })},
		{name: "duplicate namespace", want: []peer.TxValidationCode{peer.TxValidationCode_ILLEGAL_WRITESET},
			txs: func(t *testing.T, f *fixture) [][]byte {
				rws := &rwset.TxReadWriteSet{}
				if err := proto.Unmarshal(f.simulate(t, writes("k", "v")), rws); err != nil {
					t.Fatal(err)
				}
				rws.NsRwset = append(rws.NsRwset, rws.NsRwset[0])
				return [][]byte{f.envelope(t, txSpec{results: must(proto.Marshal(rws))(t)})}
			}},
		{name: "private data refused", want: []peer.TxValidationCode{peer.TxValidationCode_BAD_RWSET},
			txs: func(t *testing.T, f *fixture) [][]byte {
				rws := &rwset.TxReadWriteSet{}
				if err := proto.Unmarshal(f.simulate(t, writes("k", "v")), rws); err != nil {
					t.Fatal(err)
				}
				rws.NsRwset[0].CollectionHashedRwset = []*rwset.CollectionHashedReadWriteSet{{CollectionName: "c"}}
				return [][]byte{f.envelope(t, txSpec{results: must(proto.Marshal(rws))(t)})}
			}},
		{name: "wrong channel", want: []peer.TxValidationCode{peer.TxValidationCode_TARGET_CHAIN_NOT_FOUND},
			txs: one(func(t *testing.T, f *fixture) txSpec {
				return txSpec{chdr: func(h *common.ChannelHeader) { h.ChannelId = "otherchannel" }}
			})},
		{name: "duplicate of ledger tx", want: []peer.TxValidationCode{DUP},
			txs: func(t *testing.T, f *fixture) [][]byte {
				env := validTx(t, f, "k", "v")
				f.inLedger[txIDOf(t, env)] = true
				return [][]byte{env}
			}},
		{name: "duplicate within block", want: []peer.TxValidationCode{VALID, DUP},
			txs: func(t *testing.T, f *fixture) [][]byte {
				env := validTx(t, f, "k", "v")
				return [][]byte{env, env}
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				if vv, _, _ := res.Batch.Get("cc", "k"); vv == nil || vv.Version.TxNum != 0 {
					t.Errorf("batch = %+v, want the first tx's write only", vv)
				}
			}},
		{name: "invalid tx does not claim its id", want: []peer.TxValidationCode{EPF, VALID},
			txs: func(t *testing.T, f *fixture) [][]byte {
				env := validTx(t, f, "k", "v")
				bad := &common.Envelope{}
				if err := proto.Unmarshal(env, bad); err != nil {
					t.Fatal(err)
				}
				// Same payload (same tx id), endorsement stripped.
				p := &common.Payload{}
				proto.Unmarshal(bad.Payload, p)
				tx := &peer.Transaction{}
				proto.Unmarshal(p.Data, tx)
				cap := &peer.ChaincodeActionPayload{}
				proto.Unmarshal(tx.Actions[0].Payload, cap)
				cap.Action.Endorsements = nil
				tx.Actions[0].Payload = must(proto.Marshal(cap))(t)
				p.Data = must(proto.Marshal(tx))(t)
				return [][]byte{f.sign(t, f.client, p, nil), env}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed(t, 1, "a", "1", "b", "2", "c", "3")
			res, err := Validate(f.input(block(2, tc.txs(t, f)...)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Codes, tc.want) {
				t.Fatalf("codes = %v, want %v", res.Codes, tc.want)
			}
			for i, c := range res.Codes {
				if res.Filter()[i] != byte(c) {
					t.Fatalf("filter = %v, codes %v", res.Filter(), res.Codes)
				}
			}
			if tc.want[0] != VALID && len(tc.want) == 1 && res.Batch.Len() != 0 {
				t.Errorf("invalid tx wrote %d keys", res.Batch.Len())
			}
			if tc.check != nil {
				tc.check(t, f, res)
			}
		})
	}
}

func TestValidateInputErrors(t *testing.T) {
	f := newFixture(t)
	good := f.input(block(2))
	for name, mut := range map[string]func(*Input){
		"nil block":    func(in *Input) { in.Block = nil },
		"no header":    func(in *Input) { in.Block = &common.Block{Data: &common.BlockData{}} },
		"no data":      func(in *Input) { in.Block = &common.Block{Header: &common.BlockHeader{}} },
		"nil bundle":   func(in *Input) { in.Bundle = nil },
		"nil state":    func(in *Input) { in.State = nil },
		"nil txexists": func(in *Input) { in.TxExists = nil },
		"nil policies": func(in *Input) { in.Policies = nil },
	} {
		in := good
		mut(&in)
		if _, err := Validate(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	in := f.input(block(2, validTx(t, f, "k", "v")))
	in.TxExists = func(string) (bool, error) { return false, errors.New("disk on fire") }
	if _, err := Validate(in); err == nil {
		t.Error("ledger failure not reported")
	}
	if res, err := Validate(good); err != nil || len(res.Codes) != 0 {
		t.Errorf("empty block: %v, %v", res, err)
	}
}
