package domain

import (
	"fmt"
	"strings"
)

// The rules CheckStatement and CheckInvariants enforce. Each names a property every fold of
// valid events must keep; a violation means the arithmetic, not the input, is wrong. Tests and
// the simulation call the checks after every event they apply.
const (
	// RuleNotNegative: no amount of a line, the totals or the credit is negative.
	RuleNotNegative = "amounts_not_negative"
	// RulePrincipalCovered: on a line, principal paid plus principal waived is at most the
	// principal (due), and outstanding is what is left of it.
	RulePrincipalCovered = "principal_paid_and_waived_within_due"
	// RuleRecoveredWithinPaid: principal recovered (paid after its due date) on a line is part of
	// the principal paid on it.
	RuleRecoveredWithinPaid = "recovered_within_paid"
	// RuleFeeCovered: on a line, late fee paid plus late fee waived is at most the late fee
	// accrued, and the late fee owed is what is left of it.
	RuleFeeCovered = "late_fee_paid_and_waived_within_accrued"
	// RuleCreditOnlyWhenSettled: credit pays new dues as they arise, so it is never held while
	// principal is outstanding.
	RuleCreditOnlyWhenSettled = "no_credit_while_principal_outstanding"
	// RuleTotals: the totals are the sums of the lines and of the settled sums.
	RuleTotals = "totals_are_sums_of_lines"
	// RuleMoneyConserved: every fen received (payments that stand, dated on or before the
	// statement's date) is on a line as principal or late fee paid, or held as credit.
	RuleMoneyConserved = "money_conserved"
)

// InvariantError reports a broken invariant: its rule, the date of the statement, and the line
// it concerns (nil for the account as a whole).
type InvariantError struct {
	Rule   string
	AsOf   Date
	Line   *LineKey
	Detail string
}

func (e *InvariantError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invariant %s broken as of %s", e.Rule, e.AsOf)
	if e.Line != nil {
		fmt.Fprintf(&b, " on %s %s", e.Line.Period, e.Line.Insurance)
	}
	b.WriteString(": ")
	b.WriteString(e.Detail)
	return b.String()
}

// CheckStatement checks a statement on its own and against received, the money it must account
// for: the payments that stand as of its date (for a compacted account, plus what its carry
// held). It returns the first broken rule as an *InvariantError, or nil. It is pure: tests may
// hand it statements built by hand.
func CheckStatement(st *Statement, received Fen) error {
	if v := StatementViolations(st, received); len(v) > 0 {
		return v[0]
	}
	return nil
}

