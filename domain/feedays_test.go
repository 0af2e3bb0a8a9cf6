package domain

import (
	"slices"
	"testing"
)

// TestFeeDaysAreTheDaysALineOwedPastItsDueDate: April's line (30,000 fen, due 2006-05-15) and
// May's (due 2006-06-15) accrue from the day after each falls due; a payment in full stops
// April's on the day before it is paid; a partial payment does not stop May's; runs of one rate
// that touch merge; a line not listed names no days.
func TestFeeDaysAreTheDaysALineOwedPastItsDueDate(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
	b.must("clerk:wang", &RecordPayment{PaidOn: "2006-06-01", AmountFen: "30000", ReceiptNo: "R-1",
		Allocations: []AllocationInput{{Insurance: "unemployment", Period: "2006-04", AmountFen: "30000"}}})
	b.must("clerk:wang", &RecordPayment{PaidOn: "2006-07-01", AmountFen: "100", ReceiptNo: "R-2",
		Allocations: []AllocationInput{{Insurance: "unemployment", Period: "2006-05", AmountFen: "100"}}})
	april := LineKey{MustPeriod("2006-04"), Unemployment}
	may := LineKey{MustPeriod("2006-05"), Unemployment}
	fees := defaultRef().LateFees
	for _, tt := range []struct {
		name string
		keys []LineKey
		want []FeeSpan
	}{
		{"April alone: from 05-16 to the day before its payment", []LineKey{april}, []FeeSpan{{MustDate("2006-05-16"), MustDate("2006-05-31"), 20}}},
		{"May alone: from 06-16 on, a part paid", []LineKey{may}, []FeeSpan{{MustDate("2006-06-16"), MustDate("2006-08-31"), 20}}},
		{"both: two runs, a gap of no fee between", []LineKey{april, may}, []FeeSpan{{MustDate("2006-05-16"), MustDate("2006-05-31"), 20}, {MustDate("2006-06-16"), MustDate("2006-08-31"), 20}}},
		{"none listed", nil, nil},
	} {
		if got := b.e.Account.FeeDays(MustDate("2006-08-31"), fees, tt.keys); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
