package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// day is a date of the first campaign year, 2006.
func day(m, d int) domain.Date { return dateIn(FirstYear, m, d) }

// dateIn is a date the generator knows to exist.
func dateIn(y, m, d int) domain.Date {
	dt, err := domain.DateOf(y, time.Month(m), d)
	if err != nil {
		panic(err)
	}
	return dt
}

// yearEnd is 31 December of y: the business date of the ledger while y is played.
func yearEnd(y int) domain.Date { return dateIn(y, 12, 31) }

func between(r *rand.Rand, lo, hi domain.Date) domain.Date {
	if hi <= lo {
		return lo
	}
	return lo + domain.Date(r.IntN(int(hi-lo)+1))
}

// weekend: Date 1 is Monday 0001-01-01.
func weekend(d domain.Date) bool { return (int(d)+6)%7 >= 5 }

// workday moves d off a weekend, forward if that stays within hi, else backward if that stays
// within lo; offices record business on working days.
func workday(d, lo, hi domain.Date) domain.Date {
	d = min(max(d, lo), hi)
	if !weekend(d) {
		return d
	}
	for f := d + 1; f <= hi && f <= d+2; f++ {
		if !weekend(f) {
			return f
		}
	}
	for b := d - 1; b >= lo && b >= d-2; b-- {
		if !weekend(b) {
			return b
		}
	}
	return d
}

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func weighted[T any](r *rand.Rand, items []T, w func(*T) float64) *T {
	var sum float64
	for i := range items {
		sum += w(&items[i])
	}
	x := r.Float64() * sum
	for i := range items {
		x -= w(&items[i])
		if x < 0 {
			return &items[i]
		}
	}
	return &items[len(items)-1]
}
