package projections

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A county's and the city's sums of payers' amounts that would pass int64 (late fees accrued to
// 2199 on arrears at the most a line may hold, over many payers) count as the largest amount,
// never wrap to a negative one.
func TestACountysMoneySumsSaturateRatherThanWrap(t *testing.T) {
	big := domain.Fen(math.MaxInt64/2 + 1)
	s := share{employers: 1, lateFee: big, arrearsPriorYears: big, recovered: big}
	s.insurances[0].ArrearsPriorYearsFen, s.insurances[0].CumulativeDueFen = big, big
	county := newFigures()
	county.addShare(&s)
	county.addShare(&s)
	city := newFigures()
	city.add(county)
	city.add(county)
	for name, f := range map[string]*Figures{"county": county, "city": city} {
		pension := f.Insurances[domain.Pension]
		for field, got := range map[string]domain.Fen{"late_fee_fen": f.LateFeeFen, "arrears_prior_years_fen": f.ArrearsPriorYearsFen,
			"recovered_fen": f.RecoveredFen, "pension arrears_prior_years_fen": pension.ArrearsPriorYearsFen,
			"pension cumulative_due_fen": pension.CumulativeDueFen} {
			if got != math.MaxInt64 {
				t.Errorf("%s %s: %d, want the largest amount %d", name, field, got, domain.Fen(math.MaxInt64))
			}
		}
	}
	if city.Employers != 4 {
		t.Errorf("the city counts %d payers, want 4", city.Employers)
	}
}

// The live report adds up payers' shares summed by ranges of ids (liveChunks) only where that
// gives what adding each share in id order gives: with amounts that saturate, it does, the
// flagged payers in id order; a negative amount anywhere makes the ranges say they do not.
func TestRangesOfSharesAddUpAsEachShareDoes(t *testing.T) {
	big := domain.Fen(math.MaxInt64/3 + 1)
	parts := map[string]contribution{}
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("%02x%06d", i%7*37, i) // several payers a range, out of order
		s := share{county: []string{"360702", "360721"}[i%2], segments: segmentSetOf(domain.Segments[i%3]), employers: 1, lateFee: big, recovered: domain.Fen(i)}
		s.insurances[0].CumulativeDueFen = big
		s.flags = []Flag{{Kind: FlagBaseBelowFloor, EmployerID: id}}
		parts[id] = contribution{s}
		ids = append(ids, id)
	}
	q := Query{AsOf: domain.MustDate("2006-12-31"), Period: domain.MustPeriod("2006-11")}
	ref := defaultReference()
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	chunks := newLiveChunks(sorted)
	if chunks.sum(parts); !chunks.exact {
		t.Fatal("the ranges say a share holds a negative amount; none does")
	}
	same := func(what string) {
		t.Helper()
		var ordered []contribution
		for _, id := range sorted {
			ordered = append(ordered, parts[id])
		}
		for _, seg := range []domain.Segment{"", domain.Segments[1]} {
			want := aggregate(ref, q, 1, ordered, seg)
			got := aggregateShares(ref, q, 1, seg, chunks.shares(segmentSetOf(seg), parts))
			a, _ := json.Marshal([]any{got, got.Counties[0].EmployerFlags, got.Counties[1].EmployerFlags})
			b, _ := json.Marshal([]any{want, want.Counties[0].EmployerFlags, want.Counties[1].EmployerFlags})
			if string(a) != string(b) {
				t.Errorf("%s, segment %q: the ranges added up give\n%s\nwant\n%s", what, seg, a, b)
			}
		}
	}
	same("amounts that saturate")
	// The last of its county in id order, in a range with one other: added one at a time, its
	// county's saturated late fee comes down by big; summed in ranges, its range's is 0.
	p := parts[ids[27]]
	p[0].recovered, p[0].lateFee = -1, -big
	chunks.changed(ids[27], false)
	if chunks.sum(parts); chunks.exact {
		t.Error("a share holds a negative amount, and the ranges say adding them up gives what adding each share does")
	}
	same("a negative amount, each share added")
}

