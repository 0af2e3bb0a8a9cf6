// Over 500 lines for a reason: the commands that move money (declarations, assessments, payments,
// allocations, waivers) share their checks of amounts and periods.

package domain

import (
	"math"
	"slices"
	"strings"
)

// DeclareLine is one insurance of a declaration as the client sends it.
type DeclareLine struct {
	Insurance   string `json:"insurance"`
	Headcount   Number `json:"headcount"`
	WageBaseFen Number `json:"wage_base_fen"`
}

// FileDeclaration declares a period's contribution base; the ledger computes the amount due.
type FileDeclaration struct {
	DeclaredOn string        `json:"declared_on"`
	Period     string        `json:"period"`
	Lines      []DeclareLine `json:"lines"`
	ev         DeclarationFiled
}

// Check validates the fields.
func (r *FileDeclaration) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.DeclaredOn = c.date("declared_on", r.DeclaredOn, true)
	r.ev.Period = c.period("period", r.Period)
	if c.err == nil && r.ev.Period.FirstDay() > r.ev.DeclaredOn {
		c.fail(Invalid("period", "%s has not begun on %s", r.ev.Period, r.ev.DeclaredOn))
	}
	if c.err == nil && len(r.Lines) == 0 {
		c.fail(Invalid("lines", "at least one line is required"))
	}
	seen := map[Insurance]bool{}
	r.ev.Lines = r.ev.Lines[:0]
	for i, l := range r.Lines {
		dl := DeclaredLine{
			Insurance:   c.insurance(at("lines", i, "insurance"), l.Insurance),
			Headcount:   c.integer(at("lines", i, "headcount"), l.Headcount, true, 0, MaxCount, "persons"),
			WageBaseFen: c.fen(at("lines", i, "wage_base_fen"), l.WageBaseFen, true, false),
		}
		// A base is the wages of the persons a line covers: one declared for nobody is a mistake
		// (a line for nobody declares a base of 0).
		if c.err == nil && dl.Headcount == 0 && dl.WageBaseFen > 0 {
			c.fail(Invalid(at("lines", i, "headcount"), "is 0 but the line declares a wage base of %s yuan: give the persons it covers, or a base of 0", dl.WageBaseFen))
		}
		if c.err == nil && seen[dl.Insurance] {
			c.fail(Invalid(at("lines", i, "insurance"), "%s appears twice", dl.Insurance))
		}
		seen[dl.Insurance] = true
		r.ev.Lines = append(r.ev.Lines, dl)
	}
	if c.err == nil {
		r.ev.DueOn = ctx.Ref.DueDate(r.ev.Period)
	}
	return c.err
}

// Date is the declaration date.
func (r *FileDeclaration) Date() Date { return r.ev.DeclaredOn }

// Decide computes each line's due at the rates in force on the period's first day.
func (r *FileDeclaration) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "declared_on", r.ev.DeclaredOn); err != nil {
		return nil, err
	}
	st, err := replacesBase(e, "declared_on", r.ev.Period, r.ev.DeclaredOn)
	if err != nil {
		return nil, err
	}
	if err := owesDuesOf(e, r.ev.Period, st != nil); err != nil {
		return nil, err
	}
	if err := keepsLines(st, setLines(r.ev), "headcount 0 and wage base 0"); err != nil {
		return nil, err
	}
	ev := r.ev
	ev.Lines = slices.Clone(r.ev.Lines)
	for i := range ev.Lines {
		l := &ev.Lines[i]
		f := at("lines", i, "insurance")
		if err := carries(e, f, l.Insurance); err != nil {
			return nil, err
		}
		bp, ok := ctx.Ref.Rate(l.Insurance, e.Kind.Payer(), e.RiskClassOn(ev.Period.FirstDay()), ev.Period.FirstDay())
		switch {
		case !ok && l.Headcount == 0 && l.WageBaseFen == 0:
			// A line of none: nothing is due, and an insurance no rate covers any more (merged
			// into another) is how a period's settlement drops it (keepsLines).
			continue
		case !ok:
			return nil, Conflict(f, "no %s rate for %s payers is in force on %s", l.Insurance, e.Kind.Payer(), ev.Period.FirstDay())
		}
		due, err := ApplyRate(l.WageBaseFen, bp)
		if err != nil {
			return nil, Invalid(at("lines", i, "wage_base_fen"), "%v", err)
		}
		l.RateBP, l.DueFen = bp, due
	}
	return []Payload{ev}, nil
}

