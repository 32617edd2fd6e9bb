package peer

import (
	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/rwset"
)

func decodeRWSet(b []byte) (*rwset.TxReadWriteSet, error) {
	var rw rwset.TxReadWriteSet
	if err := proto.Unmarshal(b, &rw); err != nil {
		return nil, err
	}
	return &rw, nil
}
