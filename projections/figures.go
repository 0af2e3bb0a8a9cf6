// Over 500 lines for a reason: the formulas of DOMAIN.md for every rate and figure of a county's
// report are kept side by side, so that each reads against the others.

package projections

import (
	"encoding/json"
	"maps"
	"math/big"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/kuozheng/kuozheng/domain"
)

// Ratio is a rate kept as its integer parts; it is shown as a number in [0, 1], or null when the
// denominator is 0. Rates are never rounded and never used in money arithmetic.
type Ratio struct {
	Num, Den int64
}

// MarshalJSON writes Num/Den as a JSON number, or null.
func (r Ratio) MarshalJSON() ([]byte, error) {
	if r.Den == 0 {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(r.Num)/float64(r.Den), 'g', -1, 64), nil
}

// UnmarshalJSON accepts what MarshalJSON writes; the parts are not recoverable, so it keeps none.
func (r *Ratio) UnmarshalJSON([]byte) error { return nil }

// InsuranceFigures are one insurance's figures for a county (or group, or the city).
type InsuranceFigures struct {
	Insured                  int64      `json:"insured"`
	ShouldInsure             int64      `json:"should_insure"`
	CoverageRate             Ratio      `json:"coverage_rate"`
	PaidInsured              int64      `json:"paid_insured"`
	ContributionRate         Ratio      `json:"contribution_rate"`
	PeriodDueFen             domain.Fen `json:"period_due_fen"`
	PeriodCollectedFen       domain.Fen `json:"period_collected_fen"`
	PeriodCollectionRate     Ratio      `json:"period_collection_rate"`
	CumulativeDueFen         domain.Fen `json:"cumulative_due_fen"`
	CumulativeCollectedFen   domain.Fen `json:"cumulative_collected_fen"`
	CumulativeCollectionRate Ratio      `json:"cumulative_collection_rate"`
	ArrearsCurrentYearFen    domain.Fen `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen     domain.Fen `json:"arrears_prior_years_fen"`
	RecoveredFen             domain.Fen `json:"recovered_fen"`
	// PriorYearsRecoveredFen is the principal of prior years' periods recovered (paid after its
	// due date) from 1 January of the as-of year through as_of; RecoveryRate (清欠率) is it over
	// itself plus ArrearsPriorYearsFen, the prior years' principal still in arrears.
	PriorYearsRecoveredFen domain.Fen `json:"prior_years_recovered_fen"`
	RecoveryRate           Ratio      `json:"recovery_rate"`
	// YearCollectedFen is principal collected for periods of the as-of year (当期征缴, for targets).
	YearCollectedFen domain.Fen `json:"year_collected_fen"`
	// Growth is the three rates against a baseline year's (nil without one: see Growth).
	Growth *Growth `json:"growth,omitempty"`

	// summed counts the figures summed into these (Figures.add), baselined those of them with
	// a baseline of year baseYear, and base sums their baselines: a sum has a baseline only
	// when every part has one.
	summed, baselined, baseYear int
	base                        domain.BaselineFigures
}

// sumGrowth counts o's baseline into the sum f of figures.
func (f *InsuranceFigures) sumGrowth(o *InsuranceFigures) {
	f.summed++
	if o.Growth == nil {
		return
	}
	if f.baselined == 0 {
		f.baseYear = o.Growth.BaselineYear
	}
	if o.Growth.BaselineYear == f.baseYear {
		f.baselined++
		f.base.Add(o.Growth.Baseline)
	}
}

// insuranceCounts are the counts of InsuranceFigures an employer's share holds: the live report
// keeps a share of every employer, and the rates, baselines and growth are of sums only.
type insuranceCounts struct {
	Insured, ShouldInsure, PaidInsured                     int64
	PeriodDueFen, PeriodCollectedFen                       domain.Fen
	CumulativeDueFen, CumulativeCollectedFen               domain.Fen
	ArrearsCurrentYearFen, ArrearsPriorYearsFen            domain.Fen
	RecoveredFen, PriorYearsRecoveredFen, YearCollectedFen domain.Fen
}

func (f *InsuranceFigures) addCounts(o *insuranceCounts) {
	c := f.counts()
	c.add(o)
	f.Insured, f.ShouldInsure, f.PaidInsured = c.Insured, c.ShouldInsure, c.PaidInsured
	f.PeriodDueFen, f.PeriodCollectedFen = c.PeriodDueFen, c.PeriodCollectedFen
	f.CumulativeDueFen, f.CumulativeCollectedFen = c.CumulativeDueFen, c.CumulativeCollectedFen
	f.ArrearsCurrentYearFen, f.ArrearsPriorYearsFen = c.ArrearsCurrentYearFen, c.ArrearsPriorYearsFen
	f.RecoveredFen, f.PriorYearsRecoveredFen, f.YearCollectedFen = c.RecoveredFen, c.PriorYearsRecoveredFen, c.YearCollectedFen
}

func (f *InsuranceFigures) add(o *InsuranceFigures) {
	c := o.counts()
	f.addCounts(&c)
}

func (f *InsuranceFigures) counts() insuranceCounts {
	return insuranceCounts{f.Insured, f.ShouldInsure, f.PaidInsured, f.PeriodDueFen, f.PeriodCollectedFen,
		f.CumulativeDueFen, f.CumulativeCollectedFen, f.ArrearsCurrentYearFen, f.ArrearsPriorYearsFen,
		f.RecoveredFen, f.PriorYearsRecoveredFen, f.YearCollectedFen}
}

// add adds o's counts to c's; amounts stop at int64's limits (Fen.Plus). A report adds a share
// of each range and county this way, Figures (addCounts) a county's sum.
func (c *insuranceCounts) add(o *insuranceCounts) {
	c.Insured += o.Insured
	c.ShouldInsure += o.ShouldInsure
	c.PaidInsured += o.PaidInsured
	c.PeriodDueFen = c.PeriodDueFen.Plus(o.PeriodDueFen)
	c.PeriodCollectedFen = c.PeriodCollectedFen.Plus(o.PeriodCollectedFen)
	c.CumulativeDueFen = c.CumulativeDueFen.Plus(o.CumulativeDueFen)
	c.CumulativeCollectedFen = c.CumulativeCollectedFen.Plus(o.CumulativeCollectedFen)
	c.ArrearsCurrentYearFen = c.ArrearsCurrentYearFen.Plus(o.ArrearsCurrentYearFen)
	c.ArrearsPriorYearsFen = c.ArrearsPriorYearsFen.Plus(o.ArrearsPriorYearsFen)
	c.RecoveredFen = c.RecoveredFen.Plus(o.RecoveredFen)
	c.PriorYearsRecoveredFen = c.PriorYearsRecoveredFen.Plus(o.PriorYearsRecoveredFen)
	c.YearCollectedFen = c.YearCollectedFen.Plus(o.YearCollectedFen)
}

// negative reports whether an amount of c is below zero.
func (c *insuranceCounts) negative() bool {
	return min(c.PeriodDueFen, c.PeriodCollectedFen, c.CumulativeDueFen, c.CumulativeCollectedFen, c.ArrearsCurrentYearFen,
		c.ArrearsPriorYearsFen, c.RecoveredFen, c.PriorYearsRecoveredFen, c.YearCollectedFen) < 0
}

func (f *InsuranceFigures) rates() {
	f.CoverageRate = Ratio{f.Insured, f.ShouldInsure}
	f.ContributionRate = Ratio{f.PaidInsured, f.Insured}
	f.PeriodCollectionRate = Ratio{int64(f.PeriodCollectedFen), int64(f.PeriodDueFen)}
	f.CumulativeCollectionRate = Ratio{int64(f.CumulativeCollectedFen), int64(f.CumulativeDueFen)}
	f.RecoveryRate = recoveryRate(f.PriorYearsRecoveredFen, f.ArrearsPriorYearsFen)
	if f.summed > 0 {
		f.Growth = nil
		if f.baselined == f.summed {
			f.Growth = &Growth{BaselineYear: f.baseYear, Baseline: f.base}
		}
	}
	if f.Growth != nil {
		f.Growth.compute(f)
	}
}

// Growth is an insurance's three rates against those of a baseline year (reference data,
// domain.Baseline): the plan asks 参保率, 缴费率 and 征缴率 to grow together (一(二)). The
// baseline's collection rate, its year's collected over due, is set beside the cumulative one
// (the periods of the as-of period's year through it). Growth is the difference of the exact
// rates in basis points, rounded half away from zero, null when either rate is (0 ÷ 0).
type Growth struct {
	BaselineYear             int                    `json:"baseline_year"`
	Baseline                 domain.BaselineFigures `json:"baseline"`
	BaselineCoverageRate     Ratio                  `json:"baseline_coverage_rate"`
	CoverageGrowthBP         *int64                 `json:"coverage_growth_bp"`
	BaselineContributionRate Ratio                  `json:"baseline_contribution_rate"`
	ContributionGrowthBP     *int64                 `json:"contribution_growth_bp"`
	BaselineCollectionRate   Ratio                  `json:"baseline_collection_rate"`
	CollectionGrowthBP       *int64                 `json:"collection_growth_bp"`
	// Synchronised says the three rates grew together: none below its baseline and at least
	// one above it (exactly, before rounding; a rate at 1 in both years cannot grow). Null when
	// a growth is.
	Synchronised *bool `json:"synchronised"`
}

// compute sets the baseline's rates and the growth of now's against them.
func (g *Growth) compute(now *InsuranceFigures) {
	b := &g.Baseline
	g.BaselineCoverageRate = Ratio{b.Insured, b.ShouldInsure}
	g.BaselineContributionRate = Ratio{b.PaidInsured, b.Insured}
	g.BaselineCollectionRate = Ratio{int64(b.CollectedFen), int64(b.DueFen)}
	grew, fell, known := false, false, true
	for _, x := range []struct {
		now, base Ratio
		out       **int64
	}{
		{now.CoverageRate, g.BaselineCoverageRate, &g.CoverageGrowthBP},
		{now.ContributionRate, g.BaselineContributionRate, &g.ContributionGrowthBP},
		{now.CumulativeCollectionRate, g.BaselineCollectionRate, &g.CollectionGrowthBP},
	} {
		bp, sign, ok := growthBP(x.now, x.base)
		*x.out = nil
		if !ok {
			known = false
			continue
		}
		*x.out = &bp
		grew, fell = grew || sign > 0, fell || sign < 0
	}
	g.Synchronised = nil
	if known {
		v := grew && !fell
		g.Synchronised = &v
	}
}

// growthBP is now − base in basis points, rounded half away from zero, and the sign of the
// exact difference; false when either rate is null.
func growthBP(now, base Ratio) (int64, int, bool) {
	if now.Den == 0 || base.Den == 0 {
		return 0, 0, false
	}
	// (now.Num·base.Den − base.Num·now.Den) / (now.Den·base.Den), exactly: the products of
	// amounts in fen may pass int64.
	diff := new(big.Int).Mul(big.NewInt(now.Num), big.NewInt(base.Den))
	diff.Sub(diff, new(big.Int).Mul(big.NewInt(base.Num), big.NewInt(now.Den)))
	den := new(big.Int).Mul(big.NewInt(now.Den), big.NewInt(base.Den))
	num := new(big.Int).Mul(diff, big.NewInt(10000))
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Abs(r).Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(int64(diff.Sign())))
	}
	return q.Int64(), diff.Sign(), true
}

// recoveryRate is 清欠率: prior years' principal recovered in the year over itself plus what is
// still in arrears of it.
func recoveryRate(recovered, arrears domain.Fen) Ratio {
	return Ratio{int64(recovered), int64(recovered + arrears)}
}

// FieldWork is the campaign's field work on a county's payers as of a date: the audit coverage
// of its industrial parks (三(三)、(四)) and the survey's categories (四(一) 分类登记造册).
type FieldWork struct {
	// ParkPayers are the payers in an industrial park (segment park), active and registered;
	// ParkPayersInspected those of them inspected at least once from 1 January of the as-of
	// year through as_of; ParkAuditCoverageRate the second over the first.
	ParkPayers            int64 `json:"park_payers"`
	ParkPayersInspected   int64 `json:"park_payers_inspected"`
	ParkAuditCoverageRate Ratio `json:"park_audit_coverage_rate"`
	// The survey's categories, every payer in the ledger in one: registered and insured (a
	// headcount in any insurance), registered and not insured, found by the survey and not
	// registered, and closed (deregistered, not reinstated).
	RegisteredInsured    int64 `json:"registered_insured"`
	RegisteredNotInsured int64 `json:"registered_not_insured"`
	FoundNotRegistered   int64 `json:"found_not_registered"`
	Closed               int64 `json:"closed"`
}

func (w *FieldWork) add(o *FieldWork) {
	w.ParkPayers += o.ParkPayers
	w.ParkPayersInspected += o.ParkPayersInspected
	w.RegisteredInsured += o.RegisteredInsured
	w.RegisteredNotInsured += o.RegisteredNotInsured
	w.FoundNotRegistered += o.FoundNotRegistered
	w.Closed += o.Closed
}

// fieldWorkOf is a payer's field work as of d, p being its registration facts then.
func fieldWorkOf(e *domain.Employer, p *domain.Profile, d domain.Date) FieldWork {
	var w FieldWork
	registered := e.Registered && e.RegisteredOn <= d
	switch {
	case !e.ActiveOn(d):
		w.Closed = 1
	case !registered:
		w.FoundNotRegistered = 1
	case slices.ContainsFunc(domain.Insurances, func(ins domain.Insurance) bool { return e.EnrolledOn(ins, d) > 0 }):
		w.RegisteredInsured = 1
	default:
		w.RegisteredNotInsured = 1
	}
	if w.Closed == 0 && registered && p.In(domain.SegmentPark) {
		w.ParkPayers = 1
		jan1 := d.YearStart()
		if slices.ContainsFunc(e.Inspected, func(x domain.Date) bool { return jan1 <= x && x <= d }) {
			w.ParkPayersInspected = 1
		}
	}
	return w
}

// Flag is an accountability flag: raised on one employer (with its id), or, in a county's
// figures, the count of employers raising one kind (without an id).
type Flag struct {
	Kind       string `json:"kind"`
	EmployerID string `json:"employer_id,omitempty"`
	Count      int64  `json:"count,omitempty"`
	Detail     string `json:"detail"`
	// An employer's flag also says what it is about, for lists to sort and word it: the money
	// at stake and the day the matter began (zero when the kind has none), and the facts its
	// detail states (FlagFacts).
	AmountFen domain.Fen  `json:"amount_fen,omitempty"`
	Since     domain.Date `json:"since,omitempty"`
	Facts     *FlagFacts  `json:"facts,omitempty"`
}

// Figures are a county's (or group's, or the city's) figures.
type Figures struct {
	Code                  string                                 `json:"code,omitempty"`
	Name                  string                                 `json:"name,omitempty"`
	NameEN                string                                 `json:"name_en,omitempty"`
	Group                 int                                    `json:"group,omitempty"`
	Employers             int64                                  `json:"employers"`
	Insurances            map[domain.Insurance]*InsuranceFigures `json:"insurances"`
	ArrearsCurrentYearFen domain.Fen                             `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen  domain.Fen                             `json:"arrears_prior_years_fen"`
	RecoveredFen          domain.Fen                             `json:"recovered_fen"`
	// PriorYearsRecoveredFen and RecoveryRate are the insurances' together (InsuranceFigures).
	PriorYearsRecoveredFen domain.Fen `json:"prior_years_recovered_fen"`
	RecoveryRate           Ratio      `json:"recovery_rate"`
	LateFeeFen             domain.Fen `json:"late_fee_fen"`
	ContractsSigned        int64      `json:"contracts_signed"`
	// FieldWork is nil only in figures read back from a freeze made before it (format 1).
	FieldWork *FieldWork `json:"field_work,omitempty"`
	// Synchronised is pension's Growth.Synchronised: its three rates grew together against the
	// baseline year's (absent without a baseline, or when a rate of either year is null).
	Synchronised *bool `json:"synchronised,omitempty"`
	// Flags counts the flags of each kind (an employer with two large waivers raises two, and
	// the detail counts waivers; format 2's freezes keep the words they were made with,
	// reportV2); EmployerFlags lists them.
	Flags         []Flag `json:"flags"`
	EmployerFlags []Flag `json:"-"`
	// flagCounts are the flag counts of figures read back from a freeze that were added to
	// these: a freeze keeps each kind's count, not the employers behind it.
	flagCounts map[string]int64
	// recoveryUnheld marks figures that do not hold 清欠率 (HoldsRecovery).
	recoveryUnheld bool
}