// A series' sums (keptSeries) refuse a negative amount, and a sum past int64, rather than keep
// sums that would differ from Ledger.Series's; what was added is taken back exactly.
func TestASeriesSumRefusesANegativeAmountOrOnePastInt64(t *testing.T) {
	var a domain.Fen = 10
	if addExact(&a, -1, false) || addExact(&a, -1, true) {
		t.Error("a negative amount was added")
	}
	if !addExact(&a, math.MaxInt64-10, false) || a != math.MaxInt64 {
		t.Errorf("the largest amount was not added: %d", a)
	}
	if addExact(&a, 1, false) || a != math.MaxInt64 {
		t.Errorf("a sum past int64 was kept: %d", a)
	}
	if !addExact(&a, math.MaxInt64-10, true) || a != 10 {
		t.Errorf("taken back, the sum is %d, want 10", a)
	}
}

// A report's county figures are what adding each of the county's shares in order gives, every
// field (summing them as shares first must change nothing, saturating and negative amounts
// too); a group's and the city's flagged payers are their counties', in order.
func TestACountysFiguresAreItsSharesAddedInOrder(t *testing.T) {
	big := domain.Fen(math.MaxInt64/3 + 1)
	counties := []string{"360702", "360721", "360722"}
	var shares []share
	for i := range 30 {
		s := share{county: counties[i%3], segments: segmentSetOf(domain.Segments[i%2]), employers: 1, contracts: int64(i % 2),
			arrearsCurrentYear: big, arrearsPriorYears: domain.Fen(i), recovered: domain.Fen(i * 3), lateFee: big,
			priorYearsRecovered: domain.Fen(i * 5), fieldWork: FieldWork{ParkPayers: 1, Closed: int64(i % 2), RegisteredInsured: 1}}
		if i == 16 {
			s.lateFee, s.recovered = -big, -7 // the county's late fee saturates, then comes down
		}
		for k := range s.insurances {
			s.insurances[k] = insuranceCounts{Insured: int64(k + i), ShouldInsure: 2, PaidInsured: 1, PeriodDueFen: big,
				PeriodCollectedFen: domain.Fen(k), CumulativeDueFen: domain.Fen(i), YearCollectedFen: 9}
		}
		s.flags = []Flag{{Kind: FlagBaseBelowFloor, EmployerID: fmt.Sprintf("e%02d", i)}}
		shares = append(shares, s)
	}
	q := Query{AsOf: domain.MustDate("2006-12-31"), Period: domain.MustPeriod("2006-11")}
	ref := defaultReference()
	for _, seg := range []domain.Segment{"", domain.Segments[1]} {
		got := aggregateShares(ref, q, 1, seg, func(add func(*share)) {
			for i := range shares {
				add(&shares[i])
			}
		})
		want := map[string]*Figures{}
		for _, c := range got.Counties {
			want[c.Code] = newFigures()
			want[c.Code].Code, want[c.Code].Name, want[c.Code].NameEN, want[c.Code].Group = c.Code, c.Name, c.NameEN, c.Group
		}
		for i := range shares {
			if s := &shares[i]; s.segments&segmentSetOf(seg) == segmentSetOf(seg) {
				want[s.county].addShare(s)
			}
		}
		if seg == "" {
			setBaselines(ref, q.AsOf, want)
		}
		var cityFlags []Flag
		for _, c := range got.Counties {
			w := want[c.Code]
			w.finish()
			a, _ := json.Marshal([]any{c, c.EmployerFlags})
			b, _ := json.Marshal([]any{w, w.EmployerFlags})
			if string(a) != string(b) {
				t.Errorf("segment %q, county %s: the report gives\n%s\nadding each share gives\n%s", seg, c.Code, a, b)
			}
			cityFlags = append(cityFlags, c.EmployerFlags...)
		}
		if !slices.Equal(got.City.EmployerFlags, cityFlags) {
			t.Errorf("segment %q: the city's flagged payers are %v, want its counties' in order %v", seg, got.City.EmployerFlags, cityFlags)
		}
		for i, g := range got.Groups {
			var flags []Flag
			for _, code := range got.groupCounties[i] {
				flags = append(flags, want[code].EmployerFlags...)
			}
			if !slices.Equal(g.EmployerFlags, flags) {
				t.Errorf("segment %q, group %d: flagged payers %v, want its counties' in order %v", seg, g.Group, g.EmployerFlags, flags)
			}
		}
		if n := len(want[counties[0]].EmployerFlags); n == 0 {
			t.Fatalf("segment %q: no share of county %s was added", seg, counties[0])
		}
	}
}

// defaultReference is the reference data a ledger starts with (domain.DefaultReferenceEvents).
func defaultReference() *domain.Reference {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	return ref
}
