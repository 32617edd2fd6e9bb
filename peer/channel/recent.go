package channel

import "sync"

// recentBlockCount is how many recently committed blocks keep their
// transaction filter in memory. Commit-status requests nearly always ask
// about a transaction of one of the last few blocks; older ones are read
// from the store.
const recentBlockCount = 256

// recentFilters remembers the TRANSACTIONS_FILTER of the last
// recentBlockCount committed blocks, so that WaitForTx does not read and
// decode a whole block to learn one byte. Block numbers and their filters
// never change once stored, so an entry can only be stale by being absent.
type recentFilters struct {
	mu   sync.Mutex
	ring [recentBlockCount]recentFilter
}

type recentFilter struct {
	num    uint64
	filter []byte
	set    bool
}

func (r *recentFilters) add(num uint64, filter []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[num%recentBlockCount] = recentFilter{num: num, filter: append([]byte(nil), filter...), set: true}
}

func (r *recentFilters) get(num uint64) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.ring[num%recentBlockCount]
	if !e.set || e.num != num {
		return nil, false
	}
	return e.filter, true
}
