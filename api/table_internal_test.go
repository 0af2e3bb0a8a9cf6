package api

import "testing"

// What a spreadsheet would run as a formula goes behind a quote; numbers and text stay.
func TestSpreadsheetTextQuotesOnlyWhatASpreadsheetWouldRun(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=1+2", "'=1+2"},
		{"+SUM(A1)", "'+SUM(A1)"},
		{"-2+3", "'-2+3"},
		{"@cmd", "'@cmd"},
		{"\t=1", "'\t=1"},
		{"-120", "-120"},
		{"+5", "+5"},
		{"12.5%", "12.5%"},
		{"-0.25", "-0.25"},
		{"", ""},
		{"赣州市=1", "赣州市=1"},
		{"'=1", "'=1"},
	} {
		if got := spreadsheetText(c.in); got != c.want {
			t.Errorf("spreadsheetText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
