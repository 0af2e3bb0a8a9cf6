package domain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDateMatchesTimeEveryDay1900To2100(t *testing.T) {
	day := time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2101, time.January, 1, 0, 0, 0, 0, time.UTC)
	prev := MustDate("1899-12-31")
	for ; day.Before(end); day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		got, err := DateOf(y, m, d)
		if err != nil {
			t.Fatalf("DateOf(%v): %v", day, err)
		}
		if got != prev+1 {
			t.Fatalf("DateOf(%v) = %d, want the day after %d", day, got, prev)
		}
		if gy, gm, gd := got.YMD(); gy != y || gm != m || gd != d {
			t.Fatalf("%d.YMD() = %d-%d-%d, want %v", got, gy, gm, gd, day)
		}
		if s := got.String(); s != day.Format(time.DateOnly) {
			t.Fatalf("String() = %q, want %q", s, day.Format(time.DateOnly))
		}
		if back := MustDate(got.String()); back != got {
			t.Fatalf("MustDate(%q) = %d, want %d", got, back, got)
		}
		if ft := DateFromTime(day); ft != got {
			t.Fatalf("DateFromTime(%v) = %d, want %d", day, ft, got)
		}
		prev = got
	}
}

func TestDateRoundTripsEveryDayOfYears1To9999(t *testing.T) {
	if testing.Short() {
		t.Skip("3.6 million days")
	}
	first, last := MustDate("0001-01-01"), MustDate("9999-12-31")
	for d := first; d <= last; d++ {
		y, m, day := d.YMD()
		back, err := DateOf(y, m, day)
		if err != nil || back != d {
			t.Fatalf("DateOf(%d.YMD()=%d-%d-%d) = %d, %v", d, y, m, day, back, err)
		}
	}
}

func TestDateNumbering(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want Date
	}{
		{"0001-01-01 is day 1 so the zero Date is no date", "0001-01-01", 1},
		{"1970-01-01 is day 719163, as Python's date.toordinal", "1970-01-01", 719163},
		{"9999-12-31 is day 3652059, the last date", "9999-12-31", 3652059},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MustDate(tc.s); got != tc.want {
				t.Errorf("MustDate(%q) = %d, want %d", tc.s, got, tc.want)
			}
		})
	}
}

func TestDateOfLeapYears(t *testing.T) {
	tests := []struct {
		name  string
		y     int
		valid bool
	}{
		{"2000-02-29 exists: 2000 is divisible by 400", 2000, true},
		{"1900-02-29 is rejected: 1900 is a century not divisible by 400", 1900, false},
		{"2004-02-29 exists: 2004 is divisible by 4", 2004, true},
		{"2006-02-29 is rejected: 2006 is not divisible by 4", 2006, false},
		{"2100-02-29 is rejected: 2100 is a century not divisible by 400", 2100, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DateOf(tc.y, time.February, 29)
			if (err == nil) != tc.valid {
				t.Fatalf("DateOf(%d, 2, 29) error = %v, want valid=%v", tc.y, err, tc.valid)
			}
			if march1, _ := DateOf(tc.y, time.March, 1); tc.valid && d.AddDays(1) != march1 {
				t.Errorf("the day after %s is %s, want March 1", d, d.AddDays(1))
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		want    Date
		wantErr string
	}{
		{"2006-05-01 parses", "2006-05-01", dateCivilDays(2006, 5, 1), ""},
		{"2006-04-31 is rejected: April has 30 days", "2006-04-31", 0,
			`"2006-04-31" is not a calendar date: April 2006 has 30 days`},
		{"2006-02-29 is rejected: 2006 is not a leap year", "2006-02-29", 0,
			`"2006-02-29" is not a calendar date: February 2006 has 28 days`},
		{"2006-13-01 is rejected: there is no month 13", "2006-13-01", 0,
			`"2006-13-01" is not a calendar date: month must be 01-12`},
		{"2006-00-01 is rejected: months start at 01", "2006-00-01", 0,
			`"2006-00-01" is not a calendar date: month must be 01-12`},
		{"2006-05-00 is rejected: days start at 01", "2006-05-00", 0,
			`"2006-05-00" is not a calendar date: day must be at least 01`},
		{"0000-01-01 is rejected: years start at 0001", "0000-01-01", 0,
			`"0000-01-01" is not a calendar date: year must be 0001-9999`},
		{"2006-4-1 is rejected: fields must be zero padded", "2006-4-1", 0,
			`"2006-4-1" is not a date: want YYYY-MM-DD`},
		{"2006/04/01 is rejected: separators must be hyphens", "2006/04/01", 0,
			`"2006/04/01" is not a date: want YYYY-MM-DD`},
		{"empty text is rejected: ParseDate has no zero form", "", 0,
			`"" is not a date: want YYYY-MM-DD`},
		{"a trailing time is rejected: dates have no time", "2006-04-01T00:00:00Z", 0,
			`"2006-04-01T00:00:00Z" is not a date: want YYYY-MM-DD`},
		{"+006-04-01 is rejected: only digits, no signs", "+006-04-01", 0,
			`"+006-04-01" is not a date: want YYYY-MM-DD`},
		{"2006-04- 1 is rejected: no spaces", "2006-04- 1", 0,
			`"2006-04- 1" is not a date: want YYYY-MM-DD`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDate(tc.s)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("ParseDate(%q) = %d, %v; want %d", tc.s, got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, want %s", tc.s, err, tc.wantErr)
			}
			var de *DateError
			if !errors.As(err, &de) {
				t.Errorf("ParseDate(%q) error is %T, want *DateError", tc.s, err)
			}
		})
	}
}

func TestDateOfRejects(t *testing.T) {
	tests := []struct {
		name    string
		y, m, d int
		wantErr string
	}{
		{"2006-04-31 is rejected: April has 30 days", 2006, 4, 31,
			`"2006-04-31" is not a calendar date: April 2006 has 30 days`},
		{"month 13 is rejected: DateOf never normalises like time.Date", 2006, 13, 1,
			`"2006-13-01" is not a calendar date: month must be 01-12`},
		{"day 0 is rejected: it is not the last day of the month before", 2006, 5, 0,
			`"2006-05-00" is not a calendar date: day must be at least 01`},
		{"year 10000 is rejected: it has five digits", 10000, 1, 1,
			`"10000-01-01" is not a calendar date: year must be 0001-9999`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DateOf(tc.y, time.Month(tc.m), tc.d)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("DateOf(%d, %d, %d) error = %v, want %s", tc.y, tc.m, tc.d, err, tc.wantErr)
			}
		})
	}
}