// replacesBase refuses a declaration or assessment of period p dated on d before the one of p
// that stands: the latest by date stands (DOMAIN.md: a later declaration replaces the earlier
// one), so it would be recorded and change nothing; and one of a period an opening balance
// carries, whose due it would add to. It returns the one that stands (nil: none).
func replacesBase(e *Employer, field string, p Period, d Date) (*entry, error) {
	// Its arrears carried over as an opening balance are the period's dues already: a declaration
	// would add to them.
	if seq, ok := e.Account.openedOn(p); ok {
		return nil, Conflict("period", "%s carries an opening balance (sequence %d of the employer's history): its arrears are entered already (void that one first to declare or assess the period instead)", p, seq)
	}
	st := e.Account.standingBase(p)
	if st != nil && d < st.date {
		return nil, Conflict(field, "%s is before the declaration or assessment of %s that stands (sequence %d of the employer's history), dated %s: one dated earlier would not replace it (date the correction on or after %s, or void that one first)", d, p, st.seq, st.date, st.date)
	}
	return st, nil
}

// keepsLines refuses a declaration or assessment of the lines given that leaves out an
// insurance st, the one of its period that stands (nil: none), has a due for: it replaces its
// period's whole, and that due would be dropped unseen (a correction of one line typed alone, a
// row of a declaration imported again without the others). zero says how to give a line no
// longer due.
func keepsLines(st *entry, given []lineAmount, zero string) error {
	if st == nil {
		return nil
	}
	for _, l := range st.lines {
		if l.amount > 0 && !slices.ContainsFunc(given, func(g lineAmount) bool { return g.key.Insurance == l.key.Insurance }) {
			return Conflict("lines", "the declaration or assessment of %s that stands (sequence %d of the employer's history) has a due for %s, which this one leaves out: one replaces its period's whole, so give a line of each insurance (%s for one no longer due)", st.period, st.seq, l.key.Insurance, zero)
		}
	}
	return nil
}

// AssessLine is one insurance of an explicit assessment.
type AssessLine struct {
	Insurance string `json:"insurance"`
	DueFen    Number `json:"due_fen"`
}

// Assessment reasons.
const (
	AssessNoDeclaration = "no_declaration"
	AssessAudit         = "audit"
)

// MakeAssessment assesses a period: for no declaration, at 110% of the previous period's due of
// each insurance, with lines given only when there is no previous period; for an audit, with its
// lines.
type MakeAssessment struct {
	AssessedOn string       `json:"assessed_on"`
	Period     string       `json:"period"`
	Reason     string       `json:"reason"`
	Lines      []AssessLine `json:"lines"`
	ev         AssessmentMade
}

// Check validates the fields.
func (r *MakeAssessment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.AssessedOn = c.date("assessed_on", r.AssessedOn, true)
	r.ev.Period = c.period("period", r.Period)
	r.ev.Reason = c.oneOf("reason", r.Reason, AssessNoDeclaration, AssessAudit)
	if c.err == nil && r.ev.Period.FirstDay() > r.ev.AssessedOn {
		c.fail(Invalid("period", "%s has not begun on %s", r.ev.Period, r.ev.AssessedOn))
	}
	if c.err == nil && r.ev.Reason == AssessAudit && len(r.Lines) == 0 {
		c.fail(Invalid("lines", "an audit assessment must give its lines"))
	}
	seen := map[Insurance]bool{}
	r.ev.Lines = nil
	for i, l := range r.Lines {
		al := AssessedLine{Insurance: c.insurance(at("lines", i, "insurance"), l.Insurance), DueFen: c.fen(at("lines", i, "due_fen"), l.DueFen, true, false)}
		if c.err == nil && seen[al.Insurance] {
			c.fail(Invalid(at("lines", i, "insurance"), "%s appears twice", al.Insurance))
		}
		seen[al.Insurance] = true
		r.ev.Lines = append(r.ev.Lines, al)
	}
	if c.err == nil {
		r.ev.DueOn = ctx.Ref.DueDate(r.ev.Period)
	}
	return c.err
}

