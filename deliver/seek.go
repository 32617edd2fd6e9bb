package deliver

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
)

// seekRange is a resolved request: blocks start..stop inclusive.
type seekRange struct {
	start, stop uint64
}

// resolveRange turns the positions of seek into block numbers against the
// ledger height at request time, with Fabric's meanings: oldest is block 0,
// newest the last block, next_commit the block not yet written. A start
// beyond the next block is NOT_FOUND; the next block itself is waited for.
func resolveRange(seek *orderer.SeekInfo, height uint64) (seekRange, common.Status, error) {
	if seek.Start == nil || seek.Stop == nil {
		return seekRange{}, common.Status_BAD_REQUEST, errors.New("seek info: start and stop are required")
	}
	newest := uint64(0)
	if height > 0 {
		newest = height - 1
	}
	var r seekRange
	switch p := seek.Start.Type.(type) {
	case *orderer.SeekPosition_Oldest:
		r.start = 0
	case *orderer.SeekPosition_Newest:
		r.start = newest
	case *orderer.SeekPosition_NextCommit:
		r.start = height
	case *orderer.SeekPosition_Specified:
		if p.Specified == nil {
			return seekRange{}, common.Status_BAD_REQUEST, errors.New("seek info: start.specified: missing")
		}
		r.start = p.Specified.Number
		if r.start > height {
			return seekRange{}, common.Status_NOT_FOUND, fmt.Errorf("seek info: start %d is beyond the next block %d", r.start, height)
		}
	default:
		return seekRange{}, common.Status_BAD_REQUEST, errors.New("seek info: start: no position set")
	}

	switch p := seek.Stop.Type.(type) {
	case *orderer.SeekPosition_Oldest:
		r.stop = r.start
	case *orderer.SeekPosition_Newest:
		// newest..newest is exactly one block even if another one is
		// appended meanwhile.
		if proto.Equal(seek.Start, seek.Stop) {
			r.stop = r.start
		} else {
			r.stop = newest
		}
	case *orderer.SeekPosition_NextCommit:
		// Fabric leaves this case undefined; the block being committed next
		// is the only reading that ends.
		r.stop = height
	case *orderer.SeekPosition_Specified:
		if p.Specified == nil {
			return seekRange{}, common.Status_BAD_REQUEST, errors.New("seek info: stop.specified: missing")
		}
		r.stop = p.Specified.Number
	default:
		return seekRange{}, common.Status_BAD_REQUEST, errors.New("seek info: stop: no position set")
	}
	if r.stop < r.start {
		return seekRange{}, common.Status_BAD_REQUEST, fmt.Errorf("seek info: stop %d is before start %d", r.stop, r.start)
	}
	return r, common.Status_SUCCESS, nil
}
