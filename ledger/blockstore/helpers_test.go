package blockstore

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// testEnv is a marshaled endorser-transaction-shaped envelope with tx id txID.
func testEnv(txID string, pad int) []byte {
	ch := mustMarshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: "ch1", TxId: txID})
	p := mustMarshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: bytes.Repeat([]byte{'x'}, pad)})
	return mustMarshal(&common.Envelope{Payload: p, Signature: []byte("sig")})
}

func newBlock(n uint64, prev []byte, data ...[]byte) *common.Block {
	b := &common.Block{
		Header:   &common.BlockHeader{Number: n, PreviousHash: prev},
		Data:     &common.BlockData{Data: data},
		Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)},
	}
	b.Header.DataHash = DataHash(b.Data)
	return b
}

// genBlock is deterministic in n and prev, so a chain can be regenerated
// to check what a store (or a killed child process) wrote.
func genBlock(n uint64, prev []byte) *common.Block {
	var data [][]byte
	for i := 0; i <= int(n%3); i++ {
		data = append(data, testEnv(fmt.Sprintf("tx-%d-%d", n, i), 40+int(n%7)*13))
	}
	return newBlock(n, prev, data...)
}

func genChain(count int) []*common.Block {
	var out []*common.Block
	var prev []byte
	for n := 0; n < count; n++ {
		b := genBlock(uint64(n), prev)
		out = append(out, b)
		prev = HeaderHash(b.Header)
	}
	return out
}

func openT(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendAll(t testing.TB, s *Store, blocks []*common.Block) {
	t.Helper()
	for _, b := range blocks {
		if err := s.Append(b); err != nil {
			t.Fatalf("Append %d: %v", b.Header.Number, err)
		}
	}
}

// checkBlocks asserts s holds exactly want, in order.
func checkBlocks(t testing.TB, s *Store, want []*common.Block) {
	t.Helper()
	if h := s.Height(); h != uint64(len(want)) {
		t.Fatalf("Height = %d, want %d", h, len(want))
	}
	for i, w := range want {
		got, err := s.Block(uint64(i))
		if err != nil {
			t.Fatalf("Block(%d): %v", i, err)
		}
		if !proto.Equal(got, w) {
			t.Fatalf("Block(%d) differs from what was appended", i)
		}
	}
	var last []byte
	if len(want) > 0 {
		last = HeaderHash(want[len(want)-1].Header)
	}
	if !bytes.Equal(s.LastHeaderHash(), last) {
		t.Fatalf("LastHeaderHash = %x, want %x", s.LastHeaderHash(), last)
	}
}

func segPath(dir string, i int) string { return filepath.Join(dir, segmentName(i)) }

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logBuf captures the store's log output.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
