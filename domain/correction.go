// Over 500 lines for a reason: voids, reversals, refunds and reinstatements are the corrections of
// DOMAIN.md, decided against one another.

package domain

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Corrections (冲正): a void names one earlier event of the same employer, which from the void's
// sequence on counts as never recorded: the employer's state is its events folded without it
// (Fold). Reads and freezes cut before the void still see it, since they fold fewer events.

// EventVoided is a void (冲正). It keeps what it voids, so that a history or a list of
// corrections shows both without looking the event up.
type EventVoided struct {
	TargetID    string `json:"event_id"`
	TargetSeq   uint64 `json:"event_seq"`
	TargetType  string `json:"event_type"`
	TargetActor string `json:"event_actor"`
	// TargetCounty is the county the event was recorded in, where its mistake is counted.
	TargetCounty string `json:"event_county,omitempty"`
	TargetOn     Date   `json:"event_on"`
	VoidedOn     Date   `json:"voided_on"`
	Reason       string `json:"reason"`
}

// CreditRefunded is credit paid back to the employer (退费).
type CreditRefunded struct {
	RefundedOn Date   `json:"refunded_on"`
	AmountFen  Fen    `json:"amount_fen"`
	ReceiptNo  string `json:"receipt_no"`
}

// EventType implementations.
func (EventVoided) EventType() string    { return "event.voided" }
func (CreditRefunded) EventType() string { return "credit.refunded" }

// EventsDecider is a command decided on the employer's events as well as its state: the store
// gives them in Context.Events.
type EventsDecider interface {
	Command
	DecidesOnEvents()
}

// fourEyes lists the event types that move money: a void of one needs an auditor or admin who is
// not its actor (DOMAIN.md names payments, waivers, opening balances and audit findings; a
// reversal and a refund move money as a payment does).
var fourEyes = map[string]bool{
	PaymentReceived{}.EventType():        true,
	PaymentReversed{}.EventType():        true,
	WaiverGranted{}.EventType():          true,
	OpeningBalanceRecorded{}.EventType(): true,
	AuditFindingRecorded{}.EventType():   true,
	CreditRefunded{}.EventType():         true,
}

// VoidNeedsFourEyes reports whether a void of an event of this type needs an auditor or admin
// who is not the event's actor.
func VoidNeedsFourEyes(eventType string) bool { return fourEyes[eventType] }

// AuditorVoids lists, sorted, the event types only an auditor or an admin may void: those that
// move money (VoidNeedsFourEyes) and the inspectorate's.
func AuditorVoids() []string {
	out := slices.AppendSeq(slices.Collect(maps.Keys(fourEyes)), maps.Keys(inspectorate))
	slices.Sort(out)
	return out
}

// inspectorate lists the event types only auditors and admins record (the inspectorate's steps
// and inspections): a clerk, who may not record one, may not void one either.
var inspectorate = map[string]bool{
	EnforcementStepRecorded{}.EventType(): true,
	InspectionRecorded{}.EventType():      true,
}

// ActorName is the token's name of an actor "role:name" (the whole actor when it has no role).
func ActorName(actor string) string {
	if _, name, ok := strings.Cut(actor, ":"); ok {
		return name
	}
	return actor
}

// actorRole is the role of an actor "role:name", or "".
func actorRole(actor string) string {
	role, _, ok := strings.Cut(actor, ":")
	if !ok {
		return ""
	}
	return role
}

// Fold folds an employer's events, in stream order, each recorded after the last one folded into
// e. An event a void among them names is left out, as if never recorded. A void naming an
// event folded before them sets Refold: e must then be folded from the employer's first event.
// Events that could not be decoded (no body) are skipped.
func (e *Employer) Fold(evs []Event) {
	for _, ev := range evs {
		if v, ok := ev.Body.(EventVoided); ok && v.TargetSeq > e.Version {
			e.markVoided(v.TargetSeq)
		}
	}
	for _, ev := range evs {
		if ev.Body != nil {
			e.Apply(ev)
		}
	}
}

