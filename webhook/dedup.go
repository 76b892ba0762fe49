package webhook

import (
	"container/list"
	"sync"
	"time"
)

// DeliveryCache remembers delivery ids for a while, to refuse replays: a bounded LRU
// whose entries also expire after a TTL. It is safe for concurrent use.
//
// A captured delivery replays with a valid signature (the body is the same), so the
// signature alone cannot tell a replay; the id can, for as long as it is remembered. The
// bound keeps a flood of authentic deliveries from growing memory: when full, the oldest
// id is forgotten first.
type DeliveryCache struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // front = newest; values are *dedupEntry
	byID  map[string]*list.Element
}

type dedupEntry struct {
	id   string
	seen time.Time
}

// NewDeliveryCache returns a cache of at most size ids, each kept for ttl.
func NewDeliveryCache(size int, ttl time.Duration) *DeliveryCache {
	if size <= 0 {
		size = DefaultDedupSize
	}
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	return &DeliveryCache{size: size, ttl: ttl, now: time.Now, order: list.New(), byID: map[string]*list.Element{}}
}

// Add records id and reports whether it was already there (a replay). An expired id counts
// as new. The check and the insert are one step, so two concurrent deliveries of the same
// id cannot both pass.
func (c *DeliveryCache) Add(id string) (duplicate bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.byID[id]; ok {
		ent := e.Value.(*dedupEntry)
		if now.Sub(ent.seen) < c.ttl {
			return true
		}
		c.order.Remove(e)
		delete(c.byID, id)
	}
	// Drop expired entries from the back (oldest first), then the oldest beyond the bound.
	for back := c.order.Back(); back != nil; back = c.order.Back() {
		ent := back.Value.(*dedupEntry)
		if now.Sub(ent.seen) < c.ttl && c.order.Len() < c.size {
			break
		}
		c.order.Remove(back)
		delete(c.byID, ent.id)
	}
	c.byID[id] = c.order.PushFront(&dedupEntry{id: id, seen: now})
	return false
}

// Len returns the number of ids remembered.
func (c *DeliveryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
