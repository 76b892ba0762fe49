package webhook

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDeliveryCacheTTLAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewDeliveryCache(3, time.Minute)
	c.now = func() time.Time { return now }
	if c.Add("a") || !c.Add("a") {
		t.Fatal("a: first Add must be new, second a duplicate")
	}
	c.Add("b")
	c.Add("c")
	c.Add("d") // evicts a, the oldest
	if c.Len() != 3 {
		t.Fatalf("len %d", c.Len())
	}
	if c.Add("a") {
		t.Fatal("a was evicted; it must count as new")
	}
	now = now.Add(2 * time.Minute)
	if c.Add("d") {
		t.Fatal("d expired; it must count as new")
	}
	if c.Len() != 1 {
		t.Fatalf("expired entries kept: len %d", c.Len())
	}
}

func TestDeliveryCacheConcurrentSameID(t *testing.T) {
	c := NewDeliveryCache(100, time.Hour)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !c.Add("same") {
				fresh.Add(1)
			}
			c.Add(fmt.Sprint(i))
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Fatalf("%d goroutines saw the id as new, want 1", fresh.Load())
	}
	if c.Len() > 100 {
		t.Fatalf("len %d over the bound", c.Len())
	}
}