// Date is the assessment date.
func (r *MakeAssessment) Date() Date { return r.ev.AssessedOn }

// Decide sets an assessment for no declaration at 110% of the previous period's dues.
func (r *MakeAssessment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "assessed_on", r.ev.AssessedOn); err != nil {
		return nil, err
	}
	st, err := replacesBase(e, "assessed_on", r.ev.Period, r.ev.AssessedOn)
	if err != nil {
		return nil, err
	}
	if err := owesDuesOf(e, r.ev.Period, st != nil); err != nil {
		return nil, err
	}
	ev := r.ev
	if ev.Reason == AssessNoDeclaration && e.Declared[ev.Period] {
		return nil, Conflict("period", "%s is already declared; an assessment for no declaration does not apply", ev.Period)
	}
	if due := ctx.Ref.DueDate(ev.Period); ev.Reason == AssessNoDeclaration && ev.AssessedOn <= due {
		// Until its due date has passed the payer may still declare the period: none is missing.
		return nil, Conflict("assessed_on", "%s is not after %s's due date %s: the payer may declare the period until then (assess it for no declaration from %s)", ev.AssessedOn, ev.Period, due, due.AddDays(1))
	}
	for i, l := range ev.Lines {
		if err := carries(e, at("lines", i, "insurance"), l.Insurance); err != nil {
			return nil, err
		}
	}
	if ev.Reason == AssessNoDeclaration {
		lines, err := provisional(e, ctx, ev)
		if err != nil {
			return nil, err
		}
		ev.Lines = lines
	}
	if err := keepsLines(st, setLines(ev), "an assessment gives its lines: due_fen 0"); err != nil {
		return nil, err
	}
	return []Payload{ev}, nil
}

// provisional is the lines of an assessment for no declaration (DOMAIN.md): each insurance of the
// previous period at 110% of its due there, whatever its source; only with no previous period at
// all are the lines the ones given. A line given beside a previous period must be the rule's
// figure for an insurance of it: else the clerk's amount would stand under the 110% rule's name
// (an amount of another source is an audit assessment).
func provisional(e *Employer, ctx Context, ev AssessmentMade) ([]AssessedLine, error) {
	st := e.Account.Statement(ev.AssessedOn, ctx.Ref.LateFees)
	prev := ev.Period.Prev()
	var lines []AssessedLine
	previous := false
	for _, ins := range Insurances {
		l, ok := st.Line(LineKey{prev, ins})
		if !ok {
			continue
		}
		previous = true
		due, err := Percent(l.DueFen, 110)
		if err != nil {
			return nil, Invalid("period", "%v", err)
		}
		given := slices.IndexFunc(ev.Lines, func(g AssessedLine) bool { return g.Insurance == ins })
		if given >= 0 && ev.Lines[given].DueFen != due {
			return nil, Conflict(at("lines", given, "due_fen"), "%s of %s was due %d fen: an assessment for no declaration sets its line at 110%% of that, %d fen (leave the lines out to have them set; an amount of another source is an audit assessment)", ins, prev, l.DueFen, due)
		}
		if due > 0 || given >= 0 {
			lines = append(lines, AssessedLine{Insurance: ins, DueFen: due})
		}
	}
	if !previous {
		if len(ev.Lines) == 0 {
			return nil, Conflict("lines", "no due for the previous period %s to assess 110%% of: give the lines", prev)
		}
		return ev.Lines, nil
	}
	for i, g := range ev.Lines {
		if _, ok := st.Line(LineKey{prev, g.Insurance}); !ok {
			return nil, Conflict(at("lines", i, "insurance"), "%s has no %s line to assess 110%% of: an assessment for no declaration sets only the insurances of the previous period (assess %s by audit)", prev, g.Insurance, g.Insurance)
		}
	}
	if len(lines) == 0 {
		return nil, Conflict("lines", "every due of the previous period %s is 0: there is nothing to assess 110%% of (assess by audit)", prev)
	}
	return lines, nil
}

// OpeningInput is one line of carried-over arrears.
type OpeningInput struct {
	Period         string `json:"period"`
	Insurance      string `json:"insurance"`
	OutstandingFen Number `json:"outstanding_fen"`
}

