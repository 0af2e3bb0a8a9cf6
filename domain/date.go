// Over 500 lines for a reason: civil dates: parsing every spelling a clerk types, calendar
// arithmetic and periods.

package domain

import (
	"fmt"
	"time"
)

// Date is a civil (calendar) date with no time zone: the count of days since
// 0001-01-01 plus one in the proleptic Gregorian calendar, so 0001-01-01 is 1
// (the same numbering as Python's date.toordinal) and the zero Date means
// "no date". Dates compare with < and subtract with DaysSince.
//
// Valid dates lie in years 0001-9999; arithmetic that leaves that range
// produces a value that String renders but MarshalText refuses.
type Date int32

// Period is a calendar month, numbered year*12 + (month-1) + 1 so the zero
// Period means "no period". Periods compare with < and step with Next/Prev.
type Period int32

// DateError reports text or numbers that do not name a date or period.
type DateError struct {
	// Input is the offending text, or the numbers formatted as YYYY-MM-DD
	// (YYYY-MM for periods) when they came from DateOf or PeriodOf.
	Input string
	// Kind is what Input failed to be: "date" when the layout is wrong,
	// "calendar date" when the layout is right but the day does not exist,
	// or "period".
	Kind string
	// Reason says what is wrong, e.g. "April 2006 has 30 days".
	Reason string
}

// Error returns e.g. `"2006-04-31" is not a calendar date: April 2006 has 30 days`.
func (e *DateError) Error() string {
	return fmt.Sprintf("%q is not a %s: %s", e.Input, e.Kind, e.Reason)
}

const (
	// dateMin and dateMax bound the dates that DateOf and ParseDate accept.
	dateMin Date = 1       // 0001-01-01
	dateMax Date = 3652059 // 9999-12-31
)

// dateCivilDays is days_from_civil (H. Hinnant), shifted so 0001-01-01 is 1.
// It is pure integer arithmetic and is correct for any year, so callers
// validate first where validity matters.
func dateCivilDays(y, m, d int) Date {
	if m <= 2 {
		y-- // count March-based years so the leap day falls at year end
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400 // [0, 399]
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1            // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return Date(era*146097 + doe - 305)    // 0000-03-01, where doe counts from, is day -305
}

// dateCivil is civil_from_days (H. Hinnant), the inverse of dateCivilDays.
func dateCivil(n Date) (y int, m time.Month, d int) {
	z := int(n) + 305 // count from 0000-03-01 as dateCivilDays does
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	d = doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mp >= 10 {
		mm = mp - 9
	}
	y = yoe + era*400
	if mm <= 2 {
		y++
	}
	return y, time.Month(mm), d
}

// dateDaysIn is the number of days in month m of year y.
func dateDaysIn(y int, m time.Month) int {
	switch m {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// dateCheck returns why y-m-d is not a calendar date, or "" if it is one.
func dateCheck(y int, m time.Month, d int) string {
	switch {
	case y < 1 || y > 9999:
		return "year must be 0001-9999"
	case m < time.January || m > time.December:
		return "month must be 01-12"
	case d < 1:
		return "day must be at least 01"
	}
	if n := dateDaysIn(y, m); d > n {
		return fmt.Sprintf("%s %d has %d days", m, y, n)
	}
	return ""
}

// DateOf returns the date y-m-d, or a *DateError if it is not a real
// calendar date (2006-04-31, 2006-02-29, month 13, day 0) or y is outside
// 1..9999. The month is never normalised, unlike time.Date.
func DateOf(y int, m time.Month, d int) (Date, error) {
	if why := dateCheck(y, m, d); why != "" {
		return 0, &DateError{
			Input:  fmt.Sprintf("%04d-%02d-%02d", y, int(m), d),
			Kind:   "calendar date",
			Reason: why,
		}
	}
	return dateCivilDays(y, int(m), d), nil
}

// dateDigits parses s as unsigned ASCII decimal digits; ok is false if any
// byte is not a digit. Strict on purpose: no signs, spaces or Unicode digits.
func dateDigits[S ~string | ~[]byte](s S) (n int, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseDate parses exactly "YYYY-MM-DD" (10 characters, zero padded) and
// returns the date, or a *DateError: Kind "date" when the layout is wrong,
// "calendar date" when the day does not exist.
func ParseDate(s string) (Date, error) {
	if y, m, d, ok := dateLayout(s); ok {
		if why := dateCheck(y, time.Month(m), d); why != "" {
			return 0, &DateError{Input: s, Kind: "calendar date", Reason: why}
		}
		return dateCivilDays(y, m, d), nil
	}
	return 0, &DateError{Input: s, Kind: "date", Reason: "want YYYY-MM-DD"}
}

// dateLayout reads the year, month and day of s laid out as "YYYY-MM-DD", reporting false when
// it is not; whether they name a day is dateCheck's question.
func dateLayout[S ~string | ~[]byte](s S) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, oky := dateDigits(s[0:4])
	m, okm := dateDigits(s[5:7])
	d, okd := dateDigits(s[8:10])
	return y, m, d, oky && okm && okd
}

// dateText is what Date.UnmarshalText makes of text, without building an error: false where it
// refuses text. The event decoder reads dates with it.
func dateText(text []byte) (Date, bool) {
	if len(text) == 0 {
		return 0, true
	}
	y, m, d, ok := dateLayout(text)
	if !ok || dateCheck(y, time.Month(m), d) != "" {
		return 0, false
	}
	return dateCivilDays(y, m, d), true
}

// MustDate is ParseDate that panics on error; for defaults and tests only.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateFromTime returns the civil date of t in t's own location, so the same
// instant can give different dates in different zones.
func DateFromTime(t time.Time) Date {
	y, m, d := t.Date()
	return dateCivilDays(y, int(m), d)
}

// shanghai is the ledger's zone: Ganzhou keeps China Standard Time, UTC+8 all year.
var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600) // no zone database on the machine
}()

// DateInChina returns the business date at instant t: its civil date in Asia/Shanghai.
func DateInChina(t time.Time) Date { return DateFromTime(t.In(shanghai)) }

// InChina is the instant t on Asia/Shanghai's clock, the ledger's (what people read a time in).
func InChina(t time.Time) time.Time { return t.In(shanghai) }

// StartInChina is the instant d begins in Asia/Shanghai: DateInChina's inverse.
func (d Date) StartInChina() time.Time {
	y, m, day := d.YMD()
	return time.Date(y, m, day, 0, 0, 0, 0, shanghai)
}

// YMD returns the year, month and day of d; the zero Date gives 0, 0, 0.
func (d Date) YMD() (y int, m time.Month, day int) {
	if d == 0 {
		return 0, 0, 0
	}
	return dateCivil(d)
}

// Year returns the year of d (0 for the zero Date).
func (d Date) Year() int { y, _, _ := d.YMD(); return y }

// YearStart is 1 January of d's year.
func (d Date) YearStart() Date {
	y, _, _ := d.YMD()
	s, _ := DateOf(y, time.January, 1) // valid for every year a Date holds
	return s
}

// Month returns the month of d (0 for the zero Date).
func (d Date) Month() time.Month { _, m, _ := d.YMD(); return m }

// Day returns the day of the month of d (0 for the zero Date).
func (d Date) Day() int { _, _, day := d.YMD(); return day }

// IsZero reports whether d is the zero Date, meaning "no date".
func (d Date) IsZero() bool { return d == 0 }

// String returns d as "YYYY-MM-DD" (e.g. "2006-05-01"), or "" for the zero
// Date.
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	return string(d.appendTo(make([]byte, 0, 10)))
}