func newFigures() *Figures {
	f := &Figures{Insurances: make(map[domain.Insurance]*InsuranceFigures, len(domain.Insurances)), Flags: []Flag{}, FieldWork: &FieldWork{}}
	for _, ins := range domain.Insurances {
		f.Insurances[ins] = &InsuranceFigures{}
	}
	return f
}

func (f *Figures) add(o *Figures) {
	f.Employers += o.Employers
	for ins, x := range o.Insurances {
		f.Insurances[ins].add(x)
		f.Insurances[ins].sumGrowth(x)
	}
	f.ArrearsCurrentYearFen = f.ArrearsCurrentYearFen.Plus(o.ArrearsCurrentYearFen)
	f.ArrearsPriorYearsFen = f.ArrearsPriorYearsFen.Plus(o.ArrearsPriorYearsFen)
	f.RecoveredFen = f.RecoveredFen.Plus(o.RecoveredFen)
	f.PriorYearsRecoveredFen = f.PriorYearsRecoveredFen.Plus(o.PriorYearsRecoveredFen)
	f.LateFeeFen = f.LateFeeFen.Plus(o.LateFeeFen)
	f.ContractsSigned += o.ContractsSigned
	if o.FieldWork != nil && f.FieldWork != nil {
		f.FieldWork.add(o.FieldWork)
	}
	f.EmployerFlags = append(f.EmployerFlags, o.EmployerFlags...)
	if len(o.EmployerFlags) == 0 { // read back from a freeze: its counts are all there is
		for _, fl := range o.Flags {
			if fl.Count > 0 {
				if f.flagCounts == nil {
					f.flagCounts = map[string]int64{}
				}
				f.flagCounts[fl.Kind] += fl.Count
			}
		}
	}
}

