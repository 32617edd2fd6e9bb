package validator

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"weft/msp/msptest"
	"weft/wire/common"
	"weft/wire/peer"
)

// bigBlock builds n transactions with a known mix of outcomes: mostly valid
// writes of distinct keys, plus every tenth reading a key an earlier
// transaction of the block wrote (MVCC), every seventeenth with a bad creator
// signature, every nineteenth endorsed by the wrong org and every
// twenty-third repeating the previous transaction's envelope.
func bigBlock(t testing.TB, f *fixture, n int) ([][]byte, []peer.TxValidationCode) {
	t.Helper()
	envs := make([][]byte, 0, n)
	want := make([]peer.TxValidationCode, 0, n)
	written := ""
	for i := range n {
		key := fmt.Sprintf("k%04d", i)
		switch {
		case i > 0 && i%23 == 0:
			envs = append(envs, envs[i-1])
			if want[i-1] == VALID {
				want = append(want, DUP)
			} else {
				want = append(want, want[i-1])
			}
			continue
		case i%17 == 5:
			envs = append(envs, f.envelope(t, txSpec{results: f.simulate(t, writes(key, "v")),
				envelope: func(e *common.Envelope) { e.Signature[len(e.Signature)-1] ^= 1 }}))
			want = append(want, peer.TxValidationCode_BAD_CREATOR_SIGNATURE)
		case i%19 == 7:
			envs = append(envs, f.envelope(t, txSpec{results: f.simulate(t, writes(key, "v")), endorsers: []*msptest.Member{f.peer2}}))
			want = append(want, EPF)
		case i%10 == 9 && written != "":
			envs = append(envs, f.envelope(t, txSpec{results: f.simulate(t, seq(read(written), writes(key, "v")))}))
			want = append(want, MVCC)
		default:
			envs = append(envs, f.envelope(t, txSpec{results: f.simulate(t, seq(read(key), writes(key, "v")))}))
			want = append(want, VALID)
			written = key
		}
	}
	return envs, want
}

func TestBlockOf200(t *testing.T) {
	f := newFixture(t)
	envs, want := bigBlock(t, f, 200)
	start := time.Now()
	res, err := Validate(f.input(block(2, envs...)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("validated 200 txs in %v", time.Since(start))
	if !slices.Equal(res.Codes, want) {
		for i := range want {
			if res.Codes[i] != want[i] {
				t.Errorf("tx %d: code %v, want %v", i, res.Codes[i], want[i])
			}
		}
		t.FailNow()
	}
	valid := 0
	for i, c := range want {
		if c == VALID {
			valid++
			vv, _, ok := res.Batch.Get("cc", fmt.Sprintf("k%04d", i))
			if !ok || vv.Version.BlockNum != 2 || vv.Version.TxNum != uint64(i) {
				t.Fatalf("tx %d write = %+v, ok=%v", i, vv, ok)
			}
		}
	}
	if res.Batch.Len() != valid {
		t.Fatalf("batch has %d keys, want %d", res.Batch.Len(), valid)
	}
	if valid < 120 || valid == 200 {
		t.Fatalf("mix is off: %d valid of 200", valid)
	}
	// The results commit cleanly.
	if err := f.db.Commit(res.Batch, 2); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkValidate(b *testing.B) {
	f := newFixture(b)
	const n = 200
	envs, _ := bigBlock(b, f, n)
	in := f.input(block(2, envs...))
	b.ResetTimer()
	start := time.Now()
	iters := 0
	for b.Loop() {
		if _, err := Validate(in); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	b.ReportMetric(float64(n*iters)/time.Since(start).Seconds(), "tx/s")
}
