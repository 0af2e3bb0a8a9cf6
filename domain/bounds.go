package domain

// EarliestDate is the first business date the ledger records or answers for: nothing before the
// 1990s' social-insurance rules is kept, so an earlier date is a typing error.
var EarliestDate = MustDate("1990-01-01")

// LatestDate is the last business date the ledger answers for: a later one is a typing error
// (9999 for 2099), and figures that far out (late fees accrued over millennia) would pass what
// int64 fen can sum.
var LatestDate = MustDate("2199-12-31")

// CheckWithinLedger refuses a date before EarliestDate or after LatestDate, naming field.
func CheckWithinLedger(field string, d Date) error {
	if d > LatestDate {
		return Invalid(field, "%s is after 2199, later than any date this ledger answers for", d)
	}
	return CheckNotBeforeEarliest(field, d)
}

// CheckNotBeforeEarliest refuses a date before EarliestDate, naming field.
func CheckNotBeforeEarliest(field string, d Date) error {
	if e := beforeEarliest(field, d); e != nil {
		return e
	}
	return nil
}

// CheckHappened refuses, naming field, a date that cannot be a business date of something that has
// happened: before EarliestDate, or after today (no bound when today is 0). Writes and freezes
// are held to it.
func CheckHappened(field string, d, today Date) error {
	if e := happened(field, d, today); e != nil {
		return e
	}
	return nil
}

func happened(field string, d, today Date) *Error {
	if today != 0 && d > today {
		return Invalid(field, "%s is after today's business date %s", d, today)
	}
	return beforeEarliest(field, d)
}

func beforeEarliest(field string, d Date) *Error {
	if d < EarliestDate {
		return Invalid(field, "%s is before 1990, earlier than any record this ledger keeps", d)
	}
	return nil
}

// CheckPeriodNotBeforeEarliest refuses a period of a year before EarliestDate's, naming field.
func CheckPeriodNotBeforeEarliest(field string, p Period) error {
	if p.Year() < EarliestDate.Year() {
		return Invalid(field, "%s is before 1990, earlier than any record this ledger keeps", p)
	}
	return nil
}
