package domain

import (
	"errors"
	"testing"
)

func defaultReference() *Reference {
	ref := &Reference{}
	for _, p := range DefaultReferenceEvents() {
		ref.Apply(p)
	}
	return ref
}

// validBaseline is 2005's pension and work-injury figures of 360702, in force from 2006-01-01.
func validBaseline() Baseline {
	return Baseline{EffectiveFrom: MustDate("2006-01-01"), Year: 2005, Counties: map[string]map[Insurance]BaselineFigures{
		"360702": {
			Pension:    {Insured: 80, ShouldInsure: 100, PaidInsured: 60, DueFen: 1000000, CollectedFen: 900000},
			WorkInjury: {Insured: 10, ShouldInsure: 100, PaidInsured: 10, DueFen: 5000, CollectedFen: 5000},
		},
	}}
}

func TestABaselineIsRefusedNamingTheFieldAtFault(t *testing.T) {
	ref := defaultReference()
	tests := []struct {
		name   string
		change func(b *Baseline)
		field  string // "" when it is accepted
	}{
		{"a valid baseline is accepted", func(b *Baseline) {}, ""},
		{"a county may give some insurances only", func(b *Baseline) { delete(b.Counties["360702"], WorkInjury) }, ""},
		{"a part equal to its whole is accepted (rates of 1)", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{Insured: 5, ShouldInsure: 5, PaidInsured: 5, DueFen: 7, CollectedFen: 7}
		}, ""},
		{"a county without figures of its own is accepted (all 0)", func(b *Baseline) {
			b.Counties["360782"] = map[Insurance]BaselineFigures{Pension: {}}
		}, ""},
		{"the effective date is required", func(b *Baseline) { b.EffectiveFrom = 0 }, "effective_from"},
		{"the year must be from 1990", func(b *Baseline) { b.Year = 1989 }, "year"},
		{"a year's year-end figures are not in force within the year", func(b *Baseline) { b.EffectiveFrom = MustDate("2005-12-31") }, "effective_from"},
		{"at least one county is required", func(b *Baseline) { b.Counties = nil }, "counties"},
		{"an unknown county is refused", func(b *Baseline) { b.Counties["360799"] = map[Insurance]BaselineFigures{Pension: {}} }, "counties.360799"},
		{"a county with no insurance is refused", func(b *Baseline) { b.Counties["360721"] = map[Insurance]BaselineFigures{} }, "counties.360721"},
		{"an unknown insurance is refused", func(b *Baseline) { b.Counties["360702"]["pensions"] = BaselineFigures{} }, "counties.360702.pensions"},
		{"a negative count is refused", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{Insured: -1, ShouldInsure: 100}
		}, "counties.360702.pension.insured"},
		{"a negative amount is refused", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{DueFen: -5}
		}, "counties.360702.pension.due_fen"},
		{"more insured than should be insured is refused", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{Insured: 101, ShouldInsure: 100}
		}, "counties.360702.pension.insured"},
		{"more paid in full than insured is refused", func(b *Baseline) {
			b.Counties["360702"][WorkInjury] = BaselineFigures{Insured: 10, ShouldInsure: 100, PaidInsured: 11}
		}, "counties.360702.work_injury.paid_insured"},
		{"more collected than due is refused", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{DueFen: 100, CollectedFen: 101}
		}, "counties.360702.pension.collected_fen"},
		{"an amount above the ledger's bound is refused", func(b *Baseline) {
			b.Counties["360702"][Pension] = BaselineFigures{DueFen: MaxFen + 1}
		}, "counties.360702.pension.due_fen"},
		{"a source with no visible character is refused", func(b *Baseline) { b.Source = "\u200b" }, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validBaseline()
			tt.change(&b)
			err := CheckReference(BaselineSet{Baseline: b}, ref)
			var de *Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field == "":
			case !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != tt.field:
				t.Fatalf("got %v, want invalid naming %s", err, tt.field)
			}
		})
	}
}

func TestBaselineOnIsTheLatestYearBeforeTheDatesInForceOnIt(t *testing.T) {
	ref := defaultReference()
	version := func(year int, from string, source string) BaselineSet {
		b := validBaseline()
		b.Year, b.EffectiveFrom, b.Source = year, MustDate(from), source
		return BaselineSet{Baseline: b}
	}
	for _, p := range []BaselineSet{
		version(2005, "2006-01-01", "2005 first"),
		version(2005, "2006-06-01", "2005 corrected"),
		version(2006, "2007-02-01", "2006"),
		version(2005, "2006-06-01", "2005 corrected again, same date"),
	} {
		if err := CheckReference(p, ref); err != nil {
			t.Fatal(err)
		}
		ref.Apply(p)
	}
	tests := []struct {
		name, asOf, want string // want: the source of the version read, "" for none
	}{
		{"none before the first is in force", "2005-12-31", ""},
		{"the first version from its date", "2006-03-31", "2005 first"},
		{"a later version replaces it from its own date", "2006-06-01", "2005 corrected again, same date"},
		{"of two versions of one date, the one recorded last", "2006-12-31", "2005 corrected again, same date"},
		{"a year's baseline is read in later years until a later year's is in force", "2007-01-31", "2005 corrected again, same date"},
		{"the latest year before the date's year", "2007-02-01", "2006"},
		{"the latest year stays in force in the years after", "2008-06-30", "2006"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := ref.BaselineOn(MustDate(tt.asOf))
			if ok != (tt.want != "") || b.Source != tt.want {
				t.Errorf("as of %s: %q (%v), want %q", tt.asOf, b.Source, ok, tt.want)
			}
		})
	}
}
