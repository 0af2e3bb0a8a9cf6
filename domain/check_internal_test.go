package domain

import (
	"fmt"
	"testing"
)

func TestAtNamesAListElementsField(t *testing.T) {
	for _, i := range []int{0, 1, atKept - 1, atKept, 1000} {
		want := fmt.Sprintf("lines[%d].insurance", i)
		if got := at("lines", i, "insurance"); got != want {
			t.Errorf("at(lines, %d, insurance) = %q, want %q", i, got, want)
		}
		if got := at("lines", i, "insurance"); got != want {
			t.Errorf("at(lines, %d, insurance) the second time = %q, want %q", i, got, want)
		}
	}
	if got, want := at("allocations", 2, "amount_fen"), "allocations[2].amount_fen"; got != want {
		t.Errorf("at = %q, want %q", got, want)
	}
}

func TestACheckOfADeclarationAllocatesNoFieldNames(t *testing.T) {
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	cmd := &FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05", Lines: []DeclareLine{
		{Insurance: "pension", Headcount: "12", WageBaseFen: "960000"},
		{Insurance: "medical", Headcount: "12", WageBaseFen: "960000"},
	}}
	if err := cmd.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// The lines' event slice is reused and the map of insurances seen is the one allocation
	// left; building "lines[i].…" for each field took six more.
	if n := testing.AllocsPerRun(100, func() { _ = cmd.Check(ctx) }); n > 1 {
		t.Errorf("a valid declaration's check allocates %v times, want at most 1", n)
	}
}
