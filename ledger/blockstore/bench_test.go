package blockstore

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// BenchmarkAppend appends 10-transaction blocks of about 10 KiB, with and
// without a per-append fsync.
func BenchmarkAppend(b *testing.B) {
	var data [][]byte
	for i := 0; i < 10; i++ {
		data = append(data, testEnv(fmt.Sprintf("bench-%d", i), 1000))
	}
	bd := &common.BlockData{Data: data}
	dh := DataHash(bd)
	for _, c := range []struct {
		name   string
		policy SyncPolicy
	}{{"fsync", SyncEveryAppend}, {"nofsync", SyncNever}} {
		b.Run(c.name, func(b *testing.B) {
			s := openT(b, b.TempDir(), Options{Sync: c.policy})
			var prev []byte
			var bytes int64
			// Record size: header, and the block (whose size varies by a
			// few bytes of header only).
			recLen := int64(recordHeaderLen + proto.Size(&common.Block{
				Header: &common.BlockHeader{Number: 1 << 20, PreviousHash: make([]byte, 32), DataHash: dh}, Data: bd}))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				blk := &common.Block{Header: &common.BlockHeader{Number: uint64(i), PreviousHash: prev, DataHash: dh}, Data: bd}
				if err := s.Append(blk); err != nil {
					b.Fatal(err)
				}
				prev = HeaderHash(blk.Header)
				bytes += recLen
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "blocks/s")
			b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
		})
	}
}
