package domain

import (
	"fmt"
	"maps"
	"slices"
)

// BaselineFigures are one insurance's year-end figures of a county in a baseline year: the
// parts of its three rates, counted as the ledger counts them (DOMAIN.md, "The three rates").
// 参保率 is Insured over ShouldInsure, 缴费率 PaidInsured over Insured, 征缴率 CollectedFen over
// DueFen, the principal due for the year's periods and collected of it (当期).
type BaselineFigures struct {
	Insured      int64 `json:"insured"`
	ShouldInsure int64 `json:"should_insure"`
	PaidInsured  int64 `json:"paid_insured"`
	DueFen       Fen   `json:"due_fen"`
	CollectedFen Fen   `json:"collected_fen"`
}

// Add sums o into b.
func (b *BaselineFigures) Add(o BaselineFigures) {
	b.Insured += o.Insured
	b.ShouldInsure += o.ShouldInsure
	b.PaidInsured += o.PaidInsured
	b.DueFen += o.DueFen
	b.CollectedFen += o.CollectedFen
}

// Baseline is the year-end figures of a baseline year (the plan grows the three rates from
// 2005's, 一(二)), per county and insurance, in force from EffectiveFrom. A version replaces
// the year's earlier versions whole from its date on.
type Baseline struct {
	EffectiveFrom Date   `json:"effective_from"`
	Year          int    `json:"year"`
	Source        string `json:"source,omitempty"`
	// Counties holds each county's figures by code, and in it each insurance's.
	Counties map[string]map[Insurance]BaselineFigures `json:"counties"`
}

// BaselineSet: a new version of a baseline year's figures.
type BaselineSet struct {
	Baseline Baseline `json:"baseline"`
}

func (BaselineSet) EventType() string { return "reference.baseline_set" }

// NormalizeSource checks the free text of b.Source as every write's text is checked and keeps it
// in its stored form (NormalizeText), as a write sends it.
func (b *Baseline) NormalizeSource() error {
	c := &checker{}
	b.Source = c.text("source", b.Source, false, 500)
	return c.err
}

// BaselineOn is the baseline figures reads as of d compare with: of the versions in force on d
// (effective on or before it), those of the latest year before d's year; of these, the one
// effective last (the last recorded among equal dates). False when there is none.
func (r *Reference) BaselineOn(d Date) (Baseline, bool) {
	best := -1
	for i, b := range r.Baselines {
		if b.EffectiveFrom > d || b.Year >= d.Year() {
			continue
		}
		if best < 0 || b.Year > r.Baselines[best].Year || (b.Year == r.Baselines[best].Year && b.EffectiveFrom >= r.Baselines[best].EffectiveFrom) {
			best = i
		}
	}
	if best < 0 {
		return Baseline{}, false
	}
	return r.Baselines[best], true
}

// checkBaseline validates a new version of a baseline, naming the field at fault.
func checkBaseline(b Baseline, ref *Reference) error {
	switch {
	case b.EffectiveFrom == 0:
		return Invalid("effective_from", "is required (YYYY-MM-DD)")
	case b.Year < EarliestDate.Year() || b.Year > 2100:
		return Invalid("year", "%d is not a year from %d", b.Year, EarliestDate.Year())
	case b.EffectiveFrom.Year() <= b.Year:
		return Invalid("effective_from", "%s is within %d: a baseline holds %d's year-end figures, in force from %d-01-01 at the earliest", b.EffectiveFrom, b.Year, b.Year, b.Year+1)
	case len(b.Counties) == 0:
		return Invalid("counties", "at least one county's figures are required")
	}
	if err := checkOpenFrom(b.EffectiveFrom, ref); err != nil { // growth on closed dates is final
		return err
	}
	if c := (&checker{}); c.text("source", b.Source, false, 500) != b.Source || c.err != nil {
		if c.err != nil {
			return c.err
		}
		return Invalid("source", "is not in its stored form (NormalizeSource)")
	}
	if err := oneCodeEach(ref, slices.Sorted(maps.Keys(b.Counties))); err != nil {
		return err
	}
	for _, code := range slices.Sorted(maps.Keys(b.Counties)) {
		if err := ref.CheckCounty("counties."+code, code); err != nil {
			return err
		}
		if len(b.Counties[code]) == 0 {
			return Invalid("counties."+code, "no insurance's figures")
		}
		for _, ins := range slices.Sorted(maps.Keys(b.Counties[code])) {
			f := fmt.Sprintf("counties.%s.%s", code, ins)
			if !ins.Valid() {
				return Invalid(f, "unknown insurance %q: want one of pension, unemployment, medical, work_injury, maternity", ins)
			}
			if err := b.Counties[code][ins].check(f + "."); err != nil {
				return err
			}
		}
	}
	return nil
}

// check refuses negative or implausible figures and parts larger than their whole, so that
// every rate is in [0, 1].
func (x BaselineFigures) check(prefix string) error {
	for _, c := range []struct {
		name string
		v    int64
	}{{"insured", x.Insured}, {"should_insure", x.ShouldInsure}, {"paid_insured", x.PaidInsured}} {
		if c.v < 0 || c.v > MaxCount {
			return Invalid(prefix+c.name, "%d is not a number of persons from 0 to %d", c.v, MaxCount)
		}
	}
	for _, c := range []struct {
		name string
		v    Fen
	}{{"due_fen", x.DueFen}, {"collected_fen", x.CollectedFen}} {
		if c.v < 0 || c.v > MaxFen {
			return Invalid(prefix+c.name, "%d is not an amount of fen from 0 to %d", c.v, int64(MaxFen))
		}
	}
	switch {
	case x.Insured > x.ShouldInsure:
		return Invalid(prefix+"insured", "%d insured is more than the %d who should be insured", x.Insured, x.ShouldInsure)
	case x.PaidInsured > x.Insured:
		return Invalid(prefix+"paid_insured", "%d paid in full is more than the %d insured", x.PaidInsured, x.Insured)
	case x.CollectedFen > x.DueFen:
		return Invalid(prefix+"collected_fen", "%d fen collected is more than the %d fen due", x.CollectedFen, x.DueFen)
	}
	return nil
}
