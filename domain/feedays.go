package domain

import "slices"

// FeeSpan is a run of days, From through Through, on which late fee accrued at DailyBP a day.
type FeeSpan struct {
	From, Through Date
	DailyBP       BasisPoints
}

// FeeDays are the days through asOf on which a line of keys owed principal past its due date,
// and so accrued late fee, cut by the rate in force: runs of days in date order, each at one
// rate, a day on which no line of keys accrued (all paid, the next not yet due) ending a run. A
// line whose fee a closed year fixed names no days: what it accrued before is not kept.
func (a *Account) FeeDays(asOf Date, fees []LateFeeRate, keys []LineKey) []FeeSpan {
	s := statementBooks.Get().(*book)
	defer func() {
		s.reset()
		statementBooks.Put(s)
	}()
	a.fillThrough(s, asOf, fees)
	var days []FeeSpan // each line's runs, merged below
	for _, l := range s.order {
		if l.fixed || !slices.Contains(keys, l.key) {
			continue
		}
		l.accruing(asOf, func(from, through Date, _ Fen) {
			for i, f := range fees {
				end := through
				if i+1 < len(fees) {
					end = min(end, fees[i+1].EffectiveFrom-1)
				}
				if start := max(from, f.EffectiveFrom); start <= end {
					days = append(days, FeeSpan{start, end, f.DailyBP})
				}
			}
		})
	}
	slices.SortFunc(days, func(x, y FeeSpan) int { return int(x.From) - int(y.From) })
	var out []FeeSpan
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1].DailyBP == d.DailyBP && d.From <= out[n-1].Through+1 {
			out[n-1].Through = max(out[n-1].Through, d.Through)
			continue
		}
		out = append(out, d)
	}
	return out
}

// accruing calls yield with each run of days through t (from the day after the line's due date)
// on which the line owes principal, and how much; it returns what it owes on t and how many of
// its reductions are dated on or before t's run.
func (l *bookLine) accruing(t Date, yield func(from, through Date, owed Fen)) (Fen, int) {
	out := l.principal()
	start, i := l.dueOn+1, 0
	for start <= t {
		for i < len(l.reductions) && l.reductions[i].date <= start {
			out -= l.reductions[i].amount
			i++
		}
		end := t
		if i < len(l.reductions) && l.reductions[i].date-1 < end {
			end = l.reductions[i].date - 1
		}
		if out > 0 {
			yield(start, end, out)
		}
		start = end + 1
	}
	return out, i
}
