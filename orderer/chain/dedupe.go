package chain

import (
	"bytes"
	"crypto/sha256"
)

// envHash identifies an envelope for deduplication and waiting: SHA-256 of
// its marshaled bytes, which is exactly what a block's data entry holds.
func envHash(env []byte) [32]byte { return sha256.Sum256(env) }

// window is a bounded set of the most recently added hashes.
type window struct {
	max  int
	set  map[[32]byte]int // hash -> number of occurrences in ring
	ring [][32]byte
	head int
}

func newWindow(max int) *window {
	return &window{max: max, set: make(map[[32]byte]int)}
}

func (w *window) add(h [32]byte) {
	if len(w.ring) < w.max {
		w.ring = append(w.ring, h)
	} else {
		old := w.ring[w.head]
		if w.set[old]--; w.set[old] <= 0 {
			delete(w.set, old)
		}
		w.ring[w.head] = h
		w.head = (w.head + 1) % w.max
	}
	w.set[h]++
}

func (w *window) has(h [32]byte) bool { return w.set[h] > 0 }

// recentHashes remembers the header hashes of the newest blocks, so the
// leader can check that what it proposed is what got stored without
// reading the store.
type recentHashes struct {
	max    int
	hashes map[uint64][]byte
	lowest uint64
}

func newRecentHashes(max int) *recentHashes {
	return &recentHashes{max: max, hashes: map[uint64][]byte{}}
}

func (r *recentHashes) add(n uint64, h []byte) {
	r.hashes[n] = h
	if len(r.hashes) == 1 || n < r.lowest {
		r.lowest = n
	}
	for len(r.hashes) > r.max {
		delete(r.hashes, r.lowest)
		r.lowest++
	}
}

// matches reports whether block n is known to have header hash h; false
// when it differs or is no longer remembered.
func (r *recentHashes) matches(n uint64, h []byte) bool {
	got, ok := r.hashes[n]
	return ok && bytes.Equal(got, h)
}

// addWaiter registers ch to learn when the envelope with hash h is in a
// committed block. Caller holds c.mu.
func (c *Chain) addWaiter(h [32]byte, ch chan error) {
	c.waiters[h] = append(c.waiters[h], ch)
}

// resolveLocked releases the waiters of envelopes in a stored block.
// Caller holds c.mu.
func (c *Chain) resolveLocked(data [][]byte) {
	for _, d := range data {
		h := envHash(d)
		c.seen.add(h)
		if ws, ok := c.waiters[h]; ok {
			delete(c.waiters, h)
			for _, ch := range ws {
				select {
				case ch <- nil:
				default:
				}
			}
		}
	}
}

// failWaiters fails every waiting submission with err; their callers
// retry (or give up, when halted).
func (c *Chain) failWaiters(err error) {
	c.mu.Lock()
	ws := c.waiters
	c.waiters = map[[32]byte][]chan error{}
	c.mu.Unlock()
	for _, list := range ws {
		for _, ch := range list {
			select {
			case ch <- err:
			default:
			}
		}
	}
}