func (e *Employer) markVoided(seq uint64) {
	if e.voided == nil {
		e.voided = map[uint64]bool{}
	}
	e.voided[seq] = true
}

// voidedIn returns the sequences of the events the voids among evs name.
func voidedIn(evs []Event) map[uint64]bool {
	var out map[uint64]bool
	for _, ev := range evs {
		if v, ok := ev.Body.(EventVoided); ok {
			if out == nil {
				out = map[uint64]bool{}
			}
			out[v.TargetSeq] = true
		}
	}
	return out
}

// VoidEvent voids one of the employer's events (冲正).
type VoidEvent struct {
	EventID  string `json:"event_id"`
	VoidedOn string `json:"voided_on"`
	Reason   string `json:"reason"`
	date     Date
}

// Check validates the fields.
func (r *VoidEvent) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	// Ids are UUIDs, written in lower case; one copied in upper case names the same event.
	r.EventID = strings.ToLower(c.text("event_id", r.EventID, true, 64))
	r.date = c.date("voided_on", r.VoidedOn, true)
	r.Reason = c.text("reason", r.Reason, true, 500)
	return c.err
}

// Date is the void's date.
func (r *VoidEvent) Date() Date { return r.date }

// DecidesOnEvents marks the command as decided on the employer's events.
func (r *VoidEvent) DecidesOnEvents() {}