func TestMustDatePanicsOnBadText(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustDate(\"2006-04-31\") did not panic")
		}
	}()
	MustDate("2006-04-31")
}

func TestDateAccessorsAndArithmetic(t *testing.T) {
	d := MustDate("2006-05-01")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Year of 2006-05-01 is 2006", d.Year(), 2006},
		{"Month of 2006-05-01 is May", d.Month(), time.May},
		{"Day of 2006-05-01 is 1", d.Day(), 1},
		{"one day before 2006-03-01 is 2006-02-28: 2006 is not a leap year", MustDate("2006-03-01").AddDays(-1), MustDate("2006-02-28")},
		{"365 days after 2006-05-01 is 2007-05-01", d.AddDays(365), MustDate("2007-05-01")},
		{"the zero Date plus days stays the zero Date", Date(0).AddDays(10), Date(0)},
		{"2006-12-31 is 244 days since 2006-05-01", MustDate("2006-12-31").DaysSince(d), 244},
		{"DaysSince is negative when d is earlier", d.DaysSince(MustDate("2006-05-02")), -1},
		{"2006-05-31 is in period 2006-05", MustDate("2006-05-31").Period(), MustPeriod("2006-05")},
		{"the zero Date is in the zero Period", Date(0).Period(), Period(0)},
		{"the zero Date prints as empty", Date(0).String(), ""},
		{"the zero Date is zero", Date(0).IsZero(), true},
		{"a real date is not zero", d.IsZero(), false},
		{"the zero Date has YMD 0,0,0", [3]int{Date(0).Year(), int(Date(0).Month()), Date(0).Day()}, [3]int{}},
		{"dates order chronologically", d < MustDate("2006-05-02") && MustDate("2005-12-31") < d, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestDateFromTimeUsesTheTimesOwnLocation(t *testing.T) {
	beijing := time.FixedZone("CST", 8*60*60)
	instant := time.Date(2006, time.April, 30, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want Date
	}{
		{"20:00 UTC on 2006-04-30 is still 2006-04-30 in UTC", instant, MustDate("2006-04-30")},
		{"20:00 UTC on 2006-04-30 is already 2006-05-01 in Beijing", instant.In(beijing), MustDate("2006-05-01")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DateFromTime(tc.t); got != tc.want {
				t.Errorf("DateFromTime(%v) = %s, want %s", tc.t, got, tc.want)
			}
		})
	}
}

func TestDateText(t *testing.T) {
	tests := []struct {
		name    string
		d       Date
		text    string
		wantErr bool
	}{
		{"2006-05-01 marshals as YYYY-MM-DD", MustDate("2006-05-01"), "2006-05-01", false},
		{"the zero Date marshals as empty text", 0, "", false},
		{"a date past 9999-12-31 does not marshal: it could not be read back", MustDate("9999-12-31").AddDays(1), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.d.MarshalText()
			if (err != nil) != tc.wantErr {
				t.Fatalf("MarshalText() error = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if string(b) != tc.text {
				t.Fatalf("MarshalText() = %q, want %q", b, tc.text)
			}
			back := Date(12345) // not zero, so decoding "" must overwrite it
			if err := back.UnmarshalText(b); err != nil || back != tc.d {
				t.Errorf("UnmarshalText(%q) = %d, %v; want %d", b, back, err, tc.d)
			}
		})
	}
}

func TestDateJSON(t *testing.T) {
	type row struct {
		On   Date   `json:"on"`
		For  Period `json:"for"`
		Till Date   `json:"till"`
	}
	in := row{On: MustDate("2006-05-01"), For: MustPeriod("2006-05")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"on":"2006-05-01","for":"2006-05","till":""}`; string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var out row
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("json.Unmarshal(%s) = %+v, %v; want %+v", b, out, err, in)
	}

	tests := []struct {
		name string
		json string
	}{
		{"a JSON number is rejected: dates travel as text", `{"on":732432}`},
		{"2006-04-31 is rejected in JSON too: April has 30 days", `{"on":"2006-04-31"}`},
		{"2006-5 is rejected as a period: want YYYY-MM", `{"for":"2006-5"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r row
			if err := json.Unmarshal([]byte(tc.json), &r); err == nil {
				t.Errorf("json.Unmarshal(%s) = %+v, want an error", tc.json, r)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		wantErr string
	}{
		{"2006-05 parses", "2006-05", ""},
		{"2006-13 is rejected: there is no month 13", "2006-13",
			`"2006-13" is not a period: want YYYY-MM with month 01-12`},
		{"2006-00 is rejected: months start at 01", "2006-00",
			`"2006-00" is not a period: want YYYY-MM with month 01-12`},
		{"0000-01 is rejected: years start at 0001", "0000-01",
			`"0000-01" is not a period: want YYYY-MM with year 0001-9999`},
		{"2006-5 is rejected: months must be zero padded", "2006-5",
			`"2006-5" is not a period: want YYYY-MM`},
		{"2006-05-01 is rejected: a date is not a period", "2006-05-01",
			`"2006-05-01" is not a period: want YYYY-MM`},
		{"200605 is rejected: the hyphen is required", "200605",
			`"200605" is not a period: want YYYY-MM`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePeriod(tc.s)
			if tc.wantErr == "" {
				if err != nil || p.String() != tc.s {
					t.Fatalf("ParsePeriod(%q) = %v, %v", tc.s, p, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParsePeriod(%q) error = %v, want %s", tc.s, err, tc.wantErr)
			}
		})
	}
}

func TestPeriodOf(t *testing.T) {
	tests := []struct {
		name    string
		y, m    int
		want    Period
		wantErr string
	}{
		{"2006-05 is 2006*12 + 4 + 1", 2006, 5, 2006*12 + 5, ""},
		{"0001-01 is 13, never the zero Period", 1, 1, 13, ""},
		{"month 13 is rejected: PeriodOf never normalises", 2006, 13, 0,
			`"2006-13" is not a period: want YYYY-MM with month 01-12`},
		{"year 0 is rejected: years start at 1", 0, 12, 0,
			`"0000-12" is not a period: want YYYY-MM with year 0001-9999`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PeriodOf(tc.y, time.Month(tc.m))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("PeriodOf(%d, %d) error = %v, want %s", tc.y, tc.m, err, tc.wantErr)
				}
				return
			}
			if err != nil || p != tc.want || p.Year() != tc.y || p.Month() != time.Month(tc.m) {
				t.Errorf("PeriodOf(%d, %d) = %d (%d-%d), %v; want %d", tc.y, tc.m, p, p.Year(), p.Month(), err, tc.want)
			}
		})
	}
}