// HoldsRecovery reports whether the figures hold 清欠率 and the principal of prior years
// recovered in the year: all but those read back from a freeze made before them (format 1),
// or summed from such figures.
func (f *Figures) HoldsRecovery() bool { return !f.recoveryUnheld }

// rates computes each insurance's rates from its counts, and the recovery rate of them all:
// undefined in figures that do not hold it, not zero.
func (f *Figures) rates() {
	for _, x := range f.Insurances {
		x.rates()
		if !f.HoldsRecovery() {
			x.RecoveryRate = Ratio{}
		}
	}
	f.RecoveryRate = recoveryRate(f.PriorYearsRecoveredFen, f.ArrearsPriorYearsFen)
	if !f.HoldsRecovery() {
		f.RecoveryRate = Ratio{}
	}
	f.Synchronised = nil
	if g := f.Insurances[domain.Pension].Growth; g != nil {
		f.Synchronised = g.Synchronised
	}
	if w := f.FieldWork; w != nil {
		w.ParkAuditCoverageRate = Ratio{w.ParkPayersInspected, w.ParkPayers}
	}
}

// finish computes the rates and counts the flags.
func (f *Figures) finish() {
	f.rates()
	counts := maps.Clone(f.flagCounts)
	if counts == nil {
		counts = map[string]int64{}
	}
	for _, fl := range f.EmployerFlags {
		counts[fl.Kind]++
	}
	f.Flags = []Flag{}
	for _, kind := range FlagKinds {
		if n := counts[kind]; n > 0 {
			f.Flags = append(f.Flags, Flag{Kind: kind, Count: n, Detail: flagCountDetail(kind, n)})
		}
	}
}