// appendTo appends d as String writes it; d is not zero.
func (d Date) appendTo(b []byte) []byte {
	y, m, day := dateCivil(d)
	if y < 0 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, int(m), day)
	}
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, '-'), int(m), 2)
	return appendDigits(append(b, '-'), day, 2)
}

// appendDigits appends n, which is not negative and has at most width digits, zero-padded to
// width digits: dates are written for every event a history or a report shows, and fmt's
// generality made formatting them a tenth of a history's time.
func appendDigits(b []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= len(b)-width; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// AddDays returns the date n days after d (before, if n < 0). The zero Date
// stays zero: "no date" plus n days is still no date. The result must stay
// within years 0001-9999 to be meaningful.
func (d Date) AddDays(n int) Date {
	if d == 0 {
		return 0
	}
	return d + Date(n)
}

// DaysSince returns d − e in days: positive when d is after e. Both dates
// should be non-zero; zero is not a day on the calendar.
func (d Date) DaysSince(e Date) int { return int(d) - int(e) }

// Period returns the calendar month containing d, or the zero Period for
// the zero Date.
func (d Date) Period() Period {
	if d == 0 {
		return 0
	}
	y, m, _ := dateCivil(d)
	return Period(y*12 + int(m))
}

// MarshalText encodes d as "YYYY-MM-DD", and the zero Date as empty text,
// so JSON carries it as a string. It fails for dates outside 0001-9999,
// which ParseDate could not read back.
func (d Date) MarshalText() ([]byte, error) {
	return d.AppendText(make([]byte, 0, 10))
}

// AppendText appends what MarshalText returns to b (encoding.TextAppender).
func (d Date) AppendText(b []byte) ([]byte, error) {
	if d == 0 {
		return b, nil
	}
	if d < dateMin || d > dateMax {
		return nil, fmt.Errorf("date %s is outside 0001-01-01..9999-12-31", d)
	}
	return d.appendTo(b), nil
}

// UnmarshalText decodes "YYYY-MM-DD" strictly as ParseDate does; empty text
// gives the zero Date. On error *d is left unchanged.
func (d *Date) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*d = 0
		return nil
	}
	v, err := ParseDate(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// PeriodOf returns the month m of year y, or a *DateError if m is not 1..12
// or y is outside 1..9999.
func PeriodOf(y int, m time.Month) (Period, error) {
	if why := periodCheck(y, m); why != "" {
		return 0, &DateError{Input: fmt.Sprintf("%04d-%02d", y, int(m)), Kind: "period", Reason: why}
	}
	return Period(y*12 + int(m)), nil
}

// periodCheck returns why y-m is not a period, or "" if it is one.
func periodCheck(y int, m time.Month) string {
	switch {
	case y < 1 || y > 9999:
		return "want YYYY-MM with year 0001-9999"
	case m < time.January || m > time.December:
		return "want YYYY-MM with month 01-12"
	}
	return ""
}

// ParsePeriod parses exactly "YYYY-MM" (7 characters, zero padded) and
// returns the period, or a *DateError with Kind "period".
func ParsePeriod(s string) (Period, error) {
	if y, m, ok := periodLayout(s); ok {
		if why := periodCheck(y, time.Month(m)); why != "" {
			return 0, &DateError{Input: s, Kind: "period", Reason: why}
		}
		return Period(y*12 + m), nil
	}
	return 0, &DateError{Input: s, Kind: "period", Reason: "want YYYY-MM"}
}

// periodLayout reads the year and month of s laid out as "YYYY-MM", reporting false when it is
// not; whether they name a period is periodCheck's question.
func periodLayout[S ~string | ~[]byte](s S) (y, m int, ok bool) {
	if len(s) != 7 || s[4] != '-' {
		return 0, 0, false
	}
	y, oky := dateDigits(s[0:4])
	m, okm := dateDigits(s[5:7])
	return y, m, oky && okm
}

// periodText is what Period.UnmarshalText makes of text, without building an error: false where
// it refuses text. The event decoder reads periods with it.
func periodText(text []byte) (Period, bool) {
	if len(text) == 0 {
		return 0, true
	}
	y, m, ok := periodLayout(text)
	if !ok || periodCheck(y, time.Month(m)) != "" {
		return 0, false
	}
	return Period(y*12 + m), true
}

// MustPeriod is ParsePeriod that panics on error; for defaults and tests only.
func MustPeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Year returns the year of p (0 for the zero Period).
func (p Period) Year() int {
	if p == 0 {
		return 0
	}
	return int(p-1) / 12
}

// Month returns the month of p (0 for the zero Period).
func (p Period) Month() time.Month {
	if p == 0 {
		return 0
	}
	return time.Month(int(p-1)%12 + 1)
}

// IsZero reports whether p is the zero Period, meaning "no period".
func (p Period) IsZero() bool { return p == 0 }

// String returns p as "YYYY-MM" (e.g. "2006-05"), or "" for the zero Period.
func (p Period) String() string {
	if p == 0 {
		return ""
	}
	return string(p.appendTo(make([]byte, 0, 7)))
}

// appendTo appends p as String writes it; p is not zero.
func (p Period) appendTo(b []byte) []byte {
	if y := p.Year(); y < 0 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d", y, int(p.Month()))
	}
	b = appendDigits(b, p.Year(), 4)
	return appendDigits(append(b, '-'), int(p.Month()), 2)
}