// RecordOpeningBalance enters arrears carried over from before the ledger.
type RecordOpeningBalance struct {
	AsOf  string         `json:"as_of"`
	Lines []OpeningInput `json:"lines"`
	ev    OpeningBalanceRecorded
}

// Check validates the fields.
func (r *RecordOpeningBalance) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.AsOf = c.date("as_of", r.AsOf, true)
	if c.err == nil && len(r.Lines) == 0 {
		c.fail(Invalid("lines", "at least one line is required"))
	}
	seen := map[LineKey]bool{}
	r.ev.Lines = nil
	for i, l := range r.Lines {
		ol := OpeningLine{Period: c.period(at("lines", i, "period"), l.Period), Insurance: c.insurance(at("lines", i, "insurance"), l.Insurance),
			OutstandingFen: c.fen(at("lines", i, "outstanding_fen"), l.OutstandingFen, true, true)}
		if c.err == nil && ol.Period.FirstDay() > r.ev.AsOf {
			c.fail(Invalid(at("lines", i, "period"), "%s is after the balance date %s", ol.Period, r.ev.AsOf))
		}
		k := LineKey{ol.Period, ol.Insurance}
		if c.err == nil && seen[k] {
			c.fail(Invalid(at("lines", i, "period"), "%s %s appears twice", ol.Period, ol.Insurance))
		}
		seen[k] = true
		if c.err == nil {
			ol.DueOn = ctx.Ref.DueDate(ol.Period)
		}
		r.ev.Lines = append(r.ev.Lines, ol)
	}
	return c.err
}

// Date is the balance date.
func (r *RecordOpeningBalance) Date() Date { return r.ev.AsOf }

// Decide records the balances, each of a period begun before the employer entered the ledger and
// neither declared nor assessed in it.
func (r *RecordOpeningBalance) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "as_of", r.ev.AsOf); err != nil {
		return nil, err
	}
	for i, l := range r.ev.Lines {
		if err := carries(e, at("lines", i, "insurance"), l.Insurance); err != nil {
			return nil, err
		}
		// DOMAIN.md: arrears carried over from before the ledger. A period begun since the
		// payer entered is the ledger's own: declared, assessed or found by an audit.
		if l.Period.FirstDay() >= e.EnteredOn {
			return nil, Conflict(at("lines", i, "period"), "%s did not begin before the employer entered the ledger on %s: an opening balance carries arrears of periods begun before its entry (declare, assess or record an audit finding for a later one)", l.Period, e.EnteredOn)
		}
		// A period declared or assessed in the ledger (a back-payment) is the ledger's own too:
		// an opening line would add to its due.
		if _, seq, ok := e.Account.baseSetOn(l.Period); ok {
			return nil, Conflict(at("lines", i, "period"), "%s is declared or assessed in the ledger (sequence %d of the employer's history): its arrears are that line's, not carried over (correct the declaration instead)", l.Period, seq)
		}
	}
	return []Payload{r.ev}, nil
}

// AllocationInput directs part of a payment.
type AllocationInput struct {
	Insurance string `json:"insurance"`
	Period    string `json:"period"`
	AmountFen Number `json:"amount_fen"`
}

// RecordPayment records money received.
type RecordPayment struct {
	PaidOn      string            `json:"paid_on"`
	AmountFen   Number            `json:"amount_fen"`
	ReceiptNo   string            `json:"receipt_no"`
	Allocations []AllocationInput `json:"allocations"`
	ev          PaymentReceived
}