// contribution is one employer's share of the figures, split by county: headcounts count where
// the employer is on asOf, a line's money where the employer was on the period's first day, each
// under the code in force on asOf (Reference.CountyCodeOn). The live report keeps one for every
// employer, so it is a few blocks of numbers (most employers have one county), not Figures.
type contribution []share

// share is an employer's part of one county's figures.
type share struct {
	county string
	// segments are the segments the employer is in on the query's date (its every share's).
	segments                              segmentSet
	employers, contracts                  int64
	arrearsCurrentYear, arrearsPriorYears domain.Fen
	recovered, lateFee                    domain.Fen
	priorYearsRecovered                   domain.Fen
	insurances                            [5]insuranceCounts // in domain.Insurances order
	fieldWork                             FieldWork
	flags                                 []Flag
}

// add adds o, a share of the same county, to s: the sum of shares adds to Figures as each of
// them does, in order (addShare), when no amount is negative (Fen.Plus stops at int64's limits).
func (s *share) add(o *share) {
	s.employers += o.employers
	s.contracts += o.contracts
	s.arrearsCurrentYear = s.arrearsCurrentYear.Plus(o.arrearsCurrentYear)
	s.arrearsPriorYears = s.arrearsPriorYears.Plus(o.arrearsPriorYears)
	s.recovered = s.recovered.Plus(o.recovered)
	s.lateFee = s.lateFee.Plus(o.lateFee)
	s.priorYearsRecovered = s.priorYearsRecovered.Plus(o.priorYearsRecovered)
	for i := range s.insurances {
		s.insurances[i].add(&o.insurances[i])
	}
	s.fieldWork.add(&o.fieldWork)
	s.flags = append(s.flags, o.flags...)
}

