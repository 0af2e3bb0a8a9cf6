package projections

import (
	"cmp"
	"fmt"
	"maps"
	"math/bits"
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// Progress is one measure's progress against its target.
type Progress struct {
	Measure string `json:"measure"`
	Target  int64  `json:"target"`
	Actual  int64  `json:"actual"`
	Rate    Ratio  `json:"rate"`
}

// TargetProgress is the city's and each county's progress against a year's targets.
type TargetProgress struct {
	Year int         `json:"year"`
	AsOf domain.Date `json:"as_of"`
	// Note says why the progress is empty when no targets are recorded for Year; a year never
	// borrows another year's targets.
	Note     string                `json:"note,omitempty"`
	City     []Progress            `json:"city"`
	Counties map[string][]Progress `json:"counties"`
}

// measure is a target measure and the figure that meets it.
type measure struct {
	name   string
	actual func(f *Figures) int64
}

// measures are domain.TargetMeasures (the ones a target may set), in their order, each with the
// figure that meets it.
var measures = func() []measure {
	figure := map[string]func(f *Figures) int64{
		domain.TargetPensionInsured:        func(f *Figures) int64 { return f.Insurances[domain.Pension].Insured },
		domain.TargetPensionCollectedFen:   func(f *Figures) int64 { return int64(f.Insurances[domain.Pension].YearCollectedFen) },
		domain.TargetUnemploymentInsured:   func(f *Figures) int64 { return f.Insurances[domain.Unemployment].Insured },
		domain.TargetUnemploymentCollected: func(f *Figures) int64 { return int64(f.Insurances[domain.Unemployment].YearCollectedFen) },
		domain.TargetMedicalInsured:        func(f *Figures) int64 { return f.Insurances[domain.Medical].Insured },
		domain.TargetWorkInjuryInsured:     func(f *Figures) int64 { return f.Insurances[domain.WorkInjury].Insured },
		domain.TargetMaternityInsured:      func(f *Figures) int64 { return f.Insurances[domain.Maternity].Insured },
		domain.TargetContractsSigned:       func(f *Figures) int64 { return f.ContractsSigned },
	}
	out := make([]measure, len(domain.TargetMeasures))
	for i, name := range domain.TargetMeasures {
		if figure[name] == nil {
			panic("projections: no figure meets target measure " + name) // a measure added to one list only
		}
		out[i] = measure{name, figure[name]}
	}
	return out
}()

// Targets measures a report against the targets of its as-of year. Counties without a target
// split get the city target shared in proportion to their should-insure pension population. A
// year without targets gives an empty progress with a Note.
func Targets(ref *domain.Reference, r *Report) TargetProgress {
	tp := TargetProgress{Year: r.AsOf.Year(), AsOf: r.AsOf, City: []Progress{}, Counties: map[string][]Progress{}}
	t, ok := TargetsOf(ref, r)
	if !ok {
		tp.Note = NoTargetsNote(ref, r)
		return tp
	}
	for _, m := range measures {
		target := t.City[m.name]
		actual := m.actual(r.City)
		tp.City = append(tp.City, Progress{m.name, target, actual, Ratio{actual, target}})
	}
	split := countyTargets(ref, t, r.AsOf)
	shared := make([][]int64, len(measures))
	for i, m := range measures {
		shared[i] = sharedTargets(t.City[m.name], r, split, m.name)
	}
	for j, c := range r.Counties {
		var list []Progress
		for i, m := range measures {
			target, ok := split[c.Code][m.name]
			if !ok {
				target = shared[i][j]
			}
			actual := m.actual(c)
			list = append(list, Progress{m.name, target, actual, Ratio{actual, target}})
		}
		tp.Counties[c.Code] = list
	}
	return tp
}

// sharedTargets shares the city's target of measure among r's counties split sets none for, in
// proportion to their should-insure pension population (by r's counties' order; 0 for one with
// a split). The shares add up to the city's target (its part for those counties): each county
// gets its share rounded down, then the units left one each, largest remainder first (the
// earlier county among equal ones). Before views-23 (a freeze's rules) each was rounded half up
// alone, and the counties' targets could add up to one more or less than the city's.
func sharedTargets(city int64, r *Report, split map[string]map[string]int64, measure string) []int64 {
	out := make([]int64, len(r.Counties))
	cityShould := r.City.Insurances[domain.Pension].ShouldInsure
	if cityShould <= 0 {
		return out
	}
	var sum int64
	var idx []int
	for j, c := range r.Counties {
		if _, ok := split[c.Code][measure]; !ok {
			idx = append(idx, j)
			sum += c.Insurances[domain.Pension].ShouldInsure
		}
	}
	if !(Query{rules: r.rules}).follows(rulesTargetsShared) {
		for _, j := range idx {
			// Cannot fail: all are non-negative and the county's share is at most the city's,
			// so the result is at most the city's target.
			out[j], _ = domain.MulDivHalfUp(city, r.Counties[j].Insurances[domain.Pension].ShouldInsure, cityShould)
		}
		return out
	}
	if sum <= 0 {
		return out
	}
	// What these counties share: the whole city's target when none has a split.
	total, _ := domain.MulDivHalfUp(city, sum, cityShould)
	rems := make([]uint64, len(idx))
	left := total
	for k, j := range idx {
		hi, lo := bits.Mul64(uint64(total), uint64(r.Counties[j].Insurances[domain.Pension].ShouldInsure))
		q, rem := bits.Div64(hi, lo, uint64(sum)) // q <= total: the county's should is at most sum
		out[j], rems[k] = int64(q), rem
		left -= int64(q)
	}
	order := make([]int, len(idx))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for _, k := range order[:int(left)] {
		out[idx[k]]++
	}
	return out
}

// countyTargets is the target split of t with each county under the code in force on asOf
// (Reference.CountyCodeOn): a split set for 南康市 360782 counts for 南康区 360703 after 2013. A
// split naming the code in force itself wins over one naming another code of the same county
// (and among those, the lowest code, so the answer does not depend on map order).
func countyTargets(ref *domain.Reference, t domain.Targets, asOf domain.Date) map[string]map[string]int64 {
	out := make(map[string]map[string]int64, len(t.Counties))
	for _, code := range slices.Sorted(maps.Keys(t.Counties)) {
		now := ref.CountyCodeOn(code, asOf)
		if _, taken := out[now]; !taken || code == now {
			out[now] = t.Counties[code]
		}
	}
	return out
}

// NoTargetsNote says that year has no targets and how to record them.
func NoTargetsNote(ref *domain.Reference, r *Report) string {
	year := r.AsOf.Year()
	if first := ref.FirstTargetsFrom(year); first != 0 {
		return fmt.Sprintf("no targets in force for %d on %s: the first version of them takes effect on %s", year, r.AsOf, first)
	}
	return fmt.Sprintf("no targets recorded for %d: an admin records them with POST /v1/reference/targets {\"year\": %d, …}", year, year)
}

// NoTargetsNoteZH says, as a printed bulletin does, that r's year has no targets to rank on.
func NoTargetsNoteZH(ref *domain.Reference, r *Report) string {
	year := r.AsOf.Year()
	if first := ref.FirstTargetsFrom(year); first != 0 {
		return fmt.Sprintf("%d 年目标任务自 %s 起施行，%s 尚无，本期不排名。", year, first, r.AsOf)
	}
	return fmt.Sprintf("%d 年未录入目标任务，本期不排名。", year)
}

// TargetsOf returns the targets r is measured against, by r's rules: those of its year in force
// on its date; for a freeze of views-23 or before, the version of its year recorded last.
func TargetsOf(ref *domain.Reference, r *Report) (domain.Targets, bool) {
	if (Query{rules: r.rules}).follows(rulesTargetsDated) {
		return ref.TargetsFor(r.AsOf.Year(), r.AsOf)
	}
	return ref.LatestTargetsFor(r.AsOf.Year())
}