// Check validates the fields; allocations may not add up to more than the amount, name a line
// twice, or name a period that has not begun on the day of payment (it has no line to pay).
func (r *RecordPayment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.PaidOn = c.date("paid_on", r.PaidOn, true)
	r.ev.AmountFen = c.fen("amount_fen", r.AmountFen, true, true)
	r.ev.ReceiptNo = c.code("receipt_no", r.ReceiptNo, true, 64)
	var sum Fen
	seen := map[LineKey]bool{}
	r.ev.Allocations = nil
	for i, a := range r.Allocations {
		al := Allocation{Insurance: c.insurance(at("allocations", i, "insurance"), a.Insurance), Period: c.period(at("allocations", i, "period"), a.Period),
			AmountFen: c.fen(at("allocations", i, "amount_fen"), a.AmountFen, true, true)}
		if c.err == nil && al.Period.FirstDay() > r.ev.PaidOn {
			c.fail(Invalid(at("allocations", i, "period"), "%s has not begun on %s: an allocation pays a line the employer owes when it pays", al.Period, r.ev.PaidOn))
		}
		k := LineKey{al.Period, al.Insurance}
		if c.err == nil && seen[k] {
			c.fail(Invalid(at("allocations", i, "period"), "%s %s appears twice: give the line one allocation", al.Period, al.Insurance))
		}
		seen[k] = true
		sum += al.AmountFen
		if c.err == nil && sum > r.ev.AmountFen {
			c.fail(Invalid(at("allocations", i, "amount_fen"), "allocations add up to %d fen, more than the payment's %d", sum, r.ev.AmountFen))
		}
		r.ev.Allocations = append(r.ev.Allocations, al)
	}
	return c.err
}

// Date is the payment date.
func (r *RecordPayment) Date() Date { return r.ev.PaidOn }

// Decide refuses a receipt number of a payment of the employer's that stands (not reversed), or
// of a refund of its that stands, compared in the form NormalizeCode gives (a reversed payment's
// receipt may be recorded anew), and a payment dated before a principal waiver that would pay
// what the waiver took, leaving it less to waive.
func (r *RecordPayment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "paid_on", r.ev.PaidOn); err != nil {
		return nil, err
	}
	if reversed, used := e.Receipts[r.ev.ReceiptNo]; used && !reversed {
		return nil, Conflict("receipt_no", "receipt %s is already recorded for this employer, on a payment that stands (only the receipt of a reversed or voided payment may be recorded again)", r.ev.ReceiptNo)
	}
	for _, en := range e.Account.entries {
		if en.kind == entryRefund && en.receipt == r.ev.ReceiptNo {
			return nil, Conflict("receipt_no", "receipt %s is already recorded for this employer, on a refund of %s: a payment takes a receipt number of its own", r.ev.ReceiptNo, en.date)
		}
	}
	// A payment dated before a principal waiver may pay what it waived, and the waiver would lapse
	// unseen (a court's waiver gone, the payer pursued for it): refused as a void that would
	// leave a waiver less to waive is.
	if e.Account.principalWaiverFrom(r.ev.PaidOn) {
		if w, ok := principalPaidAway(&e.Account, e.Account.withNext(r.ev), ctx.Ref.LateFees); ok {
			k := w.line
			return nil, Conflict("paid_on", "with this payment dated %s, payments in date order would pay %d fen of the %s %s line that %s waived, and the waiver would lapse by as much: allocate this payment (or one dated after it whose allocation it would take) to other lines at the desk, or void the waiver first",
				r.ev.PaidOn, w.short, k.Insurance, k.Period, w)
		}
	}
	return []Payload{r.ev}, nil
}

// ReversePayment undoes a bounced payment.
type ReversePayment struct {
	ReversedOn string `json:"reversed_on"`
	ReceiptNo  string `json:"receipt_no"`
	Reason     string `json:"reason"`
	ev         PaymentReversed
}

// Check validates the fields.
func (r *ReversePayment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.ReversedOn = c.date("reversed_on", r.ReversedOn, true)
	r.ev.ReceiptNo = c.code("receipt_no", r.ReceiptNo, true, 64)
	r.ev.Reason = c.text("reason", r.Reason, true, 500)
	return c.err
}

// Date is the reversal date.
func (r *ReversePayment) Date() Date { return r.ev.ReversedOn }

// Decide requires a recorded payment with the receipt that stands (not reversed), dated on or
// before the reversal; the reversal undoes that payment only, not an earlier reversed one that
// had the same receipt. It refuses a reversal after which a refund would have paid out money the
// account no longer holds (the payment's money was refunded): the refund is voided first.
func (r *ReversePayment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	reversed, ok := e.Receipts[r.ev.ReceiptNo]
	switch {
	case !ok:
		return nil, Conflict("receipt_no", "no payment with receipt %s is recorded for this employer", r.ev.ReceiptNo)
	case reversed:
		return nil, Conflict("receipt_no", "the payment with receipt %s is already reversed", r.ev.ReceiptNo)
	}
	if p, ok := e.Account.payment(r.ev.ReceiptNo); ok && r.ev.ReversedOn < p.date {
		return nil, Conflict("reversed_on", "%s is before the payment's date %s", r.ev.ReversedOn, p.date)
	}
	if ref, ok := refundedAway(&e.Account, e.Account.withNext(r.ev), ctx.Ref.LateFees); ok {
		return nil, Conflict("receipt_no", "the refund with receipt %s of %s paid out money this payment brought in: void the refund first", ref.receipt, ref.date)
	}
	return []Payload{r.ev}, nil
}

