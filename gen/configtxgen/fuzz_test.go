package configtxgen

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// FuzzParse feeds arbitrary YAML through the reader; it must return errors,
// never panic.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "configtx.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("Profiles:\n  P:\n    Orderer: 7\n"))
	f.Add([]byte("Profiles:\n  P:\n    Application:\n      Organizations: [1, {Name: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseFile("configtx.yaml", data)
		if err != nil {
			return
		}
		for _, name := range file.ProfileNames() {
			_, _ = file.parseProfile(name)
		}
	})
}

// FuzzInspect renders whatever decodes as a block; it must not panic.
func FuzzInspect(f *testing.F) {
	chdr, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG)})
	pl, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr}, Data: []byte{10, 2, 8, 1}})
	env, _ := proto.Marshal(&common.Envelope{Payload: pl})
	b, _ := proto.Marshal(&common.Block{Data: &common.BlockData{Data: [][]byte{env}}, Metadata: &common.BlockMetadata{Metadata: [][]byte{{18, 0}, {}}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var blk common.Block
		if proto.Unmarshal(data, &blk) != nil {
			return
		}
		_, _ = InspectBlock(&blk)
	})
}
