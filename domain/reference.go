package domain

import (
	"reflect"
	"slices"
	"sort"
)

// Insurance is one of the five social insurances.
type Insurance string

// The insurances, in the order payments are allocated to them.
const (
	Pension      Insurance = "pension"
	Unemployment Insurance = "unemployment"
	Medical      Insurance = "medical"
	WorkInjury   Insurance = "work_injury"
	Maternity    Insurance = "maternity"
)

// Insurances lists every insurance in allocation order (pension first).
var Insurances = []Insurance{Pension, Unemployment, Medical, WorkInjury, Maternity}

// Rank is the insurance's position in allocation order, or -1 if unknown.
func (i Insurance) Rank() int { return slices.Index(Insurances, i) }

// canonical returns i as the name the five insurances share. State kept for long (an account's
// lines, a history) holds its insurances so: decoded from an event, each would be a string of
// its own.
func (i Insurance) canonical() Insurance {
	if r := i.Rank(); r >= 0 {
		return Insurances[r]
	}
	return i
}

// Valid reports whether i is one of the five insurances.
func (i Insurance) Valid() bool { return i.Rank() >= 0 }

// ParseInsurance checks s names an insurance.
func ParseInsurance(field, s string) (Insurance, error) {
	i := Insurance(s)
	if !i.Valid() {
		return "", Invalid(field, "unknown insurance %q: want one of pension, unemployment, medical, work_injury, maternity", s)
	}
	return i, nil
}

// County is a county-level unit of Ganzhou as the 2006 plan names it.
type County struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Group  int    `json:"group"`
	// LocalCode is true for a code the ledger assigned because GB/T 2260 has none.
	LocalCode bool `json:"local_code,omitempty"`
}

// Group is a supervision group (督查组) and the counties it watches.
type Group struct {
	N        int      `json:"n"`
	Lead     string   `json:"lead"`
	Counties []string `json:"counties"`
}

// RateLine is one premium rate (费率, the share of the wage base levied; "contribution rate" is
// 缴费率, a figure of the views): for an insurance, a payer class and, for work injury, a
// risk class (0 = any).
type RateLine struct {
	Insurance  Insurance   `json:"insurance"`
	Payer      PayerClass  `json:"payer"`
	RiskClass  int         `json:"risk_class,omitempty"`
	EmployerBP BasisPoints `json:"employer_bp"`
	EmployeeBP BasisPoints `json:"employee_bp"`
}

// PayerClass separates units (enterprises, institutions) from individual payers, whose rates differ.
type PayerClass string

// Payer classes.
const (
	PayerUnit       PayerClass = "unit"
	PayerIndividual PayerClass = "individual"
)

// RateTable is a version of the premium rates, in force from EffectiveFrom.
type RateTable struct {
	EffectiveFrom Date       `json:"effective_from"`
	Lines         []RateLine `json:"lines"`
}

// LateFeeRate is the daily late-fee rate in force from EffectiveFrom (20 bp = 0.2% per day).
type LateFeeRate struct {
	EffectiveFrom Date        `json:"effective_from"`
	DailyBP       BasisPoints `json:"daily_bp"`
	Basis         string      `json:"basis,omitempty"`
}

// Settings are the collection settings in force from EffectiveFrom.
type Settings struct {
	EffectiveFrom Date `json:"effective_from"`
	// DueDay is the day of the month after the period by which contributions are due.
	DueDay int `json:"due_day"`
	// EnforcementGraceDays: arrears this many days past due with no enforcement step raise a flag.
	EnforcementGraceDays int `json:"enforcement_grace_days"`
}

// Targets are a year's city-wide targets and, optionally, their split by county.
type Targets struct {
	EffectiveFrom Date                        `json:"effective_from"`
	Year          int                         `json:"year"`
	City          map[string]int64            `json:"city"`
	Counties      map[string]map[string]int64 `json:"counties,omitempty"`
}

// AverageWage is the local average monthly wage used for the contribution-base floor and cap.
type AverageWage struct {
	EffectiveFrom Date   `json:"effective_from"`
	MonthlyFen    Fen    `json:"monthly_fen"`
	Source        string `json:"source,omitempty"`
}

// Target measure names.
const (
	TargetPensionInsured        = "pension_insured"
	TargetPensionCollectedFen   = "pension_collected_fen"
	TargetUnemploymentInsured   = "unemployment_insured"
	TargetUnemploymentCollected = "unemployment_collected_fen"
	TargetMedicalInsured        = "medical_insured"
	TargetWorkInjuryInsured     = "work_injury_insured"
	TargetMaternityInsured      = "maternity_insured"
	TargetContractsSigned       = "contracts_signed"
)

// TargetMeasures are the measures a target may set.
var TargetMeasures = []string{TargetPensionInsured, TargetPensionCollectedFen, TargetUnemploymentInsured, TargetUnemploymentCollected,
	TargetMedicalInsured, TargetWorkInjuryInsured, TargetMaternityInsured, TargetContractsSigned}

// Reference is the reference data as known at some point of the ledger: every version, so
// that a question about any date gets the answer in force on that date.
type Reference struct {
	Counties     []County      `json:"counties"`
	Groups       []Group       `json:"groups"`
	Rates        []RateTable   `json:"rates"`
	LateFees     []LateFeeRate `json:"late_fees"`
	Settings     []Settings    `json:"settings"`
	Targets      []Targets     `json:"targets"`
	AverageWages []AverageWage `json:"average_wages"`
	// Redefinitions are the county changes (a new code replacing an old one from a date), in
	// the order they were recorded.
	Redefinitions []CountyRedefined `json:"redefinitions,omitempty"`
	// Years lists the years ever closed (年度结转), by year, with their status now.
	Years []YearStatus `json:"years,omitempty"`
	// Baselines are the versions of baseline years' figures, in the order recorded (BaselineOn).
	Baselines []Baseline `json:"baselines,omitempty"`
}