// Decide finds the event among ctx.Events and refuses: a void, the employer's entry, an event
// already voided, one dated in a closed year or after the void's date; a money event unless
// ctx.Actor is an auditor or admin other than its actor (four eyes); an event later events stand
// on (dependent); and a void after which a refund would pay out money the account no longer has.
func (r *VoidEvent) Decide(e *Employer, ctx Context) ([]Payload, error) {
	at := -1
	for i := range ctx.Events {
		if ctx.Events[i].ID == r.EventID {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, NotFound("event_id", "no event %s among this employer's events", Clip(r.EventID, 64))
	}
	t := ctx.Events[at]
	voided := voidedIn(ctx.Events)
	// Who may void it first: a refusal for the role answers 403 whatever else is wrong.
	if inspectorate[t.Type] {
		if role := actorRole(ctx.Actor); role != "auditor" && role != "admin" {
			return nil, &Error{Kind: KindForbidden, Field: "event_id",
				Detail: "a void of the inspectorate's " + t.Type + " needs an auditor or admin, as recording one does"}
		}
	}
	if VoidNeedsFourEyes(t.Type) {
		if role := actorRole(ctx.Actor); role != "auditor" && role != "admin" {
			return nil, &Error{Kind: KindForbidden, Field: "event_id",
				Detail: "a void of a money event (" + t.Type + ") needs an auditor or admin who is not the event's actor (four eyes)"}
		}
		if ActorName(ctx.Actor) == ActorName(t.Actor) {
			return nil, &Error{Kind: KindForbidden, Field: "event_id",
				Detail: "a void of a money event needs a second person: " + ActorName(t.Actor) + " recorded it and may not void it (four eyes)"}
		}
	}
	switch t.Body.(type) {
	case nil:
		return nil, Conflict("event_id", "event %s could not be decoded; it cannot be voided", t.ID)
	case EventVoided:
		return nil, Conflict("event_id", "event %s is a void: a void cannot be voided (record the event again instead)", t.ID)
	case EmployerRegistered, EmployerFound:
		return nil, Conflict("event_id", "event %s entered the employer into the ledger and cannot be voided; deregister the employer instead", t.ID)
	case OrgCodeCorrected:
		// The code it left may belong to another employer since.
		return nil, Conflict("event_id", "event %s corrected the organisation code and cannot be voided; correct the code again instead", t.ID)
	}
	if voided[t.Seq] {
		return nil, Conflict("event_id", "event %s is already voided", t.ID)
	}
	if err := checkYearOpen(ctx.Ref, "event_id", t.OccurredOn); err != nil {
		return nil, err
	}
	if r.date < t.OccurredOn {
		return nil, Conflict("voided_on", "%s is before the voided event's date %s", r.date, t.OccurredOn)
	}
	if d, ok := dependent(ctx.Events, at, voided); ok {
		return nil, Conflict("event_id", "event %s (%s, seq %d) stands on event %s: void it first", d.ID, d.Type, d.Seq, t.ID)
	}
	if d, ins, ok := droppedBy(ctx.Events, at, voided); ok {
		return nil, Conflict("event_id", "event %s (%s, seq %d), which stands after event %s, leaves out %s, which the declaration or assessment before them has a due for: with event %s voided it would drop that due unseen; void it first, or declare the period again with every line", d.ID, d.Type, d.Seq, t.ID, ins, t.ID)
	}
	if _, ok := t.Body.(EnrollmentRecorded); ok {
		if d, ok := unenrolledBy(e.ID, ctx.Events, at, voided); ok {
			return nil, Conflict("event_id", "event %s (%s, seq %d) declares a period event %s enrolls, and no other enrollment does: void it first, or record the right enrollment", d.ID, d.Type, d.Seq, t.ID)
		}
	}
	trial := &Employer{ID: e.ID, SkipHistory: true}
	trial.markVoided(t.Seq)
	trial.Fold(ctx.Events)
	if ref, ok := refundedAway(&e.Account, &trial.Account, ctx.Ref.LateFees); ok {
		return nil, Conflict("event_id", "the refund with receipt %s of %s paid out money that event %s brought in: void the refund first", ref.receipt, ref.date, t.ID)
	}
	if _, ok := t.Body.(WaiverGranted); !ok {
		// A compacted account keeps its waivers out of sight: it is folded whole, as the trial.
		now := &e.Account
		if now.CompactedThrough() != 0 {
			whole := &Employer{ID: e.ID, SkipHistory: true}
			whole.Fold(ctx.Events)
			now = &whole.Account
		}
		if w, ok := waivedAway(now, &trial.Account, ctx.Ref.LateFees); ok {
			return nil, Conflict("event_id", "%s waives what event %s set or left owed, and would find %d fen less to waive without it: void the waiver first",
				w, t.ID, w.short)
		}
	}
	return []Payload{EventVoided{TargetID: t.ID, TargetSeq: t.Seq, TargetType: t.Type, TargetActor: t.Actor,
		TargetCounty: t.County, TargetOn: t.OccurredOn, VoidedOn: r.date, Reason: r.Reason}}, nil
}

// dependent returns the first event among an employer's events (in stream order) that stands on
// the one at index at (voided: the events voids name), one a void of it would leave without its
// ground: the reversal of a payment; a payment recorded anew with the receipt of a reversal; a
// declaration of a period its enrollment alone enrolls (unenrolledBy, checked apart); an
// assessment for no declaration of the next period still standing (assessed110) made of a line
// the event set or added to; a later enforcement step dated on or after it; the reinstatement that ends a
// deregistration; any event recorded after a reinstatement. Voided events and voids stand on
// nothing.
func dependent(events []Event, at int, voided map[uint64]bool) (Event, bool) {
	if a, ok := assessed110(events, at, voided); ok {
		return a, true
	}
	for _, ev := range events[at+1:] {
		if voided[ev.Seq] || ev.Body == nil {
			continue
		}
		if _, ok := ev.Body.(EventVoided); ok {
			continue
		}
		switch t := events[at].Body.(type) {
		case PaymentReceived:
			switch p := ev.Body.(type) {
			case PaymentReversed:
				if NormalizeCode(p.ReceiptNo) == NormalizeCode(t.ReceiptNo) {
					return ev, true
				}
			case PaymentReceived:
				if NormalizeCode(p.ReceiptNo) == NormalizeCode(t.ReceiptNo) {
					return Event{}, false
				}
			}
		case PaymentReversed:
			if p, ok := ev.Body.(PaymentReceived); ok && NormalizeCode(p.ReceiptNo) == NormalizeCode(t.ReceiptNo) {
				return ev, true
			}
		case EnforcementStepRecorded:
			// A step dated before this one was decided on the steps before it, not on this one.
			if x, ok := ev.Body.(EnforcementStepRecorded); ok && x.On >= t.On {
				return ev, true
			}
		case EmployerDeregistered:
			if _, ok := ev.Body.(EmployerReinstated); ok {
				return ev, true
			}
		case EmployerReinstated:
			return ev, true
		}
	}
	return Event{}, false
}

// unenrolledBy returns the standing declaration of a period (the latest dated, not voided, not
// replaced by a later declaration or assessment of the period) that declares the insurance of
// the enrollment at index at, in a period that enrollment enrolls on its first or last day and
// no other does: the declaration stands on it. Another enrollment in force, recorded before or
// after, is ground enough (a clerk records the right enrollment, then voids the wrong one); one
// of no persons is none.
func unenrolledBy(id string, events []Event, at int, voided map[uint64]bool) (Event, bool) {
	ins := events[at].Body.(EnrollmentRecorded).Insurance.canonical()
	standing := map[Period]Event{}
	for _, ev := range events {
		if voided[ev.Seq] {
			continue
		}
		if p, sets := setPeriod(ev.Body); sets {
			if cur, ok := standing[p]; !ok || ev.OccurredOn >= cur.OccurredOn {
				standing[p] = ev
			}
		}
	}
	with, without := &Employer{ID: id}, &Employer{ID: id}
	with.Fold(events)
	without.markVoided(events[at].Seq)
	without.Fold(events)
	for _, ev := range events {
		d, ok := ev.Body.(DeclarationFiled)
		if !ok || standing[d.Period].Seq != ev.Seq {
			continue
		}
		for _, l := range d.Lines {
			if l.Insurance.canonical() != ins || l.Headcount == 0 {
				continue // a line of no persons declares no one enrolled
			}
			for _, day := range []Date{d.Period.FirstDay(), d.Period.LastDay()} {
				if with.EnrolledOn(ins, day) > 0 && without.EnrolledOn(ins, day) == 0 {
					return ev, true
				}
			}
		}
	}
	return Event{}, false
}

// assessed110 returns an assessment for no declaration, recorded after the event at index at and
// still standing (replaced), whose 110% was taken of a line of the period before that the event
// set (groundOf) or added to (an audit finding, an opening balance, recorded before it and dated
// on or before it); or one the event, a declaration, replaced and that would stand again on no
// line once the event is voided (its ground voided since).
func assessed110(events []Event, at int, voided map[uint64]bool) (Event, bool) {
	t := events[at]
	periods := linePeriods(t.Body)
	if len(periods) == 0 {
		return Event{}, false
	}
	_, sets := setPeriod(t.Body)
	for i := at + 1; i < len(events); i++ {
		a := events[i]
		x, ok := a.Body.(AssessmentMade)
		if !ok || voided[a.Seq] || x.Reason != AssessNoDeclaration || !periods[x.Period.Prev()] || replaced(events, i, voided) {
			continue
		}
		if !sets {
			if t.OccurredOn <= a.OccurredOn {
				return a, true // in the line the assessment was made of
			}
			continue
		}
		if g, ok := groundOf(events, i, voided); ok && g.Seq == t.Seq {
			return a, true
		}
	}
	if d, ok := t.Body.(DeclarationFiled); ok {
		without := map[uint64]bool{t.Seq: true}
		maps.Copy(without, voided)
		for i := range at {
			a := events[i]
			x, ok := a.Body.(AssessmentMade)
			if !ok || voided[a.Seq] || x.Reason != AssessNoDeclaration || x.Period != d.Period || !replaced(events, i, voided) || replaced(events, i, without) {
				continue
			}
			if _, ok := groundOf(events, i, without); !ok {
				return a, true
			}
		}
	}
	return Event{}, false
}

// replaced reports whether a declaration of its period dated on or after it, recorded after it
// and not voided, replaced the assessment at index i (settlement).
func replaced(events []Event, i int, voided map[uint64]bool) bool {
	a, p := events[i], events[i].Body.(AssessmentMade).Period
	for _, d := range events[i+1:] {
		if x, ok := d.Body.(DeclarationFiled); ok && !voided[d.Seq] && x.Period == p && d.OccurredOn >= a.OccurredOn {
			return true
		}
	}
	return false
}

// groundOf returns the event that set the line of the period before that the assessment at index
// i was made 110% of: as the account orders a period's entries (by date, then sequence) and a
// declaration or assessment replaces the period's lines whole, the latest of them by date and
// sequence recorded before the assessment, dated on or before it and not voided.
func groundOf(events []Event, i int, voided map[uint64]bool) (Event, bool) {
	a, p := events[i], events[i].Body.(AssessmentMade).Period.Prev()
	var g Event
	found := false
	for _, s := range events[:i] {
		if sp, ok := setPeriod(s.Body); !ok || sp != p || voided[s.Seq] || s.OccurredOn > a.OccurredOn {
			continue
		}
		if !found || s.OccurredOn > g.OccurredOn || s.OccurredOn == g.OccurredOn && s.Seq > g.Seq {
			g, found = s, true
		}
	}
	return g, found
}

// droppedBy returns, for a declaration or assessment at index at, the one of its period next
// after it by date (then by recording) that leaves out an insurance the one before it has a due
// for, and that insurance: each was decided against the one standing then (keepsLines), so a
// void of the event between them would leave that due dropped with nothing that says so.
func droppedBy(events []Event, at int, voided map[uint64]bool) (Event, Insurance, bool) {
	p, ok := setPeriod(events[at].Body)
	if !ok {
		return Event{}, "", false
	}
	var set []Event
	for _, ev := range events {
		if q, ok := setPeriod(ev.Body); ok && q == p && !voided[ev.Seq] {
			set = append(set, ev)
		}
	}
	slices.SortStableFunc(set, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.OccurredOn, b.OccurredOn), cmp.Compare(a.Seq, b.Seq))
	})
	i := slices.IndexFunc(set, func(ev Event) bool { return ev.Seq == events[at].Seq })
	if i <= 0 || i == len(set)-1 {
		return Event{}, "", false // nothing before it, or it stands: a void leaves the one before standing
	}
	before, after := setLines(set[i-1].Body), setLines(set[i+1].Body)
	for _, l := range before {
		if l.amount > 0 && !slices.ContainsFunc(after, func(a lineAmount) bool { return a.key.Insurance == l.key.Insurance }) {
			return set[i+1], l.key.Insurance, true
		}
	}
	return Event{}, "", false
}