func TestPeriodDaysAndSteps(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"2006-02 ends on the 28th: 2006 is not a leap year", MustPeriod("2006-02").LastDay(), MustDate("2006-02-28")},
		{"2004-02 ends on the 29th: 2004 is a leap year", MustPeriod("2004-02").LastDay(), MustDate("2004-02-29")},
		{"2000-02 ends on the 29th: 2000 is divisible by 400", MustPeriod("2000-02").LastDay(), MustDate("2000-02-29")},
		{"1900-02 ends on the 28th: 1900 is a century not divisible by 400", MustPeriod("1900-02").LastDay(), MustDate("1900-02-28")},
		{"2006-12 ends on the 31st", MustPeriod("2006-12").LastDay(), MustDate("2006-12-31")},
		{"2006-05 starts on the 1st", MustPeriod("2006-05").FirstDay(), MustDate("2006-05-01")},
		{"after 2006-12 comes 2007-01", MustPeriod("2006-12").Next(), MustPeriod("2007-01")},
		{"before 2006-01 comes 2005-12", MustPeriod("2006-01").Prev(), MustPeriod("2005-12")},
		{"the zero Period has no next", Period(0).Next(), Period(0)},
		{"the zero Period has no previous", Period(0).Prev(), Period(0)},
		{"the zero Period has no first day", Period(0).FirstDay(), Date(0)},
		{"the zero Period has no last day", Period(0).LastDay(), Date(0)},
		{"the zero Period prints as empty", Period(0).String(), ""},
		{"the zero Period has year 0", Period(0).Year(), 0},
		{"the zero Period has month 0", Period(0).Month(), time.Month(0)},
		{"the zero Period is zero", Period(0).IsZero(), true},
		{"a real period is not zero", MustPeriod("2006-05").IsZero(), false},
		{"periods order chronologically", MustPeriod("2005-12") < MustPeriod("2006-01"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestPeriodText(t *testing.T) {
	tests := []struct {
		name    string
		p       Period
		text    string
		wantErr bool
	}{
		{"2006-05 marshals as YYYY-MM", MustPeriod("2006-05"), "2006-05", false},
		{"the zero Period marshals as empty text", 0, "", false},
		{"a period past 9999-12 does not marshal: it could not be read back", MustPeriod("9999-12").Next(), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.MarshalText()
			if (err != nil) != tc.wantErr {
				t.Fatalf("MarshalText() error = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if string(b) != tc.text {
				t.Fatalf("MarshalText() = %q, want %q", b, tc.text)
			}
			back := Period(999)
			if err := back.UnmarshalText(b); err != nil || back != tc.p {
				t.Errorf("UnmarshalText(%q) = %d, %v; want %d", b, back, err, tc.p)
			}
		})
	}
}

func TestUnmarshalTextLeavesValueOnError(t *testing.T) {
	d, p := MustDate("2006-05-01"), MustPeriod("2006-05")
	if err := d.UnmarshalText([]byte("2006-04-31")); err == nil || d != MustDate("2006-05-01") {
		t.Errorf("Date.UnmarshalText of a bad date: err %v, value %s", err, d)
	}
	if err := p.UnmarshalText([]byte("2006-13")); err == nil || p != MustPeriod("2006-05") {
		t.Errorf("Period.UnmarshalText of a bad period: err %v, value %s", err, p)
	}
}

func BenchmarkDateOf(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		_, _ = DateOf(1900+i%200, time.Month(1+i%12), 1+i%28)
	}
}

func TestDatesAndPeriodsPrintZeroPaddedAtEveryWidth(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"year 1 is padded to four digits", MustDate("0001-01-01").String(), "0001-01-01"},
		{"year 9999, the last, prints whole", MustDate("9999-12-31").String(), "9999-12-31"},
		{"a date past 9999 prints its whole year", (MustDate("9999-12-31") + 1).String(), "10000-01-01"},
		{"a date in year 0 is padded", (MustDate("0001-01-01") - 2).String(), "0000-12-30"},
		{"a date before year 0 prints a minus sign", (MustDate("0001-01-01") - 367).String(), "-001-12-31"},
		{"a period pads its month", MustPeriod("2006-05").String(), "2006-05"},
		{"period 0001-01 is padded", MustPeriod("0001-01").String(), "0001-01"},
		{"a period past 9999 prints its whole year", (MustPeriod("9999-12") + 1).String(), "10000-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	for p := MustPeriod("0001-01"); p <= MustPeriod("9999-12"); p += 97 {
		text, err := p.MarshalText()
		if err != nil || string(text) != p.String() || MustPeriod(string(text)) != p {
			t.Fatalf("period %d: MarshalText %q, %v; String %q", int(p), text, err, p.String())
		}
	}
}

func TestTheBusinessDateIsTheDateInChina(t *testing.T) {
	for _, c := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"16:00 UTC is already the next day in Ganzhou", time.Date(2006, 12, 31, 16, 0, 0, 0, time.UTC), "2007-01-01"},
		{"15:59 UTC is still the same day", time.Date(2006, 12, 31, 15, 59, 59, 0, time.UTC), "2006-12-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DateInChina(c.at).String(); got != c.want {
				t.Fatalf("DateInChina(%s) = %s, want %s", c.at, got, c.want)
			}
		})
	}
}