// County returns the county with code, if known: one of the counties defined or a successor
// introduced by a redefinition.
func (r *Reference) County(code string) (County, bool) {
	for _, c := range r.Counties {
		if c.Code == code {
			return c, true
		}
	}
	if x, ok := r.predecessor(code); ok {
		return x.county(), true
	}
	return County{}, false
}

// CheckCounty returns an error naming field unless code is a known county.
func (r *Reference) CheckCounty(field, code string) error {
	if _, ok := r.County(code); !ok {
		e := Invalid(field, "unknown county %q: want a 6-digit code of one of the %d county-level units of %s", code, len(r.Counties), r.cityName())
		e.onReference = true
		return e
	}
	return nil
}

// cityName is the English name of the city whose counties r holds ("the city" when it is not
// one of the cities the ledger knows).
func (r *Reference) cityName() string {
	if len(r.Counties) > 0 && len(r.Counties[0].Code) == 6 {
		if c, ok := CityOf(r.Counties[0].Code[:4] + "00"); ok {
			return c.NameEN
		}
	}
	return "the city"
}

// inForce returns the index of the last version with effective date on or before d, or -1.
func inForce(n int, eff func(int) Date, d Date) int {
	return sort.Search(n, func(i int) bool { return eff(i) > d }) - 1
}

// RatesOn returns the rate table in force on d.
func (r *Reference) RatesOn(d Date) (RateTable, bool) {
	i := inForce(len(r.Rates), func(i int) Date { return r.Rates[i].EffectiveFrom }, d)
	if i < 0 {
		return RateTable{}, false
	}
	return r.Rates[i], true
}

// Rate returns the combined (employer + employee) rate for an insurance, payer class and risk
// class in force on d.
func (r *Reference) Rate(ins Insurance, payer PayerClass, risk int, d Date) (BasisPoints, bool) {
	t, ok := r.RatesOn(d)
	if !ok {
		return 0, false
	}
	for _, l := range t.Lines {
		if l.Insurance == ins && l.Payer == payer && (l.RiskClass == 0 || l.RiskClass == risk) {
			return l.EmployerBP + l.EmployeeBP, true
		}
	}
	return 0, false
}

// SettingsOn returns the settings in force on d (the earliest known ones before any version,
// DefaultSettings without any).
func (r *Reference) SettingsOn(d Date) Settings {
	i := inForce(len(r.Settings), func(i int) Date { return r.Settings[i].EffectiveFrom }, d)
	if i < 0 {
		if len(r.Settings) == 0 {
			return DefaultSettings
		}
		i = 0
	}
	return r.Settings[i]
}

// DueDate is the day contributions for period p are due: the due day of the following month.
func (r *Reference) DueDate(p Period) Date {
	next := p.Next()
	s := r.SettingsOn(next.FirstDay())
	day := min(max(s.DueDay, 1), 28)
	return next.FirstDay().AddDays(day - 1)
}

// AverageWageOn returns the average monthly wage in force on d.
func (r *Reference) AverageWageOn(d Date) (Fen, bool) {
	i := inForce(len(r.AverageWages), func(i int) Date { return r.AverageWages[i].EffectiveFrom }, d)
	if i < 0 {
		return 0, false
	}
	return r.AverageWages[i].MonthlyFen, true
}

// TargetsFor returns the targets for year in force on d: of the versions set for year, the one
// with the latest effective date on or before d (of two with that date, the one set later).
func (r *Reference) TargetsFor(year int, d Date) (Targets, bool) {
	found := -1
	for i, t := range r.Targets {
		if t.Year == year && t.EffectiveFrom <= d && (found < 0 || t.EffectiveFrom >= r.Targets[found].EffectiveFrom) {
			found = i
		}
	}
	if found < 0 {
		return Targets{}, false
	}
	return r.Targets[found], true
}

// LatestTargetsFor returns the targets for year recorded last, whatever their effective date:
// what freezes made before targets were read as of a date (views-23 and before) are ranked on.
func (r *Reference) LatestTargetsFor(year int) (Targets, bool) {
	for i := len(r.Targets) - 1; i >= 0; i-- {
		if r.Targets[i].Year == year {
			return r.Targets[i], true
		}
	}
	return Targets{}, false
}

// FirstTargetsFrom is the earliest effective date of the versions of year's targets, 0 if none.
func (r *Reference) FirstTargetsFrom(year int) Date {
	var first Date
	for _, t := range r.Targets {
		if t.Year == year && (first == 0 || t.EffectiveFrom < first) {
			first = t.EffectiveFrom
		}
	}
	return first
}

// upsert inserts v into a list kept sorted by effective date, replacing a version with the same date.
func upsert[T any](list []T, v T, eff func(T) Date) []T {
	d := eff(v)
	i := sort.Search(len(list), func(i int) bool { return eff(list[i]) >= d })
	if i < len(list) && eff(list[i]) == d {
		list[i] = v
		return list
	}
	return slices.Insert(list, i, v)
}

// Clone returns r with lists and maps of its own: Apply changes r's in place (a version of the
// same date replaces its element, a backdated one is inserted), which a copy sharing them would
// see change under it.
func (r Reference) Clone() Reference {
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Slice && !f.IsNil():
			c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
			reflect.Copy(c, f)
			f.Set(c)
		case f.Kind() == reflect.Map && !f.IsNil():
			c := reflect.MakeMapWithSize(f.Type(), f.Len())
			for it := f.MapRange(); it.Next(); {
				c.SetMapIndex(it.Key(), it.Value())
			}
			f.Set(c)
		}
	}
	return r
}
