package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestChecksRefuseWhatWouldBeSilentlyIgnored: inputs the ledger would otherwise store and then
// ignore, or apply in an order the writer did not choose, are refused naming the field.
func TestChecksRefuseWhatWouldBeSilentlyIgnored(t *testing.T) {
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	pay := func(al ...AllocationInput) *RecordPayment {
		return &RecordPayment{PaidOn: "2006-06-01", AmountFen: "1000", ReceiptNo: "R1", Allocations: al}
	}
	declare := func(lines ...DeclareLine) error {
		return (&FileDeclaration{DeclaredOn: "2006-06-01", Period: "2006-05", Lines: lines}).Check(ctx)
	}
	rates := func(lines ...RateLine) Payload {
		return RatesSet{Table: RateTable{EffectiveFrom: MustDate("2007-01-01"), Lines: lines}}
	}
	pension := RateLine{Insurance: Pension, Payer: PayerUnit, EmployerBP: 2000, EmployeeBP: 800}
	injury := func(class int) RateLine {
		return RateLine{Insurance: WorkInjury, Payer: PayerUnit, RiskClass: class, EmployerBP: 50}
	}
	tests := []struct {
		name  string
		check func() error
		field string // "" when it is accepted
	}{
		{"an allocation to a period that has not begun on the day of payment is refused",
			func() error { return pay(AllocationInput{"pension", "2099-01", "50"}).Check(ctx) }, "allocations[0].period"},
		{"an allocation to the month of payment is accepted (its line may be assessed already)",
			func() error { return pay(AllocationInput{"pension", "2006-06", "50"}).Check(ctx) }, ""},
		{"two allocations to one line are refused",
			func() error {
				return pay(AllocationInput{"pension", "2006-04", "50"}, AllocationInput{"medical", "2006-04", "50"}, AllocationInput{"pension", "2006-04", "50"}).Check(ctx)
			}, "allocations[2].period"},
		{"a wage base declared for a headcount of 0 is refused",
			func() error { return declare(DeclareLine{"pension", "0", "100000"}) }, "lines[0].headcount"},
		{"a line of 0 persons and a base of 0 is accepted",
			func() error { return declare(DeclareLine{"pension", "0", "0"}) }, ""},
		{"a base of 0 for some persons is accepted (the floor's flag tells of it)",
			func() error { return declare(DeclareLine{"pension", "3", "0"}) }, ""},
		{"a rate table with an insurance's line twice is refused",
			func() error { return CheckReference(rates(pension, pension), ctx.Ref) }, "lines[1].risk_class"},
		{"a rate table with a line for any risk class beside one for class 3 is refused",
			func() error { return CheckReference(rates(injury(0), injury(3)), ctx.Ref) }, "lines[1].risk_class"},
		{"a rate table with a line for each risk class is accepted",
			func() error { return CheckReference(rates(pension, injury(1), injury(2), injury(3)), ctx.Ref) }, ""},
		{"reference data taking effect before 1990 is refused",
			func() error {
				return CheckReference(LateFeeRatesSet{Rate: LateFeeRate{EffectiveFrom: MustDate("1980-01-01"), DailyBP: 0}}, ctx.Ref)
			}, "effective_from"},
		{"an average wage taking effect before 1990 is refused",
			func() error {
				return CheckReference(AverageWageSet{Wage: AverageWage{EffectiveFrom: MustDate("1989-12-31"), MonthlyFen: 100000}}, ctx.Ref)
			}, "effective_from"},
		{"reference data taking effect on 1990-01-01 is accepted",
			func() error {
				return CheckReference(LateFeeRatesSet{Rate: LateFeeRate{EffectiveFrom: MustDate("1990-01-01"), DailyBP: 20}}, ctx.Ref)
			}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != tt.field {
				t.Fatalf("got %v, want invalid %s", err, tt.field)
			}
		})
	}
}

// TestAnUnknownCountyIsRefusedNamingTheLedgersCity: a county another city's ledger does not
// hold is refused naming that city, not Ganzhou.
func TestAnUnknownCountyIsRefusedNamingTheLedgersCity(t *testing.T) {
	for _, tt := range []struct{ city, county, want string }{
		{"360700", "360502", "of the 19 county-level units of Ganzhou"},
		{"360500", "360702", "of the 2 county-level units of Xinyu"},
	} {
		c, ok := CityOf(tt.city)
		if !ok {
			t.Fatalf("no city %s", tt.city)
		}
		ref := &Reference{}
		for _, p := range c.ReferenceEvents() {
			ref.Apply(p)
		}
		err := ref.CheckCounty("county", tt.county)
		var de *Error
		if !errors.As(err, &de) || de.Field != "county" || !strings.Contains(de.Detail, tt.want) {
			t.Errorf("ledger %s, county %s: %v, want %q", tt.city, tt.county, err, tt.want)
		}
	}
}

// TestTheClosedBooksStayOneRunOfYears: only the latest closed year may be reopened, and a year
// may be closed only when the years from the first closed one to it are: a year reopened
// between closed ones took writes that changed the figures of the closed year after it.
func TestTheClosedBooksStayOneRunOfYears(t *testing.T) {
	ref := defaultRef()
	closeYear := func(y int) error {
		p := YearClosed{Year: y, FreezeID: fmt.Sprint("f", y), Digest: "d"}
		if err := CheckReference(p, ref); err != nil {
			return err
		}
		ref.Apply(p)
		return nil
	}
	reopen := func(y int) error {
		p, err := NewYearReopened(y, "补录")
		if err != nil {
			return err
		}
		if err := CheckReference(p, ref); err != nil {
			return err
		}
		ref.Apply(p)
		return nil
	}
	for _, y := range []int{2006, 2007, 2008} {
		if err := closeYear(y); err != nil {
			t.Fatalf("close %d: %v", y, err)
		}
	}
	conflict := func(what string, err error) {
		t.Helper()
		var de *Error
		if !errors.As(err, &de) || de.Kind != KindConflict || de.Field != "year" {
			t.Errorf("%s: %v, want a conflict on year", what, err)
		}
	}
	conflict("reopening 2007 while 2008 is closed", reopen(2007))
	if err := reopen(2008); err != nil {
		t.Fatalf("reopening the latest closed year: %v", err)
	}
	if err := reopen(2007); err != nil {
		t.Fatalf("reopening 2007 once 2008 is open: %v", err)
	}
	conflict("closing 2008 while 2007 is open", closeYear(2008))
	if err := closeYear(2007); err != nil {
		t.Fatalf("closing 2007 again: %v", err)
	}
	if err := closeYear(2008); err != nil {
		t.Fatalf("closing 2008 after 2007: %v", err)
	}
	// With every closed year reopened, a later year's closing would close the reopened ones
	// with it, their figures unchecked against a freeze.
	for _, y := range []int{2008, 2007, 2006} {
		if err := reopen(y); err != nil {
			t.Fatalf("reopen %d: %v", y, err)
		}
	}
	conflict("closing 2007 while 2006 is reopened", closeYear(2007))
	if err := closeYear(2006); err != nil {
		t.Fatalf("closing 2006 again: %v", err)
	}
}
