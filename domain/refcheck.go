package domain

import (
	"maps"
	"slices"
	"strings"
)

// CheckReference validates a new version of reference data.
func CheckReference(p Payload, ref *Reference) error {
	switch e := p.(type) {
	case RatesSet:
		if err := checkEffectiveOpen(e.Table.EffectiveFrom, ref); err != nil {
			return err
		}
		if len(e.Table.Lines) == 0 {
			return Invalid("lines", "at least one rate is required")
		}
		for i, l := range e.Table.Lines {
			if !l.Insurance.Valid() {
				return Invalid(at("lines", i, "insurance"), "unknown insurance %q", l.Insurance)
			}
			if l.Payer != PayerUnit && l.Payer != PayerIndividual {
				return Invalid(at("lines", i, "payer"), "unknown payer class %q: want unit or individual", l.Payer)
			}
			if l.RiskClass < 0 || l.RiskClass > 3 {
				return Invalid(at("lines", i, "risk_class"), "%d is not 0 (any) or 1–3", l.RiskClass)
			}
			if l.EmployerBP < 0 || l.EmployeeBP < 0 || l.EmployerBP+l.EmployeeBP > 10000 {
				return Invalid(at("lines", i, "employer_bp"), "rates must be between 0 and 10000 basis points in all")
			}
			// A rate is looked up by its insurance, payer class and risk class, the first line
			// that matches winning: a second line for the same, or a line for any class (0)
			// beside lines for some, would be ignored or hide them.
			for j, o := range e.Table.Lines[:i] {
				if o.Insurance != l.Insurance || o.Payer != l.Payer {
					continue
				}
				if o.RiskClass == l.RiskClass {
					return Invalid(at("lines", i, "risk_class"), "%s for %s payers at risk class %d appears twice (as lines[%d] too)", l.Insurance, l.Payer, l.RiskClass, j)
				}
				if o.RiskClass == 0 || l.RiskClass == 0 {
					return Invalid(at("lines", i, "risk_class"), "%s for %s payers has a line for any risk class (0) and one for class %d (lines[%d]): give one line for every class, or one for each", l.Insurance, l.Payer, max(o.RiskClass, l.RiskClass), j)
				}
			}
		}
	case LateFeeRatesSet:
		if err := checkEffectiveOpen(e.Rate.EffectiveFrom, ref); err != nil {
			return err
		}
		if e.Rate.DailyBP < 0 || e.Rate.DailyBP > 100 {
			return Invalid("daily_bp", "%d is not between 0 and 100 basis points a day", e.Rate.DailyBP)
		}
	case SettingsSet:
		if err := checkEffectiveOpen(e.Settings.EffectiveFrom, ref); err != nil {
			return err
		}
		if e.Settings.DueDay < 1 || e.Settings.DueDay > 28 {
			return Invalid("due_day", "%d is not a day between 1 and 28", e.Settings.DueDay)
		}
		if e.Settings.EnforcementGraceDays < 0 || e.Settings.EnforcementGraceDays > MaxGraceDays {
			return Invalid("enforcement_grace_days", "%d is not between 0 and %d days", e.Settings.EnforcementGraceDays, MaxGraceDays)
		}
	case TargetsSet:
		if err := checkEffective(e.Targets.EffectiveFrom); err != nil {
			return err
		}
		if e.Targets.Year < 1990 || e.Targets.Year > 2100 {
			return Invalid("year", "%d is not a plausible year", e.Targets.Year)
		}
		// A closed year's progress and rankings are final, as its figures are.
		if locked := ref.LockedThrough(); locked != 0 && e.Targets.Year <= locked.Year() {
			return Conflict("year", "%d is in the books closed through %s: its targets are final; reopen the year first (an admin, POST /v1/years/{year}/reopen)", e.Targets.Year, locked)
		}
		// A year's progress is read as of its own dates: targets in force only after it ended
		// would never be read.
		if e.Targets.EffectiveFrom.Year() > e.Targets.Year {
			return Invalid("effective_from", "%s is after %d ended: a year's targets take effect on a date in that year or before it (date a revision on or before %d-12-31 to measure the year's figures against it)",
				e.Targets.EffectiveFrom, e.Targets.Year, e.Targets.Year)
		}
		for k, v := range e.Targets.City {
			if err := checkTarget("city."+k, k, v); err != nil {
				return err
			}
		}
		for code, m := range e.Targets.Counties {
			if err := ref.CheckCounty("counties."+code, code); err != nil {
				return err
			}
			for k, v := range m {
				if err := checkTarget("counties."+code+"."+k, k, v); err != nil {
					return err
				}
			}
		}
		if err := oneCodeEach(ref, slices.Sorted(maps.Keys(e.Targets.Counties))); err != nil {
			return err
		}
	case AverageWageSet:
		if err := checkEffectiveOpen(e.Wage.EffectiveFrom, ref); err != nil {
			return err
		}
		if e.Wage.MonthlyFen <= 0 || e.Wage.MonthlyFen > MaxFen {
			return Invalid("monthly_fen", "must be a positive amount of fen")
		}
	case BaselineSet:
		return checkBaseline(e.Baseline, ref)
	case CountyRedefined:
		return checkRedefinition(e, ref)
	case YearClosed:
		switch {
		case e.Year < EarliestDate.Year() || e.Year > 9999:
			return Invalid("year", "%d is not a year from %d", e.Year, EarliestDate.Year())
		case e.FreezeID == "" || e.Digest == "":
			return Invalid("freeze_id", "a year is closed after a freeze valid through its 31 December")
		}
		return CheckClosable(ref, e.Year)
	case YearReopened:
		if _, err := NewYearReopened(e.Year, e.Reason); err != nil {
			return err
		}
		if !ref.Closed(e.Year) {
			if first, ok := ref.FirstClosed(); ok && e.Year < first {
				return Conflict("year", "%d is not closed of its own: the books before %d, the first closed year, closed with it; reopen %d", e.Year, first, first)
			}
			return Conflict("year", "%d is not closed", e.Year)
		}
		// Writes dated in a reopened year change the figures of the years after it: those are
		// reopened first, the latest first.
		if ref.Closed(e.Year + 1) {
			return Conflict("year", "%d is closed: reopen it before %d (the latest closed year first), as a write dated in %d would change its figures", e.Year+1, e.Year, e.Year)
		}
	default:
		return Invalid("", "not reference data")
	}
	return nil
}