// GrantWaiver waives late fees or principal on one line, with an authorising decision.
type GrantWaiver struct {
	DecidedOn    string `json:"decided_on"`
	Kind         string `json:"kind"`
	AuthorityDoc string `json:"authority_doc"`
	Reason       string `json:"reason"`
	Basis        string `json:"basis"`
	Insurance    string `json:"insurance"`
	Period       string `json:"period"`
	AmountFen    Number `json:"amount_fen"`
	ev           WaiverGranted
}

// Check validates the fields: an authority document always, a basis for principal.
func (r *GrantWaiver) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	ev := WaiverGranted{}
	ev.DecidedOn = c.date("decided_on", r.DecidedOn, true)
	ev.Kind = c.oneOf("kind", r.Kind, WaiverLateFee, WaiverPrincipal)
	if c.err == nil && strings.TrimSpace(r.AuthorityDoc) == "" {
		c.fail(Invalid("authority_doc", "is required: a waiver is only lawful with an authorising decision (随意减免 is not allowed)"))
	}
	ev.AuthorityDoc = c.text("authority_doc", r.AuthorityDoc, true, 200)
	ev.Reason = c.text("reason", r.Reason, true, 500)
	if ev.Kind == WaiverPrincipal {
		if r.Basis == "" {
			c.fail(Invalid("basis", "is required for a principal waiver: bankruptcy or court_ruling"))
		}
		ev.Basis = c.oneOf("basis", r.Basis, "bankruptcy", "court_ruling")
	} else if r.Basis != "" {
		ev.Basis = c.text("basis", r.Basis, false, 100)
	}
	ev.Insurance = c.insurance("insurance", r.Insurance)
	ev.Period = c.period("period", r.Period)
	ev.AmountFen = c.fen("amount_fen", r.AmountFen, true, true)
	r.ev = ev
	return c.err
}

// Date is the decision date.
func (r *GrantWaiver) Date() Date { return r.ev.DecidedOn }

// Decide refuses a waiver larger than what is owed on the line on the decision date.
func (r *GrantWaiver) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "decided_on", r.ev.DecidedOn); err != nil {
		return nil, err
	}
	st := e.Account.Statement(r.ev.DecidedOn, ctx.Ref.LateFees)
	l, ok := st.Line(LineKey{r.ev.Period, r.ev.Insurance})
	if !ok {
		return nil, Conflict("period", "the employer has no %s line for %s", r.ev.Insurance, r.ev.Period)
	}
	ev := r.ev
	ev.AccruedFeeFen = l.LateFeeAccruedFen
	owed, what := l.OutstandingFen, "outstanding principal"
	if ev.Kind == WaiverLateFee {
		owed, what = l.LateFeeFen, "unpaid late fee"
	}
	if ev.AmountFen > owed {
		return nil, Conflict("amount_fen", "%d fen is more than the %s of %d fen on %s %s on %s", ev.AmountFen, what, owed, ev.Insurance, ev.Period, ev.DecidedOn)
	}
	if w, ok := waivedAway(&e.Account, e.Account.withNext(ev), ctx.Ref.LateFees); ok {
		k := w.line
		if w.waiver != nil && w.waiver.seq == math.MaxUint64 { // this waiver itself (Account.withNext)
			return nil, Conflict("amount_fen", "%d fen of the waiver would lapse: the %s %s line owes less than that after %s, by an event dated later", w.short, k.Insurance, k.Period, ev.DecidedOn)
		}
		return nil, Conflict("amount_fen", "%s would then waive %d fen less of the %s %s line: a waiver takes only what the waivers recorded leave",
			w, w.short, k.Insurance, k.Period)
	}
	return []Payload{ev}, nil
}