// setLines are the lines (period and insurance, due) a declaration or assessment sets.
func setLines(body Payload) []lineAmount {
	var out []lineAmount
	switch b := body.(type) {
	case DeclarationFiled:
		out = make([]lineAmount, len(b.Lines))
		for i, l := range b.Lines {
			out[i] = lineAmount{LineKey{b.Period, l.Insurance.canonical()}, l.DueFen}
		}
	case AssessmentMade:
		out = make([]lineAmount, len(b.Lines))
		for i, l := range b.Lines {
			out[i] = lineAmount{LineKey{b.Period, l.Insurance.canonical()}, l.DueFen}
		}
	}
	return out
}

// setPeriod returns the period whose lines a declaration or an assessment sets (the account's
// entrySetBase), and false for any other event.
func setPeriod(body Payload) (Period, bool) {
	switch b := body.(type) {
	case DeclarationFiled:
		return b.Period, true
	case AssessmentMade:
		return b.Period, true
	}
	return 0, false
}

// linePeriods returns the periods whose lines an event sets (setPeriod) or adds to (an audit
// finding, an opening balance); none for any other.
func linePeriods(body Payload) map[Period]bool {
	out := map[Period]bool{}
	if p, ok := setPeriod(body); ok {
		out[p] = true
	}
	switch b := body.(type) {
	case AuditFindingRecorded:
		out[b.Period] = true
	case OpeningBalanceRecorded:
		for _, l := range b.Lines {
			out[l.Period] = true
		}
	}
	return out
}

