package projections

import (
	"encoding/json"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// Compare checks that two ledgers give the same views: the same sequence, employers, statements
// and reports for the given queries, and that the live statements keep the arithmetic's
// invariants (domain.CheckInvariants). It returns the differences found (at most a few).
func Compare(live, rebuilt *Ledger, queries []Query) []string {
	var diffs []string
	note := func(format string, args ...any) bool {
		diffs = append(diffs, fmt.Sprintf(format, args...))
		return len(diffs) < 10
	}
	if live.Seq != rebuilt.Seq {
		note("live views at sequence %d, rebuilt at %d", live.Seq, rebuilt.Seq)
	}
	if live.Employers.Len() != rebuilt.Employers.Len() {
		note("live views hold %d employers, rebuilt %d", live.Employers.Len(), rebuilt.Employers.Len())
	}
	for _, q := range queries {
		if !live.Covers(q) || !rebuilt.Covers(q) {
			continue // closed books both compacted: the freezes' digests check those
		}
		a, _ := json.Marshal(live.Report(q))
		b, _ := json.Marshal(rebuilt.Report(q))
		if string(a) != string(b) && !note("report for period %s as of %s differs", q.Period, q.AsOf) {
			return diffs
		}
		for id, e := range live.Employers.Sorted() {
			r := rebuilt.Employers.Get(id)
			if r == nil {
				if !note("employer %s is missing from the rebuild", id) {
					return diffs
				}
				continue
			}
			acct := &e.Account
			st := acct.Statement(q.AsOf, live.Ref.LateFees)
			if in, ok := acct.Received(q.AsOf); ok {
				if err := domain.CheckStatement(&st, in); err != nil && !note("employer %s: %v", id, err) {
					return diffs
				}
			}
			x, _ := json.Marshal(st)
			y, _ := json.Marshal(r.Account.Statement(q.AsOf, rebuilt.Ref.LateFees))
			if string(x) != string(y) && !note("employer %s: statement as of %s differs", id, q.AsOf) {
				return diffs
			}
		}
	}
	return diffs
}

// VerifyQueries are the queries verification compares: the default one for asOf, and year end.
func VerifyQueries(ref *domain.Reference, asOf domain.Date) []Query {
	q := []Query{{Period: DefaultPeriod(ref, asOf), AsOf: asOf}}
	end := domain.MustDate(fmt.Sprintf("%04d-12-31", asOf.Year()))
	if end != asOf {
		q = append(q, Query{Period: DefaultPeriod(ref, end), AsOf: end})
	}
	return q
}