// negative reports whether an amount of s is below zero.
func (s *share) negative() bool {
	if min(s.arrearsCurrentYear, s.arrearsPriorYears, s.recovered, s.lateFee, s.priorYearsRecovered) < 0 {
		return true
	}
	for i := range s.insurances {
		if s.insurances[i].negative() {
			return true
		}
	}
	return false
}

// at returns the county's share, added if missing; it is valid until the next call.
func (c *contribution) at(county string) *share {
	for i := range *c {
		if (*c)[i].county == county {
			return &(*c)[i]
		}
	}
	*c = append(*c, share{county: county})
	return &(*c)[len(*c)-1]
}

// addShare adds an employer's share to the county's figures.
func (f *Figures) addShare(s *share) {
	f.Employers += s.employers
	for i, ins := range domain.Insurances {
		f.Insurances[ins].addCounts(&s.insurances[i])
	}
	f.ArrearsCurrentYearFen = f.ArrearsCurrentYearFen.Plus(s.arrearsCurrentYear)
	f.ArrearsPriorYearsFen = f.ArrearsPriorYearsFen.Plus(s.arrearsPriorYears)
	f.RecoveredFen = f.RecoveredFen.Plus(s.recovered)
	f.PriorYearsRecoveredFen = f.PriorYearsRecoveredFen.Plus(s.priorYearsRecovered)
	f.LateFeeFen = f.LateFeeFen.Plus(s.lateFee)
	f.ContractsSigned += s.contracts
	f.FieldWork.add(&s.fieldWork)
	f.EmployerFlags = append(f.EmployerFlags, s.flags...)
}

// Query names the figures asked for: the period whose collection is measured, and the business
// date they are taken at.
type Query struct {
	Period domain.Period `json:"period"`
	AsOf   domain.Date   `json:"as_of"`
	// rules is the views' code version (views-N) whose rules count the figures, for a freeze
	// made by an earlier one (FreezeFiguresIn); 0, this build's. layout, when not 0, is the one
	// whose layout they are in (which segments a freeze holds), where rules is another's.
	rules, layout int
}

// rulesWhereSigned is the first code version (views-14) that counts contracts in the county
// and year they were signed and reads the park and risk-class flags' facts as of as_of; before
// it, both followed the payer as it is now (active on as_of, in its county then; registered
// now).
const rulesWhereSigned = 14

// rulesDroppedLines is the first code version (views-15) for which a line that a later
// declaration of its period dropped is no line for 缴费率 (domain.LineState.Dropped); before it,
// such a line, with nothing due, counted its insurance as paid in full.
const rulesDroppedLines = 15

// rulesMiningSegment is the first code version (views-15) whose freezes hold the figures of the
// mining segment (非煤矿山), which DOMAIN.md lists among the plan's segments.
const rulesMiningSegment = 15

// rulesEntryCounty is the first code version (views-16) for which a line of a period begun
// before the payer entered the ledger counts in its county at the end of its entry day (a
// transfer dated on it corrects a registration in the wrong county: domain CountyOfPeriod);
// before it, in the county it registered in.
const rulesEntryCounty = 16

// rulesWaivedInAll is the first code version (views-18) for which a late-fee waiver is over half
// its line's fee by what the line's waivers took in all (employerFlags), not by its own amount.
const rulesWaivedInAll = 18

