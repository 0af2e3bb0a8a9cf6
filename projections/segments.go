package projections

import (
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// segmentSet is a set of segments, one bit each in the order of domain.Segments.
type segmentSet uint16

// segmentsOf is the set of segments a payer of profile p is in.
func segmentsOf(p *domain.Profile) segmentSet {
	var s segmentSet
	for i, seg := range domain.Segments {
		if p.In(seg) {
			s |= 1 << i
		}
	}
	return s
}

// segmentSetOf is the set of segment seg alone: empty for "" (every payer is in it), and a
// set no payer is in for a name that is no segment.
func segmentSetOf(seg domain.Segment) segmentSet {
	switch i := slices.Index(domain.Segments, seg); {
	case seg == "":
		return 0
	case i < 0:
		return 1 << 15
	default:
		return 1 << i
	}
}
