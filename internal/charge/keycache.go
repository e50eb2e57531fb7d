package charge

import (
	"sync"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// keyCache keeps the billing keys that charges were built from, so that a
// repeated charge on the same key needs no read of it: the attempt's INSERT
// checks the key's version in the same statement (store.BeginAttemptOnKey),
// so a copy made stale by a re-issue, a vault re-wrap or a deletion on any
// node is caught there and read again, never charged. Entries hold the row
// as stored: the PG key stays sealed in memory as on disk.
type keyCache struct {
	mu  sync.Mutex
	max int
	m   map[keyRef]core.BillingKey
}

type keyRef struct {
	merchantID  int64
	customerUID string
}

// defaultKeyCacheSize bounds the memory: a key row is well under 1 KB.
const defaultKeyCacheSize = 10_000

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, m: make(map[keyRef]core.BillingKey)}
}

// get returns a copy the caller may change (OpenKey fills the PG key in).
func (c *keyCache) get(merchantID int64, customerUID string) (core.BillingKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[keyRef{merchantID, customerUID}]
	return k, ok
}

func (c *keyCache) put(k core.BillingKey) {
	k.PGBillingKey = storable(&k).PGBillingKey
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Evict an arbitrary entry (map order is random): a key charged again
		// is read again once, which costs what a miss costs.
		for r := range c.m {
			delete(c.m, r)
			break
		}
	}
	c.m[keyRef{k.MerchantID, k.CustomerUID}] = k
}

func (c *keyCache) drop(merchantID int64, customerUID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, keyRef{merchantID, customerUID})
}

func versionOf(k *core.BillingKey) *store.KeyVersion {
	return &store.KeyVersion{CustomerUID: k.CustomerUID, Version: k.Version}
}
