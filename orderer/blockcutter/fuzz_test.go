package blockcutter

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzOrdered drives a cutter with a byte-coded sequence of operations and
// checks the invariants that must hold for any input: every message comes
// out exactly once and in order, no batch is empty or over MaxMessageCount,
// and a batch exceeds PreferredMaxBytes only when it is a single message.
func FuzzOrdered(f *testing.F) {
	f.Add(uint8(3), uint16(40), []byte{1, 5, 1, 200, 2, 1, 9, 3, 1, 40, 4})
	f.Add(uint8(1), uint16(1), []byte{1, 0, 1, 1, 1, 2})
	f.Add(uint8(10), uint16(1000), []byte{1, 255, 1, 255, 1, 255, 1, 255, 5, 1, 10})
	f.Fuzz(func(t *testing.T, count uint8, preferred uint16, ops []byte) {
		c := Config{
			MaxMessageCount:   uint32(count%16) + 1,
			PreferredMaxBytes: uint32(preferred%512) + 1,
			AbsoluteMaxBytes:  1 << 20,
			BatchTimeout:      time.Second,
		}
		bc, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		var sent, got [][]byte
		check := func(batches ...[][]byte) {
			for _, b := range batches {
				if len(b) == 0 {
					t.Fatal("empty batch returned")
				}
				if uint32(len(b)) > c.MaxMessageCount {
					t.Fatalf("batch of %d > MaxMessageCount %d", len(b), c.MaxMessageCount)
				}
				var total uint64
				for _, m := range b {
					total += uint64(MessageSize(m))
				}
				if len(b) > 1 && total > uint64(c.PreferredMaxBytes) {
					t.Fatalf("batch of %d messages has %d bytes > PreferredMaxBytes %d", len(b), total, c.PreferredMaxBytes)
				}
				got = append(got, b...)
			}
		}
		for i := 0; i < len(ops); i++ {
			op := ops[i] % 6
			arg := 0
			if i+1 < len(ops) {
				arg = int(ops[i+1])
				i++
			}
			switch op {
			case 0, 1: // an ordinary message; 8 bytes of id keep each unique
				m := make([]byte, 8+arg*2)
				binary.BigEndian.PutUint64(m, uint64(len(sent)))
				sent = append(sent, m)
				batches, pending := bc.Ordered(m, now)
				check(batches...)
				if n, _ := bc.Pending(); (n > 0) != pending {
					t.Fatal("pending flag disagrees with Pending()")
				}
			case 2: // time passes; a due batch must come out, an undue one must not
				now = now.Add(time.Duration(arg) * 10 * time.Millisecond)
				d, ok := bc.Deadline()
				b := bc.Timeout(now)
				if ok && !now.Before(d) {
					if b == nil {
						t.Fatal("Timeout past deadline returned nothing")
					}
					check(b)
				} else if b != nil {
					t.Fatal("Timeout before deadline returned a batch")
				}
			case 3:
				if b := bc.Cut(); b != nil {
					check(b)
				}
			case 4: // config message
				m := make([]byte, 8+arg)
				binary.BigEndian.PutUint64(m, uint64(len(sent)))
				sent = append(sent, m)
				batches := bc.Isolated(m)
				if last := batches[len(batches)-1]; len(last) != 1 {
					t.Fatal("isolated message not alone")
				}
				check(batches...)
			case 5:
				nc := c
				nc.MaxMessageCount = uint32(arg%8) + 1
				nc.PreferredMaxBytes = uint32(arg)*3 + 1
				b, err := bc.Reconfigure(nc)
				if err != nil {
					t.Fatal(err)
				}
				// A batch cut by Reconfigure was built under the old limits.
				if b != nil {
					check(b)
				}
				c = nc
			}
		}
		if b := bc.Cut(); b != nil {
			check(b)
		}
		if len(got) != len(sent) {
			t.Fatalf("sent %d messages, got %d back", len(sent), len(got))
		}
		for i := range sent {
			if &got[i][0] != &sent[i][0] {
				t.Fatalf("message %d out of order or duplicated", i)
			}
		}
	})
}