// RefundCredit pays credit back to the employer (退费).
type RefundCredit struct {
	RefundedOn string `json:"refunded_on"`
	AmountFen  Number `json:"amount_fen"`
	ReceiptNo  string `json:"receipt_no"`
	ev         CreditRefunded
}

// Check validates the fields.
func (r *RefundCredit) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.RefundedOn = c.date("refunded_on", r.RefundedOn, true)
	r.ev.AmountFen = c.fen("amount_fen", r.AmountFen, true, true)
	r.ev.ReceiptNo = c.code("receipt_no", r.ReceiptNo, true, 64)
	return c.err
}

// Date is the refund's date.
func (r *RefundCredit) Date() Date { return r.ev.RefundedOn }

// Decide refuses a refund above the credit the employer holds on its date and keeps from then on
// (a refund never takes money that has since paid a due, or that a later refund paid out), and a
// receipt of another refund of the employer's that stands, or of a payment of its that stands:
// the refund note and the payment's receipt would print one number.
func (r *RefundCredit) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "refunded_on", r.ev.RefundedOn); err != nil {
		return nil, err
	}
	if reversed, used := e.Receipts[r.ev.ReceiptNo]; used && !reversed {
		return nil, Conflict("receipt_no", "receipt %s is already recorded for this employer, on a payment that stands: a refund takes a receipt number of its own", r.ev.ReceiptNo)
	}
	for _, en := range e.Account.entries {
		if en.kind == entryRefund && en.receipt == r.ev.ReceiptNo {
			return nil, Conflict("receipt_no", "receipt %s is already recorded for this employer, on a refund of %s", r.ev.ReceiptNo, en.date)
		}
	}
	if credit, on := e.Account.CreditFrom(r.ev.RefundedOn, ctx.Ref.LateFees); r.ev.AmountFen > credit {
		when := ""
		if on > r.ev.RefundedOn {
			when = " (the credit falls to that on " + on.String() + ", as an entry of that day pays from it, in the order the day's entries were recorded)"
		}
		return nil, Conflict("amount_fen", "%d fen is more than the credit of %d fen the employer holds from %s on%s: a refund pays back credit only", r.ev.AmountFen, credit, r.ev.RefundedOn, when)
	}
	return []Payload{r.ev}, nil
}