// StatementViolations is CheckStatement reporting every broken rule, line by line, then for
// the statement as a whole, so that a report of a damaged ledger shows all of them at once.
func StatementViolations(st *Statement, received Fen) []*InvariantError {
	var out []*InvariantError
	broken := func(rule string, line *LineKey, format string, args ...any) {
		out = append(out, &InvariantError{Rule: rule, AsOf: st.AsOf, Line: line, Detail: fmt.Sprintf(format, args...)})
	}
	var sum Totals
	var accounted Fen // principal and late fee paid, on lines and settled
	for i := range st.Lines {
		l := &st.Lines[i]
		k := &LineKey{l.Period, l.Insurance}
		for _, x := range []struct {
			name string
			v    Fen
		}{{"due", l.DueFen}, {"paid", l.PaidFen}, {"waived", l.WaivedFen}, {"outstanding", l.OutstandingFen},
			{"late fee accrued", l.LateFeeAccruedFen}, {"late fee paid", l.LateFeePaidFen}, {"late fee waived", l.LateFeeWaivedFen},
			{"late fee owed", l.LateFeeFen}, {"recovered", l.RecoveredFen}} {
			if x.v < 0 {
				broken(RuleNotNegative, k, "%s is %d fen", x.name, x.v)
			}
		}
		switch {
		case l.PaidFen+l.WaivedFen > l.DueFen:
			broken(RulePrincipalCovered, k, "paid %d + waived %d fen exceed the due %d fen", l.PaidFen, l.WaivedFen, l.DueFen)
		case l.OutstandingFen != l.DueFen-l.PaidFen-l.WaivedFen:
			broken(RulePrincipalCovered, k, "outstanding %d fen is not due %d − paid %d − waived %d", l.OutstandingFen, l.DueFen, l.PaidFen, l.WaivedFen)
		}
		if l.RecoveredFen > l.PaidFen {
			broken(RuleRecoveredWithinPaid, k, "recovered %d fen is more than the %d fen paid", l.RecoveredFen, l.PaidFen)
		}
		switch {
		case l.LateFeePaidFen+l.LateFeeWaivedFen > l.LateFeeAccruedFen:
			broken(RuleFeeCovered, k, "late fee paid %d + waived %d fen exceed the %d fen accrued", l.LateFeePaidFen, l.LateFeeWaivedFen, l.LateFeeAccruedFen)
		case l.LateFeeFen != l.LateFeeAccruedFen-l.LateFeePaidFen-l.LateFeeWaivedFen:
			broken(RuleFeeCovered, k, "late fee owed %d fen is not accrued %d − paid %d − waived %d", l.LateFeeFen, l.LateFeeAccruedFen, l.LateFeePaidFen, l.LateFeeWaivedFen)
		}
		if st.Totals.CreditFen > 0 && l.OutstandingFen > 0 {
			broken(RuleCreditOnlyWhenSettled, k, "%d fen outstanding while %d fen of credit is held", l.OutstandingFen, st.Totals.CreditFen)
		}
		sum.add(*l, st.AsOf)
		accounted += l.PaidFen + l.LateFeePaidFen
	}
	if st.Totals.CreditFen < 0 {
		broken(RuleNotNegative, nil, "credit is %d fen", st.Totals.CreditFen)
	}
	for _, s := range st.Settled {
		sum.DueFen += s.DueFen
		sum.PaidFen += s.PaidFen
		sum.WaivedFen += s.WaivedFen
		sum.RecoveredFen += s.RecoveredFen
		accounted += s.PaidFen + s.LateFeePaidFen
	}
	sum.CreditFen = st.Totals.CreditFen
	if sum != st.Totals {
		broken(RuleTotals, nil, "totals %+v, the lines and settled sums give %+v", st.Totals, sum)
	}
	if accounted+st.Totals.CreditFen != received {
		broken(RuleMoneyConserved, nil, "%d fen received, but %d fen is on lines (principal and late fee) and %d fen is credit: %d fen unaccounted for",
			received, accounted, st.Totals.CreditFen, received-accounted-st.Totals.CreditFen)
	}
	return out
}

// Received is the money an account's statement as of asOf must account for: the payments
// dated on or before asOf that no reversal dated on or before asOf undid, less the refunds dated
// on or before asOf, and, when the account is compacted, what its carry held (credit, and
// principal and late fee paid on its lines and settled sums). It is 0, with false, for a date a compacted account no longer answers.
func (a *Account) Received(asOf Date) (Fen, bool) {
	var in Fen
	if c := a.carry; c != nil {
		if asOf <= c.through {
			return 0, false
		}
		in += c.credit
		r := packedLines{b: c.lines}
		for l, ok := r.next(); ok; l, ok = r.next() {
			in += l.Paid + l.FeePaid
		}
		for _, s := range c.settled {
			in += s.PaidFen + s.LateFeePaidFen
		}
	}
	undone := map[int]bool{} // 1 + index of a payment undone by a reversal dated on or before asOf
	for _, e := range a.entries {
		if e.kind == entryReversal && e.date <= asOf && e.undoes > 0 {
			undone[e.undoes] = true
		}
	}
	for i, e := range a.entries {
		switch {
		case e.date > asOf:
		case e.kind == entryPayment && !undone[i+1]:
			in += e.amount
		case e.kind == entryRefund:
			in -= e.amount
		}
	}
	return in, true
}

// CheckInvariants checks the account's statement as of asOf (CheckStatement) against the money
// it received. A compacted account is checked only for dates after its boundary.
func (a *Account) CheckInvariants(asOf Date, fees []LateFeeRate) error {
	if v := a.Violations(asOf, fees); len(v) > 0 {
		return v[0]
	}
	return nil
}

// Violations is CheckInvariants reporting every broken rule (StatementViolations).
func (a *Account) Violations(asOf Date, fees []LateFeeRate) []*InvariantError {
	in, ok := a.Received(asOf)
	if !ok {
		return nil
	}
	st := a.Statement(asOf, fees)
	return StatementViolations(&st, in)
}
