package importer

import "testing"

// TestEveryKindReadsTheColumnsItRequires: what a kind requires it reads, so a required column
// is never named among those left aside.
func TestEveryKindReadsTheColumnsItRequires(t *testing.T) {
	for _, kind := range Kinds {
		for _, f := range required[kind] {
			if !takes(kind, f) {
				t.Errorf("a %s file requires %s but is not read from it", kind, f)
			}
		}
	}
}

// A month or a date as a clerk's file writes it reads as YYYY-MM(-DD); what could be another
// month is left as it is, for the check to refuse naming its column.
func TestMonthsAndDatesReadAsAClerkWritesThem(t *testing.T) {
	for _, c := range []struct {
		in, month, date string
	}{
		{"2006/9", "2006-09", "2006/9"},
		{"2006年10月", "2006-10", "2006年10月"},
		{"2006.1", "2006.1", "2006.1"}, // 2006.10 typed into a cell: the number 2006.1
		{"2006.10.5", "2006.10.5", "2006-10-05"},
		{"２００６－０９－０１", "２００６－０９－０１", "2006-09-01"},
	} {
		if got := civil(c.in, civilMonth); got != c.month {
			t.Errorf("month %q reads %q, want %q", c.in, got, c.month)
		}
		if got := civil(c.in, civilDate); got != c.date {
			t.Errorf("date %q reads %q, want %q", c.in, got, c.date)
		}
	}
}