// CreditFrom is the least credit the account holds on any date from d on, and the first date it
// is that little: on d, after the entries dated on or before it, and after each later one, in
// the order the book applies them (reversals dated after d undo their payments from the start,
// as in a statement as of the last entry). Within a day that is the order entries were recorded
// in: a declaration recorded before the same day's payment takes the credit for a while, and a
// refund recorded between them would have found it gone.
func (a *Account) CreditFrom(d Date, fees []LateFeeRate) (Fen, Date) {
	last, _ := a.refundsAfter(d)
	entries := a.applied(last)
	s := a.newBook(fees)
	i := 0
	for ; i < len(entries) && entries[i].date <= d; i++ {
		s.apply(entries[i])
	}
	least, on := s.credit, d
	for ; i < len(entries); i++ {
		s.apply(entries[i])
		if s.credit < least {
			least, on = s.credit, entries[i].date
		}
	}
	return max(least, 0), on
}

// refundedAway returns a refund that, in account after (account before with an event reversed
// or voided), pays out money the account does not hold at its date where in before it did, or
// more of it: the event brought in money the refund paid out. The refund would take it back from
// dues paid (book.refund), turning them into arrears, or overdraw the account.
func refundedAway(before, after *Account, fees []LateFeeRate) (entry, bool) {
	last, refunds := after.refundsAfter(0)
	if !refunds {
		return entry{}, false
	}
	shorts := after.bookThrough(last, fees).shorts
	if len(shorts) == 0 {
		return entry{}, false // no refund short after: before is not needed
	}
	was := before.bookThrough(last, fees).shorts
	for _, r := range shorts {
		var had refundShort
		for _, w := range was {
			if w.refund.receipt == r.refund.receipt && w.refund.date == r.refund.date {
				had = w
				break
			}
		}
		// More short, or as short and less to take back from (the event paid the dues the
		// refund took its money back from): either way the refund paid out the event's money.
		if r.short > had.short || r.unfound > had.unfound {
			return *r.refund, true
		}
	}
	return entry{}, false
}

