package importer

import "testing"

// What a spreadsheet would run as a formula goes behind a quote; numbers and text stay; a CSV
// file imported reads such a cell as it was before its quote.
func TestSpreadsheetTextQuotesOnlyWhatASpreadsheetWouldRun(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=1+2", "'=1+2"},
		{"+SUM(A1)", "'+SUM(A1)"},
		{"-2+3", "'-2+3"},
		{"@cmd", "'@cmd"},
		{"\t=1", "'\t=1"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"-120", "-120"},
		{"+5", "+5"},
		{"12.5%", "12.5%"},
		{"-0.25", "-0.25"},
		{"", ""},
		{"赣州市=1", "赣州市=1"},
		{"'quoted'", "'quoted'"},
	} {
		if got := SpreadsheetText(c.in); got != c.want {
			t.Errorf("SpreadsheetText(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := unquoted(SpreadsheetText(c.in)); got != c.in {
			t.Errorf("read back, SpreadsheetText(%q) is %q", c.in, got)
		}
	}
}
