package msp

import "sync"

// DefaultIdentityCacheSize bounds how many deserialized identities one MSP
// remembers. A parsed certificate with its chain costs a few KB, so the
// bound keeps a flood of distinct identities from growing memory without
// limit while comfortably holding a channel's real clients and nodes.
const DefaultIdentityCacheSize = 4096

// identityCache maps marshaled SerializedIdentity bytes to the outcome of
// deserializing them. Deserialization does not depend on the clock (the
// chain is built as of the certificate's NotBefore), so outcomes, errors
// included, can be reused for the MSP's lifetime; the clock-dependent check
// runs in Validate on every use.
//
// Eviction is generational: entries go into cur; when cur is full it becomes
// old and a fresh cur starts, dropping the previous old. A hit in old moves
// the entry back into cur, so entries in use survive. At most max entries
// are held.
type identityCache struct {
	mu  sync.Mutex
	max int
	cur map[string]cachedIdentity
	old map[string]cachedIdentity
}

type cachedIdentity struct {
	id  *Identity
	err error
}

func newIdentityCache(max int) *identityCache {
	if max < 2 {
		max = 2
	}
	return &identityCache{max: max, cur: map[string]cachedIdentity{}}
}

func (c *identityCache) get(key []byte) (cachedIdentity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[string(key)]; ok {
		return e, true
	}
	e, ok := c.old[string(key)]
	if ok {
		delete(c.old, string(key))
		c.putLocked(string(key), e)
	}
	return e, ok
}

func (c *identityCache) put(key []byte, e cachedIdentity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(string(key), e)
}

func (c *identityCache) putLocked(key string, e cachedIdentity) {
	if _, ok := c.cur[key]; !ok && len(c.cur) >= c.max/2 {
		c.old, c.cur = c.cur, make(map[string]cachedIdentity, c.max/2)
	}
	c.cur[key] = e
}

func (c *identityCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