// rulesAccruedAsNow is the first code version (views-19) for which a late-fee waiver is judged
// against the fee its line accrued by its date as the employer's events now fold (a void or a
// payment recorded since moves it), not as that fee stood when the waiver was decided.
const rulesAccruedAsNow = 19

// rulesDeclarationOn is the first code version (views-22) for which the flag of a base below the
// floor reads the declaration in force on as_of, not the latest if dated by it: a declaration
// dated after as_of hid the one in force then, and moved a past date's count.
const rulesDeclarationOn = 22

// rulesTargetsShared is the first code version (views-23) whose county targets shared from the
// city's add up to it (sharedTargets); before it, each county's share was rounded alone.
const rulesTargetsShared = 23

// rulesTargetsDated is the first code version (views-24) whose targets are those in force on the
// report's date (domain Reference.TargetsFor); before it, the version recorded last for the year,
// whatever its effective date.
const rulesTargetsDated = 24

// lineCounty is the county a line of period p of e counts in, by q's rules.
func lineCounty(e *domain.Employer, p domain.Period, q Query) string {
	if q.follows(rulesEntryCounty) {
		return e.CountyOfPeriod(p)
	}
	return e.CountyOn(p.FirstDay())
}

// follows reports whether q's figures are counted by the rules from code version v on.
func (q Query) follows(v int) bool { return q.rules == 0 || q.rules >= v }

// holds reports whether q's figures are in the layout of code version v or later.
func (q Query) holds(v int) bool {
	if q.layout != 0 {
		return q.layout >= v
	}
	return q.follows(v)
}

// statementLines are arrays of lines employerFigures made a statement in, kept for the next: the
// figures make a statement of every payer.
var statementLines = sync.Pool{New: func() any { return new([]domain.LineState) }}

// employerFigures computes one employer's contribution to the figures of q.
func employerFigures(id string, e *domain.Employer, ref *domain.Reference, q Query) contribution {
	var c contribution
	if !e.EnteredBy(q.AsOf) {
		return c
	}
	active := e.ActiveOn(q.AsOf)
	home := ref.CountyCodeOn(e.CountyOn(q.AsOf), q.AsOf)
	hf := c.at(home)
	buf := statementLines.Get().(*[]domain.LineState)
	st := e.Account.StatementInto(*buf, q.AsOf, ref.LateFees)
	defer func() {
		*buf = st.Lines
		statementLines.Put(buf)
	}()
	var paidUp [5]bool // the period's lines with nothing outstanding, in domain.Insurances order
	for _, l := range st.Lines {
		if r := l.Insurance.Rank(); l.Period == q.Period && l.OutstandingFen == 0 && r >= 0 && !(l.Dropped && q.follows(rulesDroppedLines)) {
			paidUp[r] = true
		}
	}
	if active {
		hf.employers = 1
		workforce := e.WorkforceOn(q.AsOf)
		for i, ins := range domain.Insurances {
			x := &hf.insurances[i]
			x.Insured = e.EnrolledOn(ins, q.AsOf)
			if e.Kind.Carries(ins) {
				x.ShouldInsure = max(workforce, x.Insured)
			}
			if paidUp[i] {
				x.PaidInsured = x.Insured
			}
		}
	}
	// Contracts count where and when they were signed (as_of's year, through as_of): a payer that
	// moved or closed since keeps them with the county it signed them in, as its lines do.
	from := q.AsOf.YearStart()
	for _, k := range e.History.Contracts {
		switch {
		case k.On < from || k.On > q.AsOf:
		case q.follows(rulesWhereSigned):
			c.at(ref.CountyCodeOn(e.CountyOn(k.On), q.AsOf)).contracts += k.Count
		case active:
			c.at(home).contracts += k.Count
		}
	}
	for _, l := range st.Lines {
		county := ref.CountyCodeOn(lineCounty(e, l.Period, q), q.AsOf)
		f := c.at(county)
		x := &f.insurances[l.Insurance.Rank()]
		if l.Period == q.Period {
			x.PeriodDueFen = x.PeriodDueFen.Plus(l.DueFen)
			x.PeriodCollectedFen = x.PeriodCollectedFen.Plus(l.PaidFen)
		}
		if l.Period.Year() == q.Period.Year() && l.Period <= q.Period {
			x.CumulativeDueFen = x.CumulativeDueFen.Plus(l.DueFen)
			x.CumulativeCollectedFen = x.CumulativeCollectedFen.Plus(l.PaidFen)
		}
		if l.Period.Year() == q.AsOf.Year() {
			x.YearCollectedFen = x.YearCollectedFen.Plus(l.PaidFen)
		}
		current, prior := l.Arrears(q.AsOf)
		x.ArrearsCurrentYearFen = x.ArrearsCurrentYearFen.Plus(current)
		f.arrearsCurrentYear = f.arrearsCurrentYear.Plus(current)
		x.ArrearsPriorYearsFen = x.ArrearsPriorYearsFen.Plus(prior)
		f.arrearsPriorYears = f.arrearsPriorYears.Plus(prior)
		x.RecoveredFen = x.RecoveredFen.Plus(l.RecoveredFen)
		f.recovered = f.recovered.Plus(l.RecoveredFen)
		f.lateFee = f.lateFee.Plus(l.LateFeeFen)
		if l.Period.Year() < q.AsOf.Year() {
			x.PriorYearsRecoveredFen = x.PriorYearsRecoveredFen.Plus(l.RecoveredInYearFen)
			f.priorYearsRecovered = f.priorYearsRecovered.Plus(l.RecoveredInYearFen)
		}
	}
	// Lines a year-end compaction summed: only their cumulative part (when the period asked is
	// of the latest compacted year) and what was recovered on them still count; nothing of
	// theirs was recovered after the boundary, so in the as-of year.
	for _, x := range st.Settled {
		f := c.at(ref.CountyCodeOn(domain.SettledCounty(x.Group, q.follows(rulesEntryCounty)), q.AsOf))
		ins := &f.insurances[x.Insurance.Rank()]
		if x.Year == q.Period.Year() {
			ins.CumulativeDueFen = ins.CumulativeDueFen.Plus(x.DueFen)
			ins.CumulativeCollectedFen = ins.CumulativeCollectedFen.Plus(x.PaidFen)
		}
		ins.RecoveredFen = ins.RecoveredFen.Plus(x.RecoveredFen)
		f.recovered = f.recovered.Plus(x.RecoveredFen)
	}
	profile := e.ProfileOn(q.AsOf)
	c.at(home).flags = employerFlags(id, e, &profile, ref, q, st)
	c.at(home).fieldWork = fieldWorkOf(e, &profile, q.AsOf)
	in := segmentsOf(&profile)
	for i := range c {
		c[i].segments = in
	}
	return slices.Clip(c)
}

