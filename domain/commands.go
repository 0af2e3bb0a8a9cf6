package domain

// MaxFen bounds any single amount (10 billion yuan), which keeps every late-fee sum inside int64.
const MaxFen = 1_000_000_000_000

// MaxCount bounds headcounts, workforces and contract counts.
const MaxCount = 10_000_000

// Context is what a command is checked against besides the employer: the reference data known
// now, today's business date and who records it.
type Context struct {
	Ref   *Reference
	Today Date
	// Actor is who records the command ("role:name").
	Actor string
	// Events are the employer's events in stream order, given to an EventsDecider only.
	Events []Event
}

// Command is a request to change an employer.
type Command interface {
	// Check validates the command's fields on their own; it names the first bad field.
	Check(ctx Context) error
	// Decide applies the decision rules to the employer's state and returns the events to append.
	Decide(e *Employer, ctx Context) ([]Payload, error)
	// Date is the command's business date (valid after Check).
	Date() Date
}

// Number is a JSON value kept exactly as the client wrote it, so that validation, not the JSON
// decoder, judges it and names the field: a string "12", 12.5 or true are all refused there.
type Number string

// UnmarshalJSON keeps the raw value; null counts as absent.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = ""
		return nil
	}
	*n = Number(b)
	return nil
}

// MarshalJSON writes the value back as it came.
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

// notBefore is the rule that nothing is dated before the employer entered the ledger.
func notBefore(e *Employer, field string, d Date) error {
	if d < e.EnteredOn {
		return Conflict(field, "%s is before the employer entered the ledger on %s", d, e.EnteredOn)
	}
	return nil
}

func active(e *Employer) error {
	if e.Deregistered {
		return Conflict("employer_id", "the employer was deregistered on %s", e.DeregisteredOn)
	}
	return nil
}

// payerOn refuses a fact dated d on which the employer was no payer: deregistered on or before
// d, by a deregistration that stands or within one a reinstatement has since ended.
func payerOn(e *Employer, field string, d Date) error {
	if e.Deregistered && e.DeregisteredOn <= d {
		return Conflict(field, "%s: the employer was deregistered on %s", d, e.DeregisteredOn)
	}
	if s, away := e.awayOn(d); away {
		return Conflict(field, "%s: the employer was deregistered from %s until its reinstatement on %s", d, s.From, s.Until)
	}
	return nil
}

// owesDuesOf refuses new dues of period p when the payer was deregistered on its first day, by
// a deregistration that stands or one a reinstatement has since ended: a month is owed by
// whoever was a payer on its first day (as a line counts in the county of that day), so dues
// stop with the month after the deregistration and start again with the month after the
// reinstatement (DOMAIN.md), or with its own when it is reinstated on a 1st. The months owed
// before a deregistration are owed still: a payer deregistered on the 10th is declared, assessed
// or found by an audit for the month before and its own after it. A period with a line standing
// (declared or assessed before a deregistration dated back) may still be declared again: a
// correction, to headcount 0 too.
func owesDuesOf(e *Employer, p Period, standing bool) error {
	if standing {
		return nil
	}
	if e.Deregistered && e.DeregisteredOn <= p.FirstDay() {
		return Conflict("period", "%s: the employer was deregistered on %s, by its first day, and owes no dues of it; they start again with its reinstatement (from the month after it, or its own when reinstated on a 1st)",
			p, e.DeregisteredOn)
	}
	s, away := e.awayOn(p.FirstDay())
	if !away {
		return nil
	}
	again := s.Until.Period()
	if s.Until != again.FirstDay() {
		again = again.Next()
	}
	return Conflict("period", "%s: the employer was deregistered on its first day (from %s until its reinstatement on %s), and owes no dues of it; they start again with %s",
		p, s.From, s.Until, again)
}

// carries checks that individual payers are only charged pension and medical.
func carries(e *Employer, field string, ins Insurance) error {
	if !e.Kind.Carries(ins) {
		return Conflict(field, "%s payers only carry pension and medical, not %s", e.Kind, ins)
	}
	return nil
}