// waivedAway returns a waiver that after, the account with a waiver added or an event voided,
// leaves less to waive than before did, and how much less: a waiver dated before one already
// recorded takes from what that one waived; a void takes the dues or fee it waived; principal
// waived on the day of a late-fee waiver lowers the fee that day accrues, and the fee waived
// beyond it lapses (book.feeWithin).
func waivedAway(before, after *Account, fees []LateFeeRate) (waiverShort, bool) {
	last, _ := after.refundsAfter(0)
	a := after.bookThrough(last, fees)
	lapsed := slices.ContainsFunc(a.order, func(l *bookLine) bool { return l.waiverLapsed+l.feeWaiverLapsed > 0 })
	if len(a.unwaived) == 0 && !lapsed {
		return waiverShort{}, false // none short after: before is not needed
	}
	b := before.bookThrough(last, fees)
	if w, ok := unwaivedMore(a, b, nil); ok {
		return w, true
	}
	for _, l := range a.order {
		var was bookLine
		if x, ok := b.lines[l.key]; ok {
			was = *x
		}
		if x := l.waiverLapsed - was.waiverLapsed; x > 0 {
			return waiverShort{after.lastWaiver(l.key, entryWaivePrincipal, last), l.key, x}, true
		}
		if x := l.feeWaiverLapsed - was.feeWaiverLapsed; x > 0 {
			return waiverShort{after.lastWaiver(l.key, entryWaiveFee, last), l.key, x}, true
		}
	}
	return waiverShort{}, false
}

// unwaivedMore returns a waiver among those of book a that pass keep (all, when keep is nil)
// that finds less to waive than in book b, and how much less.
func unwaivedMore(a, b *book, keep func(*entry) bool) (waiverShort, bool) {
	for _, w := range a.unwaived {
		if keep != nil && (w.waiver == nil || !keep(w.waiver)) {
			continue
		}
		i := slices.IndexFunc(b.unwaived, func(v waiverShort) bool { return v.waiver.seq == w.waiver.seq })
		if i >= 0 {
			w.short -= b.unwaived[i].short // short already (a waiver recorded before this rule): the part added
		}
		if w.short > 0 {
			return w, true
		}
	}
	return waiverShort{}, false
}

// principalPaidAway returns a principal waiver that, with a payment added (after), finds less to
// waive than before: the payment, dated before it, paid what it waived. A fee waiver that finds
// less is not counted: principal paid earlier accrues less fee, which is no loss to the payer.
func principalPaidAway(before, after *Account, fees []LateFeeRate) (waiverShort, bool) {
	last, _ := after.refundsAfter(0)
	a := after.bookThrough(last, fees)
	if len(a.unwaived) == 0 {
		return waiverShort{}, false
	}
	return unwaivedMore(a, before.bookThrough(last, fees), func(en *entry) bool { return en.kind == entryWaivePrincipal })
}

// lastWaiver is the waiver of kind on line k applied last on or before d, if any: the one a
// lapse of what the line's waivers took falls on first (none when a compaction carries it).
func (a *Account) lastWaiver(k LineKey, kind entryKind, d Date) *entry {
	var last *entry
	for i := range a.entries {
		e := &a.entries[i]
		if e.kind == kind && e.date <= d && e.lines[0].key == k && (last == nil || entryOrder(e, last) > 0) {
			last = e
		}
	}
	return last
}

// refundsAfter returns the latest date among d and the entries', and whether a refund is dated
// after d.
func (a *Account) refundsAfter(d Date) (last Date, refunds bool) {
	last = d
	for _, e := range a.entries {
		last = max(last, e.date)
		refunds = refunds || e.kind == entryRefund && e.date > d
	}
	return last, refunds
}

// principalWaiverFrom reports whether a principal waiver among the entries is dated on or after
// d: only such a waiver can find less to waive when a payment dated d is added.
func (a *Account) principalWaiverFrom(d Date) bool {
	for i := range a.entries {
		if en := &a.entries[i]; en.kind == entryWaivePrincipal && en.date >= d {
			return true
		}
	}
	return false
}