// Report is the figures of every county, group and the city for one query, of every payer or
// of one segment's.
type Report struct {
	Seq    uint64        `json:"seq"`
	AsOf   domain.Date   `json:"as_of"`
	Period domain.Period `json:"period"`
	// Segment is the segment whose payers the figures count ("": every payer).
	Segment  domain.Segment `json:"segment,omitempty"`
	Counties []*Figures     `json:"counties"`
	Groups   []*Figures     `json:"groups"`
	City     *Figures       `json:"city"`
	// Segments holds, in a freeze, the same figures for each segment (domain.Segments order, of
	// those its code version counts: rulesMiningSegment).
	// A freeze stores them as rows of numbers (segmentTable); read back, they are whole again.
	Segments []*SegmentFigures `json:"segments,omitempty"`
	// groupCounties are the codes of the counties each group of Groups sums, in order.
	groupCounties [][]string
	// Ref is the reference data the figures were computed with (read-only): a read of the
	// report names counties and groups and checks scopes by it, not by another copy.
	Ref *domain.Reference `json:"-"`
	// rules is, for a freeze read back, the code version its figures were counted by (Query.rules);
	// what is derived from them (the county targets it is ranked against) follows it. 0: today's.
	rules int
}

// SegmentFigures are the figures of one segment's payers: per county, group and the city.
type SegmentFigures struct {
	Segment  domain.Segment `json:"segment"`
	Counties []*Figures     `json:"counties"`
	Groups   []*Figures     `json:"groups"`
	City     *Figures       `json:"city"`
}

// aggregate sums employers' contributions into a report: of the employers in segment seg
// only, unless seg is "".
func aggregate(ref *domain.Reference, q Query, seq uint64, parts []contribution, seg domain.Segment) *Report {
	return aggregateShares(ref, q, seq, seg, func(add func(*share)) {
		for _, p := range parts {
			for i := range p {
				add(&p[i])
			}
		}
	})
}

// aggregateShares sums the shares each gives, in order, into a report: of the employers in
// segment seg only, unless seg is "".
func aggregateShares(ref *domain.Reference, q Query, seq uint64, seg domain.Segment, each func(add func(*share))) *Report {
	r := &Report{Seq: seq, AsOf: q.AsOf, Period: q.Period, Segment: seg, City: newFigures(), Ref: ref}
	in := segmentSetOf(seg)
	byCode := map[string]*Figures{}
	sums := map[string]*share{}
	for _, c := range ref.CountiesOn(q.AsOf) {
		f := newFigures()
		f.Code, f.Name, f.NameEN, f.Group = c.Code, c.Name, c.NameEN, c.Group
		byCode[c.Code] = f
		sums[c.Code] = &share{county: c.Code}
		r.Counties = append(r.Counties, f)
	}
	// Each county's shares are summed as shares, which add every field as addShare does and
	// in the same order, so the sum is the same (Fen.Plus stops at int64's limits in both);
	// Figures, whose insurances are a map, take the sum once.
	each(func(s *share) {
		if sum := sums[s.county]; sum != nil && s.segments&in == in {
			sum.add(s)
		}
	})
	flagged := 0
	for _, cf := range r.Counties {
		sum := sums[cf.Code]
		flags := sum.flags
		sum.flags = nil
		cf.addShare(sum)
		cf.EmployerFlags = flags // the county's own: share.add copied each share's
		flagged += len(flags)
	}
	if seg == "" { // a baseline is of every payer, not of a segment's
		setBaselines(ref, q.AsOf, byCode)
	}
	for _, g := range ref.GroupsOn(q.AsOf) {
		gf := newFigures()
		gf.Group, gf.Name = g.N, g.Lead
		codes, n := []string{}, 0
		for _, code := range g.Counties {
			if cf := byCode[code]; cf != nil {
				codes = append(codes, code)
				n += len(cf.EmployerFlags)
			}
		}
		gf.EmployerFlags = slices.Grow(gf.EmployerFlags, n) // copied once, not grown county by county
		for _, code := range codes {
			gf.add(byCode[code])
		}
		gf.finish()
		r.Groups = append(r.Groups, gf)
		r.groupCounties = append(r.groupCounties, codes)
	}
	r.City.EmployerFlags = slices.Grow(r.City.EmployerFlags, flagged)
	for _, cf := range r.Counties {
		r.City.add(cf)
		cf.finish()
	}
	r.City.finish()
	r.City.Name = ref.City().Name
	return r
}

