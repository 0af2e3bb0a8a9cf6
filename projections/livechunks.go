package projections

import (
	"slices"
	"strings"
)

// liveChunks keeps the live report's contributions summed by ranges of employer ids, those
// sharing their first two bytes (256 ranges of the ids' hex). A write changes its employer's
// range only, and the report adds up the ranges' sums rather than every employer's share: in id
// order, as aggregate adds the shares, since a range's ids all sort before the next range's.
type liveChunks struct {
	byKey map[string]*liveChunk
	order []*liveChunk // by key
	// exact says adding up the ranges' sums gives the report that adding every share in id
	// order would: no share holds a negative amount (sum).
	exact bool
}

type liveChunk struct {
	key string
	ids []string     // sorted
	sum contribution // a share for each county, summed in id order
	// bySegment holds, once a segment's report asked for it, the sum of the shares of the
	// segment's payers, by the segment's set.
	bySegment map[segmentSet]contribution
	dirty     bool // an employer's contribution changed since sum was made
	// negative says an employer's share holds a negative amount: Fen.Plus, which stops at
	// int64's limits, may then give another sum in ranges than one share at a time.
	negative bool
}

func chunkKey(id string) string { return id[:min(2, len(id))] }

// newLiveChunks groups ids, sorted, into ranges, each to be summed.
func newLiveChunks(ids []string) *liveChunks {
	c := &liveChunks{byKey: map[string]*liveChunk{}}
	for _, id := range ids {
		k := c.chunk(id)
		k.ids = append(k.ids, id)
	}
	return c
}

// chunk is id's range, added (empty, to be summed) if it has none.
func (c *liveChunks) chunk(id string) *liveChunk {
	key := chunkKey(id)
	if k := c.byKey[key]; k != nil {
		return k
	}
	k := &liveChunk{key: key, dirty: true}
	c.byKey[key] = k
	i, _ := slices.BinarySearchFunc(c.order, key, func(x *liveChunk, key string) int { return strings.Compare(x.key, key) })
	c.order = slices.Insert(c.order, i, k)
	return k
}

// changed marks id's range to be summed again; added says id is new to it.
func (c *liveChunks) changed(id string, added bool) {
	k := c.chunk(id)
	k.dirty = true
	if added {
		if i, found := slices.BinarySearch(k.ids, id); !found {
			k.ids = slices.Insert(k.ids, i, id)
		}
	}
}

// sum sums again the ranges marked changed from parts, and sets exact.
func (c *liveChunks) sum(parts map[string]contribution) {
	exact := true
	for _, k := range c.order {
		if k.dirty {
			k.sum, k.bySegment, k.negative, k.dirty = nil, nil, false, false
			for _, id := range k.ids {
				p := parts[id]
				for i := range p {
					k.negative = k.negative || p[i].negative()
					k.sum.at(p[i].county).add(&p[i])
				}
			}
		}
		exact = exact && !k.negative
	}
	c.exact = exact
}

// shares gives, in id order, what aggregateShares adds for the payers in the segments of in
// (0: every payer): the ranges' sums (a range's for a segment summed the first time it is
// asked for), or, unless exact, every payer's shares one at a time.
func (c *liveChunks) shares(in segmentSet, parts map[string]contribution) func(add func(*share)) {
	return func(add func(*share)) {
		for _, k := range c.order {
			var sum contribution
			switch {
			case !c.exact:
				for _, id := range k.ids {
					p := parts[id]
					for i := range p {
						add(&p[i])
					}
				}
			case in == 0:
				sum = k.sum
			default:
				sum = k.segmentSum(in, parts)
			}
			for i := range sum {
				add(&sum[i])
			}
		}
	}
}

// segmentSum is the sum of the shares of k's payers in the segments of in; each share of it is
// marked as theirs.
func (k *liveChunk) segmentSum(in segmentSet, parts map[string]contribution) contribution {
	if s, ok := k.bySegment[in]; ok {
		return s
	}
	var s contribution
	for _, id := range k.ids {
		p := parts[id]
		for i := range p {
			if p[i].segments&in == in {
				x := s.at(p[i].county)
				x.segments = in
				x.add(&p[i])
			}
		}
	}
	if k.bySegment == nil {
		k.bySegment = map[segmentSet]contribution{}
	}
	k.bySegment[in] = s
	return s
}