// FirstDay returns the first day of p, or the zero Date for the zero Period.
func (p Period) FirstDay() Date {
	if p == 0 {
		return 0
	}
	return dateCivilDays(p.Year(), int(p.Month()), 1)
}

// LastDay returns the last day of p, or the zero Date for the zero Period.
func (p Period) LastDay() Date {
	if p == 0 {
		return 0
	}
	return dateCivilDays(p.Year(), int(p.Month()), dateDaysIn(p.Year(), p.Month()))
}

// Next returns the month after p; the zero Period stays zero.
func (p Period) Next() Period {
	if p == 0 {
		return 0
	}
	return p + 1
}

// Prev returns the month before p; the zero Period stays zero.
func (p Period) Prev() Period {
	if p == 0 {
		return 0
	}
	return p - 1
}

// MarshalText encodes p as "YYYY-MM", and the zero Period as empty text, so
// JSON carries it as a string. It fails for periods outside 0001-9999.
func (p Period) MarshalText() ([]byte, error) {
	return p.AppendText(make([]byte, 0, 7))
}

// AppendText appends what MarshalText returns to b (encoding.TextAppender).
func (p Period) AppendText(b []byte) ([]byte, error) {
	if p == 0 {
		return b, nil
	}
	if y := p.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("period %s is outside 0001-01..9999-12", p)
	}
	return p.appendTo(b), nil
}

// UnmarshalText decodes "YYYY-MM" strictly as ParsePeriod does; empty text
// gives the zero Period. On error *p is left unchanged.
func (p *Period) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*p = 0
		return nil
	}
	v, err := ParsePeriod(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