// setBaselines gives each county's insurances the baseline in force on asOf (Reference.BaselineOn),
// each county under the code in force on asOf (Reference.CountyCodeOn): a baseline given for
// 南康市 360782 counts for 南康区 360703 after 2013. Figures naming the code in force win over
// figures naming another code of the county (and among those, the lowest code's).
func setBaselines(ref *domain.Reference, asOf domain.Date, byCode map[string]*Figures) {
	b, ok := ref.BaselineOn(asOf)
	if !ok {
		return
	}
	taken := map[string]bool{}
	for _, code := range slices.Sorted(maps.Keys(b.Counties)) {
		now := ref.CountyCodeOn(code, asOf)
		cf := byCode[now]
		if cf == nil || (taken[now] && code != now) {
			continue
		}
		taken[now] = true
		for ins, x := range cf.Insurances {
			x.Growth = nil
			if base, ok := b.Counties[code][ins]; ok {
				x.Growth = &Growth{BaselineYear: b.Year, Baseline: base}
			}
		}
	}
}

// Report computes the figures for q from scratch.
func (l *Ledger) Report(q Query) *Report { return l.SegmentReport(q, "") }

// SegmentReport computes the figures for q of the payers in segment seg ("": every payer) from
// scratch.
func (l *Ledger) SegmentReport(q Query, seg domain.Segment) *Report {
	return aggregate(&l.Ref, q, l.Seq, l.contributions(q), seg)
}

// contributions computes every employer's contribution to the figures of q, in id order.
func (l *Ledger) contributions(q Query) []contribution {
	return l.contributionsOn(q, runtime.GOMAXPROCS(0))
}

// contributionChunk is how many employers' figures a worker of contributionsOn takes at a time.
const contributionChunk = 256

// contributionsOn is contributions computed by up to workers goroutines. An employer's figures
// read only its own views and the reference data, so a report of tens of thousands of payers
// (a rebuild's, a freeze's) need not wait for one core to go through them all.
func (l *Ledger) contributionsOn(q Query, workers int) []contribution {
	ids := l.Employers.IDs()
	parts := make([]contribution, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, (len(ids)+contributionChunk-1)/contributionChunk) {
		wg.Go(func() {
			for {
				start := int(next.Add(contributionChunk)) - contributionChunk
				if start >= len(ids) {
					return
				}
				for i := start; i < min(start+contributionChunk, len(ids)); i++ {
					parts[i] = employerFigures(ids[i], l.Employers.Get(ids[i]), &l.Ref, q)
				}
			}
		})
	}
	wg.Wait()
	return parts
}

// freezeReport is the figures for q of every payer, with those of each segment (Segments).
func (l *Ledger) freezeReport(q Query) *Report {
	parts := l.contributions(q)
	rep := aggregate(&l.Ref, q, l.Seq, parts, "")
	for _, seg := range domain.Segments {
		if seg == domain.SegmentMining && !q.holds(rulesMiningSegment) {
			continue
		}
		s := aggregate(&l.Ref, q, l.Seq, parts, seg)
		rep.Segments = append(rep.Segments, &SegmentFigures{Segment: seg, Counties: s.Counties, Groups: s.Groups, City: s.City})
	}
	return rep
}

// County returns the figures of one county in r.
func (r *Report) County(code string) (*Figures, bool) {
	for _, c := range r.Counties {
		if c.Code == code {
			return c, true
		}
	}
	return nil, false
}

var _ json.Marshaler = Ratio{}

// Sum adds up figures (for a scope of counties) under a name.
func Sum(name string, parts []*Figures) *Figures {
	f := newFigures()
	f.Name = name
	for _, p := range parts {
		f.add(p)
		if p.FieldWork == nil { // read back from a freeze made before field work
			f.FieldWork = nil
		}
		f.recoveryUnheld = f.recoveryUnheld || p.recoveryUnheld
	}
	f.finish()
	return f
}
