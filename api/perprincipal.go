package api

import "sync"

// perPrincipal counts what each principal holds of a resource (uploads under way, live streams
// open), so that one client's excess holds its own turns and not every clerk's.
type perPrincipal struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more for p, unless p holds limit already.
func (c *perPrincipal) take(p Principal, limit int) bool {
	who := p.actor()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[who] >= limit {
		return false
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[who]++
	return true
}

// put counts one less for p.
func (c *perPrincipal) put(p Principal) {
	who := p.actor()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[who]--; c.n[who] == 0 {
		delete(c.n, who)
	}
}

// total is the count of every principal.
func (c *perPrincipal) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.n {
		n += k
	}
	return n
}
