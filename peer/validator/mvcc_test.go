package validator

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

type simOps = func(s *txsim.Simulator) error

func read(keys ...string) simOps {
	return func(s *txsim.Simulator) error {
		for _, k := range keys {
			if _, err := s.GetState("cc", k); err != nil {
				return err
			}
		}
		return nil
	}
}

func del(keys ...string) simOps {
	return func(s *txsim.Simulator) error {
		for _, k := range keys {
			if err := s.DelState("cc", k); err != nil {
				return err
			}
		}
		return nil
	}
}

// scan reads up to n results (n < 0: all) of [start, end).
func scan(start, end string, n int) simOps {
	return func(s *txsim.Simulator) error {
		it, err := s.GetStateRange("cc", start, end)
		if err != nil {
			return err
		}
		defer it.Close()
		for i := 0; n < 0 || i < n; i++ {
			kv, err := it.Next()
			if err != nil || kv == nil {
				return err
			}
		}
		return nil
	}
}

func seq(ops ...simOps) simOps {
	return func(s *txsim.Simulator) error {
		for _, o := range ops {
			if err := o(s); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestMVCC(t *testing.T) {
	tests := []struct {
		name string
		// sims are simulated, in order, against the seeded state (block 1:
		// a, b, c); between simulation and validation, committed (if set)
		// is committed as block 2, and the txs are validated as block 3.
		sims      []simOps
		committed []string
		want      []peer.TxValidationCode
	}{
		{"read still current", []simOps{seq(read("a", "nokey"), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID}},
		{"read overtaken by commit", []simOps{seq(read("a"), writes("x", "1"))}, []string{"a", "new"}, []peer.TxValidationCode{MVCC}},
		{"absent key created by commit", []simOps{seq(read("nokey"), writes("x", "1"))}, []string{"nokey", "v"}, []peer.TxValidationCode{MVCC}},
		{"absent key unaffected by other commit", []simOps{seq(read("nokey"), writes("x", "1"))}, []string{"other", "v"}, []peer.TxValidationCode{VALID}},
		{"earlier tx in block wrote read key", []simOps{writes("a", "9"), seq(read("a"), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, MVCC}},
		{"earlier tx in block deleted read key", []simOps{del("a"), seq(read("a"), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, MVCC}},
		{"earlier tx wrote other key", []simOps{writes("a", "9"), seq(read("b"), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, VALID}},
		{"invalid earlier tx does not conflict", []simOps{seq(read("a"), writes("b", "9")), seq(read("b"), writes("x", "1"))}, []string{"a", "new"}, []peer.TxValidationCode{MVCC, VALID}},
		{"blind writes both valid", []simOps{writes("a", "8"), writes("a", "9")}, nil, []peer.TxValidationCode{VALID, VALID}},
		{"phantom insert in block", []simOps{writes("bb", "1"), seq(scan("a", "z", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"phantom delete in block", []simOps{del("b"), seq(scan("a", "z", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"phantom update in block", []simOps{writes("c", "33"), seq(scan("a", "z", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"phantom committed insert", []simOps{seq(scan("a", "z", -1), writes("x", "1"))}, []string{"ab", "v"}, []peer.TxValidationCode{PHANTOM}},
		{"open-ended scan sees insert", []simOps{writes("zz", "1"), seq(scan("b", "", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"write outside range", []simOps{writes("zz", "1"), seq(scan("a", "d", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, VALID}},
		{"write at exclusive end", []simOps{writes("d", "1"), seq(scan("a", "d", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, VALID}},
		{"partial scan ignores later keys", []simOps{writes("c", "9"), seq(scan("a", "z", 2), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, VALID}},
		{"partial scan covers its last key", []simOps{writes("b", "9"), seq(scan("a", "z", 2), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"partial scan insert inside", []simOps{writes("aa", "9"), seq(scan("a", "z", 2), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"empty range gains key", []simOps{writes("q", "1"), seq(scan("m", "t", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, PHANTOM}},
		{"empty range stays empty", []simOps{writes("u", "1"), seq(scan("m", "t", -1), writes("x", "1"))}, nil, []peer.TxValidationCode{VALID, VALID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed(t, 1, "a", "1", "b", "2", "c", "3")
			var envs [][]byte
			for _, s := range tc.sims {
				envs = append(envs, f.envelope(t, txSpec{results: f.simulate(t, s)}))
			}
			if tc.committed != nil {
				f.seed(t, 2, tc.committed...)
			}
			res, err := Validate(f.input(block(3, envs...)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Codes, tc.want) {
				t.Fatalf("codes = %v, want %v", res.Codes, tc.want)
			}
			// Whatever reached the batch was written by a valid transaction.
			res.Batch.ForEach(func(ns, key string, vv *statedb.VersionedValue, deleted bool) {
				if vv != nil && res.Codes[vv.Version.TxNum] != VALID {
					t.Errorf("%s/%s written by invalid tx %d", ns, key, vv.Version.TxNum)
				}
			})
		})
	}
}

func TestDeleteSemantics(t *testing.T) {
	f := newFixture(t)
	f.seed(t, 1, "a", "1", "b", "2")
	// An empty value without is_delete is a delete too.
	rws := &rwset.TxReadWriteSet{}
	kv := must(proto.Marshal(&kvrwset.KVRWSet{Writes: []*kvrwset.KVWrite{{Key: "b"}}}))(t)
	rws.NsRwset = []*rwset.NsReadWriteSet{{Namespace: "cc", Rwset: kv}}
	envs := [][]byte{
		f.envelope(t, txSpec{results: f.simulate(t, del("a"))}),
		f.envelope(t, txSpec{results: must(proto.Marshal(rws))(t)}),
	}
	res, err := Validate(f.input(block(2, envs...)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Codes, []peer.TxValidationCode{VALID, VALID}) {
		t.Fatalf("codes = %v", res.Codes)
	}
	for _, k := range []string{"a", "b"} {
		vv, deleted, ok := res.Batch.Get("cc", k)
		if !ok || !deleted || vv != nil {
			t.Fatalf("batch %s = %+v deleted=%v ok=%v, want a delete", k, vv, deleted, ok)
		}
	}
	if err := f.db.Commit(res.Batch, 2); err != nil {
		t.Fatal(err)
	}
	if vv, err := f.db.Get("cc", "a"); err != nil || vv != nil {
		t.Fatalf("a after commit = %+v, %v", vv, err)
	}
	// A transaction simulated now reads "a" as absent and stays valid; one
	// that recreates it works too.
	env := f.envelope(t, txSpec{results: f.simulate(t, seq(read("a"), writes("a", "back")))})
	res, err = Validate(f.input(block(3, env)))
	if err != nil || res.Codes[0] != VALID {
		t.Fatalf("recreate: %v, %v", res.Codes, err)
	}
	if vv, _, _ := res.Batch.Get("cc", "a"); vv == nil || string(vv.Value) != "back" || vv.Version.BlockNum != 3 {
		t.Fatalf("recreated a = %+v", vv)
	}
}

func TestMetadataWrites(t *testing.T) {
	f := newFixture(t)
	b := newBatchWithMeta(t, "m", "v", map[string][]byte{"VALIDATION_PARAMETER": []byte("p")})
	if err := f.db.Commit(b, 1); err != nil {
		t.Fatal(err)
	}
	meta := map[string][]byte{"VALIDATION_PARAMETER": []byte("q")}
	envs := [][]byte{
		// value only: committed metadata is kept
		f.envelope(t, txSpec{results: f.simulate(t, writes("m", "v2"))}),
		// metadata only on a key written earlier in the block: keeps v2
		f.envelope(t, txSpec{results: f.simulate(t, func(s *txsim.Simulator) error { return s.SetStateMetadata("cc", "m", meta) })}),
		// metadata only on a missing key: dropped
		f.envelope(t, txSpec{results: f.simulate(t, func(s *txsim.Simulator) error { return s.SetStateMetadata("cc", "ghost", meta) })}),
	}
	res, err := Validate(f.input(block(2, envs...)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Codes, []peer.TxValidationCode{VALID, VALID, VALID}) {
		t.Fatalf("codes = %v", res.Codes)
	}
	vv, _, _ := res.Batch.Get("cc", "m")
	got, err := txsim.UnmarshalMetadata(vv.Metadata)
	if err != nil || string(vv.Value) != "v2" || string(got["VALIDATION_PARAMETER"]) != "q" || vv.Version.TxNum != 1 {
		t.Errorf("m = %+v (meta %v, %v)", vv, got, err)
	}
	if _, _, ok := res.Batch.Get("cc", "ghost"); ok {
		t.Error("metadata write on a missing key reached the batch")
	}

	// Value write alone keeps the committed metadata; value plus metadata
	// delete drops it.
	f2 := newFixture(t)
	if err := f2.db.Commit(newBatchWithMeta(t, "m", "v", map[string][]byte{"k": []byte("p")}), 1); err != nil {
		t.Fatal(err)
	}
	envs = [][]byte{
		f2.envelope(t, txSpec{results: f2.simulate(t, writes("m", "v2"))}),
	}
	res, err = Validate(f2.input(block(2, envs...)))
	if err != nil || res.Codes[0] != VALID {
		t.Fatal(res, err)
	}
	vv, _, _ = res.Batch.Get("cc", "m")
	if got, _ := txsim.UnmarshalMetadata(vv.Metadata); string(got["k"]) != "p" {
		t.Errorf("committed metadata lost on value write: %v", got)
	}
	env := f2.envelope(t, txSpec{results: f2.simulate(t, func(s *txsim.Simulator) error {
		if err := s.PutState("cc", "m", []byte("v3")); err != nil {
			return err
		}
		return s.SetStateMetadata("cc", "m", nil)
	})})
	res, err = Validate(f2.input(block(2, env)))
	if err != nil || res.Codes[0] != VALID {
		t.Fatal(res, err)
	}
	if vv, _, _ := res.Batch.Get("cc", "m"); vv.Metadata != nil || string(vv.Value) != "v3" {
		t.Errorf("value + metadata delete = %+v", vv)
	}
}

func TestMalformed(t *testing.T) {
	f := newFixture(t)
	hdr := func(ch *common.ChannelHeader, sh *common.SignatureHeader) *common.Payload {
		return &common.Payload{Header: &common.Header{
			ChannelHeader:   must(proto.Marshal(ch))(t),
			SignatureHeader: must(proto.Marshal(sh))(t),
		}}
	}
	creator := &common.SignatureHeader{Creator: f.client.Serialized, Nonce: []byte("nonce")}
	endorserHdr := func() *common.ChannelHeader {
		return &common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel}
	}
	tests := []struct {
		name string
		env  []byte
		want peer.TxValidationCode
	}{
		{"not an envelope", []byte{0xff, 0xff}, peer.TxValidationCode_INVALID_OTHER_REASON},
		{"payload garbage", must(proto.Marshal(&common.Envelope{Payload: []byte{0xff}}))(t), peer.TxValidationCode_BAD_PAYLOAD},
		{"empty entry", []byte{}, peer.TxValidationCode_BAD_COMMON_HEADER},
		{"no header", f.sign(t, f.client, &common.Payload{Data: []byte("x")}, nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"channel header garbage", f.sign(t, f.client, &common.Payload{Header: &common.Header{ChannelHeader: []byte{0xff}}}, nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"signature header garbage", f.sign(t, f.client, &common.Payload{Header: &common.Header{
			ChannelHeader: must(proto.Marshal(endorserHdr()))(t), SignatureHeader: []byte{0xff}}}, nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"epoch", f.sign(t, f.client, hdr(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), Epoch: 1}, creator), nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"no nonce", f.sign(t, f.client, hdr(endorserHdr(), &common.SignatureHeader{Creator: f.client.Serialized}), nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"no creator", f.sign(t, f.client, hdr(endorserHdr(), &common.SignatureHeader{Nonce: []byte("n")}), nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"message type", f.sign(t, f.client, hdr(&common.ChannelHeader{Type: int32(common.HeaderType_MESSAGE)}, creator), nil), peer.TxValidationCode_BAD_COMMON_HEADER},
		{"config update", f.sign(t, f.client, hdr(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG_UPDATE)}, creator), nil), peer.TxValidationCode_UNSUPPORTED_TX_PAYLOAD},
		{"unsigned config", must(proto.Marshal(&common.Envelope{Payload: must(proto.Marshal(hdr(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG)}, &common.SignatureHeader{})))(t)}))(t), VALID},
		{"endorser tx with garbage body", f.sign(t, f.client, func() *common.Payload {
			p := hdr(endorserHdr(), creator)
			p.Header.ChannelHeader = must(proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel,
				TxId: txIDFor(creator)}))(t)
			p.Data = []byte{0xff}
			return p
		}(), nil), peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION},
	}
	var envs [][]byte
	var want []peer.TxValidationCode
	for _, tc := range tests {
		envs = append(envs, tc.env)
		want = append(want, tc.want)
	}
	res, err := Validate(f.input(block(2, envs...)))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		if res.Codes[i] != tc.want {
			t.Errorf("%s: code %v, want %v", tc.name, res.Codes[i], tc.want)
		}
	}
	if res.Batch.Len() != 0 {
		t.Errorf("malformed transactions wrote %d keys", res.Batch.Len())
	}
}