// checkEffectiveOpen is checkEffective, then checkOpenFrom: the date a version of rates, late-fee
// rates, settings or an average wage takes effect.
func checkEffectiveOpen(d Date, ref *Reference) error {
	if err := checkEffective(d); err != nil {
		return err
	}
	return checkOpenFrom(d, ref)
}

// checkOpenFrom refuses rates, late-fee rates, settings, an average wage or a county's new code
// taking effect within the closed books: they would change the closed years' figures, which the views keep compacted
// as they were (an employer's read would show the change, the counties and freezes not).
func checkOpenFrom(d Date, ref *Reference) error {
	if locked := ref.LockedThrough(); d <= locked {
		return Conflict("effective_from", "%s is in the books closed through %s: it would change the closed years' figures; reopen those years first (an admin, POST /v1/years/{year}/reopen)", d, locked)
	}
	return nil
}

// checkEffective checks the date a version of reference data takes effect: given, and within
// the ledger's dates.
func checkEffective(d Date) error {
	switch {
	case d == 0:
		return Invalid("effective_from", "is required (YYYY-MM-DD)")
	case d < EarliestDate:
		return Invalid("effective_from", "%s is before %s, where the ledger's dates begin", d, EarliestDate)
	}
	return nil
}

// MaxGraceDays is the longest enforcement grace a setting may give: ten years, far past any
// rule's, and short enough that dates counted from it stay dates.
const MaxGraceDays = 3650

// checkTarget checks one target: a measure the assessment knows, not negative.
func checkTarget(field, measure string, v int64) error {
	if !slices.Contains(TargetMeasures, measure) {
		return Invalid(field, "%q is not a target measure: want one of %s", Clip(measure, 40), strings.Join(TargetMeasures, ", "))
	}
	if v < 0 {
		return Invalid(field, "is negative")
	}
	return nil
}

// CheckClosable refuses to close year when the books do not allow it: closed already (of its own
// or with a later year), a year before it reopened, or a year between the closed ones and it
// open. It says nothing of the freeze a closing follows.
func CheckClosable(ref *Reference, year int) error {
	if ref.Closed(year) {
		st, _ := ref.Year(year)
		return Conflict("year", "%d is already closed (after freeze %s)", year, st.FreezeID)
	}
	// The closed books stay one run of years: a year reopened before this one would take
	// writes that change its figures after it is closed. Nor does a closing close a reopened
	// year before the first closed one with it: it would close books its freeze never checked.
	for _, st := range ref.Years {
		if st.Year < year && !st.Closed {
			return Conflict("year", "%d was reopened and is open: close it again, after a year-end freeze of its figures now, before %d (closing %d would close the books before it unchecked)",
				st.Year, year, year)
		}
	}
	if first, ok := ref.FirstClosed(); ok {
		// A year before the first closed one closed with it; closing it again would make it
		// the first, and open the years between to writes.
		if year < first {
			return Conflict("year", "%d is before %d, the first closed year: the books before %d closed with it", year, first, first)
		}
		for y := first + 1; y < year; y++ {
			if !ref.Closed(y) {
				return Conflict("year", "%d is open: close it before %d (the closed books are the years from %d on, without a gap)", y, year, first)
			}
		}
	}
	return nil
}

// oneCodeEach refuses codes (sorted) that name one county twice, under its code before and after
// a change (南康市 360782 and 南康区 360703): one of the two would silently win.
func oneCodeEach(ref *Reference, codes []string) error {
	for i, a := range codes {
		for _, b := range codes[i+1:] {
			if ref.SameCounty(a, b) {
				return Invalid("counties."+b, "names the county %s names too (one county under its code before and after a change): give it under one code", a)
			}
		}
	}
	return nil
}
