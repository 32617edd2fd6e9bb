package statedb

import (
	"fmt"
	"testing"
)

// BenchmarkCommit commits blocks of 1000 fresh keys (JSON values of ~100
// bytes); each Commit is one fsynced bbolt transaction.
func BenchmarkCommit(b *testing.B) {
	db, _ := openTemp(b)
	val := []byte(`{"owner":"alice","color":"blue","size":42,"appraisedValue":300,"docType":"asset","padding":"xxxxxxxxx"}`)
	block := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		block++
		batch := NewUpdateBatch()
		for i := 0; i < 1000; i++ {
			batch.Put("cc", fmt.Sprintf("asset%09d-%04d", block, i), val, nil, Version{block, uint64(i)})
		}
		if err := db.Commit(batch, block); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkGet reads random keys out of 100k committed ones.
func BenchmarkGet(b *testing.B) {
	db, _ := openTemp(b)
	const n = 100000
	for blk := uint64(1); blk <= n/1000; blk++ {
		batch := NewUpdateBatch()
		for i := 0; i < 1000; i++ {
			k := (blk-1)*1000 + uint64(i)
			batch.Put("cc", fmt.Sprintf("key%08d", k), []byte("value"), nil, Version{blk, uint64(i)})
		}
		mustCommit(b, db, batch, blk)
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("key%08d", (i*7919)%n)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		vv, err := db.Get("cc", keys[i%len(keys)])
		if err != nil || vv == nil {
			b.Fatalf("get: %v %v", vv, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
