// Over 500 lines for a reason: the corrections' rules are a table of cases over one payer's book.

package domain

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// payerBook is one employer's events as a store would hold them, with the write side's fold of
// them kept as the store keeps it: applied one at a time, folded again when a void asks.
type payerBook struct {
	t     *testing.T
	evs   []Event
	e     *Employer
	ref   *Reference
	today Date
}

func newPayerBook(t *testing.T) *payerBook {
	b := &payerBook{t: t, e: &Employer{ID: "p1", SkipHistory: true}, ref: defaultRef(), today: MustDate("2006-12-31")}
	b.must("clerk:wang", &RegisterEmployer{OrgCode: NumberedOrgCode(1), Name: "赣南机械厂", County: "360702",
		Kind: string(KindEnterprise), RiskClass: "1", Ownership: "私营", RegisteredOn: "2006-04-01", CertificateNo: "C1"})
	return b
}

// decide checks and decides cmd as actor, on the events so far, appending nothing.
func (b *payerBook) decide(actor string, cmd Command) ([]Payload, error) {
	ctx := Context{Ref: b.ref, Today: b.today, Actor: actor}
	if _, ok := cmd.(EventsDecider); ok {
		ctx.Events = b.evs
	}
	if err := cmd.Check(ctx); err != nil {
		return nil, err
	}
	return cmd.Decide(b.e, ctx)
}

// do checks and decides cmd as actor, on the events so far, and records what it decides.
func (b *payerBook) do(actor string, cmd Command) ([]Event, error) {
	ps, err := b.decide(actor, cmd)
	if err != nil {
		return nil, err
	}
	return b.append(actor, cmd.Date(), ps), nil
}

// append records payloads ps, dated on, as actor's events.
func (b *payerBook) append(actor string, on Date, ps []Payload) []Event {
	var out []Event
	for _, p := range ps {
		n := uint64(len(b.evs) + 1)
		ev := Event{Envelope: Envelope{ID: fmt.Sprintf("ev-%d", n), Type: p.EventType(), EmployerID: "p1", Seq: n, N: n,
			OccurredOn: on, Actor: actor}, Body: p}
		b.evs = append(b.evs, ev)
		b.e.Apply(ev)
		out = append(out, ev)
	}
	if b.e.Refold {
		b.e = &Employer{ID: "p1", SkipHistory: true}
		b.e.Fold(b.evs)
	}
	return out
}

func (b *payerBook) must(actor string, cmd Command) Event {
	b.t.Helper()
	evs, err := b.do(actor, cmd)
	if err != nil {
		b.t.Fatalf("%T: %v", cmd, err)
	}
	return evs[0]
}

// refused runs cmd and wants it refused with kind on field; it returns the error's detail.
func (b *payerBook) refused(actor string, cmd Command, kind Kind, field string) string {
	b.t.Helper()
	n := len(b.evs)
	_, err := b.do(actor, cmd)
	var de *Error
	if !errors.As(err, &de) || de.Kind != kind || de.Field != field {
		b.t.Fatalf("%T: got %v, want a %v error on %q", cmd, err, kind, field)
	}
	if len(b.evs) != n {
		b.t.Fatalf("%T was refused but recorded events", cmd)
	}
	return de.Detail
}

func declaration(on, period string, dueBase string) *FileDeclaration {
	return &FileDeclaration{DeclaredOn: on, Period: period,
		Lines: []DeclareLine{{Insurance: "unemployment", Headcount: "1", WageBaseFen: Number(dueBase)}}}
}

func payment(on, receipt, amount string) *RecordPayment {
	return &RecordPayment{PaidOn: on, AmountFen: Number(amount), ReceiptNo: receipt}
}

func void(id, on string) *VoidEvent {
	return &VoidEvent{EventID: id, VoidedOn: on, Reason: "entered twice"}
}

// statementsAt are the statements of e's account on the dates a test compares.
func statementsAt(e *Employer) []Statement {
	var out []Statement
	for _, d := range []string{"2006-05-31", "2006-06-30", "2006-09-30", "2006-12-31"} {
		out = append(out, e.Account.Statement(MustDate(d), defaultRef().LateFees))
	}
	return out
}

func TestAVoidedPaymentCountsAsNeverRecorded(t *testing.T) {
	// Unemployment is 3% of the base: a base of 1,000,000 fen is due 30,000 fen.
	with, without := newPayerBook(t), newPayerBook(t)
	for _, b := range []*payerBook{with, without} {
		b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	}
	paid := with.must("clerk:wang", payment("2006-05-12", "R-1", "20000"))
	for _, b := range []*payerBook{with, without} {
		b.must("clerk:wang", payment("2006-07-01", "R-2", "5000"))
		b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
	}
	before := statementsAt(with.e)
	with.must("auditor:li", void(paid.ID, "2006-07-20"))

	if got, want := statementsAt(with.e), statementsAt(without.e); !reflect.DeepEqual(got, want) {
		t.Errorf("after the void the statements are\n%+v\nwithout the payment they are\n%+v", got, want)
	}
	if reflect.DeepEqual(before, statementsAt(with.e)) {
		t.Error("the void changed no statement")
	}
	// The late fee on April's line, as of 2006-06-30: 30,000 fen outstanding from 05-16 to
	// 06-30 (46 days) at 2‰ a day, less the July payment (after the date) = 30,000 × 46 × 20 / 10,000.
	st := with.e.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees)
	if l, _ := st.Line(LineKey{MustPeriod("2006-04"), Unemployment}); l.LateFeeFen != 2760 {
		t.Errorf("April's late fee as of 06-30 = %d fen, want 2760 (the voided payment no longer lowers it)", l.LateFeeFen)
	}
	if _, used := with.e.Receipts["R-1"]; used {
		t.Error("the voided payment's receipt is still taken")
	}
	// The state a fold of every event reaches is the one the write side kept.
	again := &Employer{ID: "p1", SkipHistory: true}
	again.Fold(with.evs)
	if !reflect.DeepEqual(statementsAt(again), statementsAt(with.e)) {
		t.Error("a fold of the events differs from the state folded one event at a time")
	}
	// A fold cut before the void still sees the payment.
	cut := &Employer{ID: "p1", SkipHistory: true}
	cut.Fold(with.evs[:len(with.evs)-1])
	if !reflect.DeepEqual(statementsAt(cut), before) {
		t.Error("a fold cut before the void does not see the payment")
	}
	// So does a dated read (EmployerOn) of a date before the void: a void counts from its
	// sequence, whatever its date.
	on := EmployerOn(with.evs, MustDate("2006-06-30"))
	if got := on.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees); !reflect.DeepEqual(got, statementsAt(without.e)[1]) {
		t.Errorf("EmployerOn a date before the void's = %+v, want the statement without the payment", got.Totals)
	}
}

func TestVoidRules(t *testing.T) {
	t.Run("a void cannot be voided", func(t *testing.T) {
		b := newPayerBook(t)
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		v := b.must("clerk:wang", void(s.ID, "2006-05-02"))
		b.refused("admin:root", void(v.ID, "2006-05-03"), KindConflict, "event_id")
	})
	t.Run("an event is voided once", func(t *testing.T) {
		b := newPayerBook(t)
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		b.must("clerk:wang", void(s.ID, "2006-05-02"))
		b.refused("clerk:wang", void(s.ID, "2006-05-03"), KindConflict, "event_id")
	})
	t.Run("the employer's entry is not voided", func(t *testing.T) {
		b := newPayerBook(t)
		b.refused("admin:root", void(b.evs[0].ID, "2006-05-03"), KindConflict, "event_id")
	})
	t.Run("an id copied in upper case names the same event", func(t *testing.T) {
		b := newPayerBook(t)
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		b.must("clerk:wang", void(strings.ToUpper(s.ID), "2006-05-02"))
		if b.e.Workforce != 0 {
			t.Errorf("workforce %d after the void, want 0", b.e.Workforce)
		}
	})
	t.Run("an unknown event is not found", func(t *testing.T) {
		b := newPayerBook(t)
		b.refused("admin:root", void("no-such-event", "2006-05-03"), KindNotFound, "event_id")
	})
	t.Run("a void is not dated before the event", func(t *testing.T) {
		b := newPayerBook(t)
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		b.refused("clerk:wang", void(s.ID, "2006-04-30"), KindConflict, "voided_on")
	})
	t.Run("an event dated in a closed year is not voided", func(t *testing.T) {
		b := newPayerBook(t)
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		b.ref.Apply(YearClosed{Year: 2006, FreezeID: "f", Digest: "d"})
		b.today = MustDate("2007-01-10")
		b.refused("clerk:wang", void(s.ID, "2007-01-05"), KindYearClosed, "event_id")
	})
	t.Run("a survey voided restores the workforce counted before", func(t *testing.T) {
		b := newPayerBook(t)
		b.must("clerk:wang", &RecordSurvey{AsOf: "2006-05-01", Workforce: "40"})
		s := b.must("clerk:wang", &RecordSurvey{AsOf: "2006-06-01", Workforce: "400"})
		b.must("clerk:wang", void(s.ID, "2006-06-02"))
		if b.e.Workforce != 40 {
			t.Errorf("workforce = %d, want 40", b.e.Workforce)
		}
	})
}

func TestFourEyesOnMoneyVoids(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	p := b.must("clerk:wang", payment("2006-05-12", "R-1", "20000"))
	w := b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-08-01", Kind: WaiverLateFee, AuthorityDoc: "赣劳社〔2006〕1号",
		Reason: "hardship", Insurance: "unemployment", Period: "2006-04", AmountFen: "100"})
	tests := []struct {
		name, actor string
		event       Event
		kind        Kind
	}{
		{"a clerk may not void a payment", "clerk:zhao", p, KindForbidden},
		{"an auditor may not void a waiver of their own", "auditor:li", w, KindForbidden},
		{"an admin may not void a payment they recorded under another role", "admin:wang", p, KindForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := b.refused(tt.actor, void(tt.event.ID, "2006-08-02"), tt.kind, "event_id"); !strings.Contains(d, "four eyes") {
				t.Errorf("refusal %q does not say which rule", d)
			}
		})
	}
	t.Run("another auditor voids the waiver", func(t *testing.T) {
		b.must("auditor:zhou", void(w.ID, "2006-08-02"))
	})
	t.Run("an admin who did not record it voids the payment", func(t *testing.T) {
		b.must("admin:root", void(p.ID, "2006-08-02"))
	})
	t.Run("a clerk voids a declaration, which moves no money by itself", func(t *testing.T) {
		d := b.evs[1]
		if d.Type != "declaration.filed" {
			t.Fatalf("event 2 is %s", d.Type)
		}
		b.must("clerk:zhao", void(d.ID, "2006-08-03"))
		if st := b.e.Account.Statement(MustDate("2006-12-31"), defaultRef().LateFees); st.Totals.DueFen != 0 {
			t.Errorf("due after the declaration's void = %d, want 0", st.Totals.DueFen)
		}
	})
}

// The inspectorate's steps and inspections are recorded by auditors and admins only; so are
// their voids. A clerk's other events are the clerk's to void.
func TestAClerkMayNotVoidTheInspectoratesEvents(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	n := b.must("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-1", Deadline: "2006-07-15"})
	i := b.must("auditor:li", &RecordInspection{On: "2006-07-05", Team: "市稽核一组", Scope: "full", Result: "clean"})
	for _, ev := range []Event{n, i} {
		if d := b.refused("clerk:wang", void(ev.ID, "2006-08-01"), KindForbidden, "event_id"); !strings.Contains(d, "auditor or admin") {
			t.Errorf("a clerk's void of %s refused as %q, which does not say who may", ev.Type, d)
		}
	}
	b.must("auditor:li", void(i.ID, "2006-08-01"))
	b.must("admin:root", void(n.ID, "2006-08-01"))
	// Who may void comes first: already voided, it is still 403 to a clerk, not 409.
	b.refused("clerk:wang", void(i.ID, "2006-08-02"), KindForbidden, "event_id")
}

func TestAVoidOfAnEventLaterOnesStandOnNamesThem(t *testing.T) {
	tests := []struct {
		name  string
		setup func(b *payerBook) (target, dependent Event)
	}{
		{"a payment already reversed", func(b *payerBook) (Event, Event) {
			p := b.must("clerk:wang", payment("2006-05-12", "R-1", "20000"))
			r := b.must("clerk:wang", &ReversePayment{ReversedOn: "2006-05-20", ReceiptNo: "R-1", Reason: "退票"})
			return p, r
		}},
		{"a reversal whose receipt was paid again", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", payment("2006-05-12", "R-1", "20000"))
			r := b.must("clerk:wang", &ReversePayment{ReversedOn: "2006-05-20", ReceiptNo: "R-1", Reason: "退票"})
			p := b.must("clerk:wang", payment("2006-05-25", "R-1", "20000"))
			return r, p
		}},
		{"an enrollment under a declaration", func(b *payerBook) (Event, Event) {
			en := b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-05-01"})
			d := b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
			return en, d
		}},
		{"a declaration the next period's 110% assessment was made of", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			d := b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			return d, a
		}},
		{"an assessment the next period's 110% assessment was made of", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			next := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-07-20", Period: "2006-06", Reason: AssessNoDeclaration})
			return a, next
		}},
		{"a declaration that stays the ground though re-declared with an earlier date later", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			// Dated before d and recorded after it, as a ledger written before such a declaration
			// was refused holds it (decided before d, appended after): d's line stands.
			early := declaration("2006-05-15", "2006-04", "500000")
			ps, err := b.decide("clerk:wang", early)
			if err != nil {
				b.t.Fatal(err)
			}
			d := b.must("clerk:wang", declaration("2006-05-20", "2006-04", "1000000"))
			b.append("clerk:wang", early.Date(), ps)
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			return d, a
		}},
		{"an audit finding added to the line the next period's 110% assessment was made of", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			f := b.must("auditor:li", &RecordAuditFinding{FoundOn: "2006-05-30", Kind: FindingUnderReportedBase, Period: "2006-04",
				Insurance: "unemployment", ExtraWageBaseFen: "200000", RedeclareBy: "2006-06-30"})
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			return f, a
		}},
		{"a declaration that replaced an assessment whose line has since been voided", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			d := b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			settled := b.must("clerk:wang", declaration("2006-06-25", "2006-05", "500000"))
			b.must("admin:root", void(d.ID, "2006-07-01")) // the assessment stands on nothing: it was replaced
			// Voiding the declaration that replaced it would make it stand again, on a voided line.
			return settled, a
		}},
		{"an enforcement step with a later one", func(b *payerBook) (Event, Event) {
			b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			n := b.must("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-1", Deadline: "2006-07-15"})
			i := b.must("auditor:li", &RecordEnforcement{Step: StepInspection, On: "2006-08-01", DocNo: "I-1"})
			return n, i
		}},
		{"a deregistration a reinstatement ended", func(b *payerBook) (Event, Event) {
			d := b.must("clerk:wang", &Deregister{On: "2006-06-01", Reason: "停业"})
			r := b.must("clerk:wang", &Reinstate{ReinstatedOn: "2006-08-01", Reason: "复业"})
			return d, r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPayerBook(t)
			target, dep := tt.setup(b)
			detail := b.refused("admin:root", void(target.ID, "2006-09-01"), KindConflict, "event_id")
			if want := dep.ID; !strings.Contains(detail, want) {
				t.Errorf("the refusal %q does not name the dependent event %s", detail, want)
			}
			b.must("admin:root", void(dep.ID, "2006-09-01"))
			b.must("admin:root", void(target.ID, "2006-09-02"))
		})
	}
}

// A clerk who enrolled an insurance from the wrong date records the right enrollment and voids
// the wrong one, though a declaration of that insurance was recorded between them: the
// declaration stands on the right one. An enrollment is a declaration's ground while no other
// enrolls its period: not one of no persons, not one from a later date, and not the right one
// once the wrong one is voided.
// TestANoticeRecordedLaterButDatedEarlierDoesNotStandOnAnother: a wrongly issued notice is
// voided though a notice dated before it was recorded after it (a backdated one), which
// was decided on the steps before its own date; a step dated after it still stands on it.
func TestANoticeRecordedLaterButDatedEarlierDoesNotStandOnAnother(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	wrong := b.must("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-09-01", DocNo: "N-2", Deadline: "2006-09-15"})
	inspected := b.must("auditor:li", &RecordEnforcement{Step: StepInspection, On: "2006-09-20", DocNo: "I-1"})
	b.must("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-1", Deadline: "2006-07-15"})
	detail := b.refused("admin:root", void(wrong.ID, "2006-10-01"), KindConflict, "event_id")
	if !strings.Contains(detail, inspected.ID) {
		t.Errorf("the refusal %q does not name the inspection dated after the notice, %s", detail, inspected.ID)
	}
	b.must("admin:root", void(inspected.ID, "2006-10-01"))
	b.must("admin:root", void(wrong.ID, "2006-10-02"))
}

func TestAnEnrollmentIsTheGroundOfTheDeclarationsItAloneEnrolls(t *testing.T) {
	enroll := func(heads, from string) *RecordEnrollment {
		return &RecordEnrollment{Insurance: "unemployment", Headcount: Number(heads), EffectiveOn: from}
	}
	t.Run("the wrong enrollment, once the right one is recorded", func(t *testing.T) {
		b := newPayerBook(t)
		wrong := b.must("clerk:wang", enroll("3", "2006-09-01"))
		d := b.must("clerk:wang", declaration("2006-10-10", "2006-09", "1000000"))
		if detail := b.refused("clerk:wang", void(wrong.ID, "2006-10-20"), KindConflict, "event_id"); !strings.Contains(detail, d.ID) {
			t.Errorf("the refusal %q does not name the declaration %s", detail, d.ID)
		}
		right := b.must("clerk:wang", enroll("3", "2006-05-01"))
		b.must("clerk:wang", void(wrong.ID, "2006-10-20"))
		if detail := b.refused("clerk:wang", void(right.ID, "2006-10-21"), KindConflict, "event_id"); !strings.Contains(detail, d.ID) {
			t.Errorf("the right one's void: the refusal %q does not name the declaration %s", detail, d.ID)
		}
	})
	for _, tt := range []struct{ name, heads, from string }{
		{"an enrollment of no persons is none", "0", "2006-04-01"},
		{"an enrollment from a later date does not enroll the period", "3", "2006-11-01"},
		{"an enrollment of no persons from within the period leaves its first days to the first", "0", "2006-05-20"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newPayerBook(t)
			first := b.must("clerk:wang", enroll("3", "2006-05-01"))
			d := b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
			b.must("clerk:wang", enroll(tt.heads, tt.from))
			if detail := b.refused("clerk:wang", void(first.ID, "2006-11-20"), KindConflict, "event_id"); !strings.Contains(detail, d.ID) {
				t.Errorf("the refusal %q does not name the declaration %s", detail, d.ID)
			}
		})
	}
	t.Run("a declaration a later one of its period replaced does not stand on it", func(t *testing.T) {
		b := newPayerBook(t)
		en := b.must("clerk:wang", enroll("3", "2006-05-01"))
		b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
		// Unemployment is declared again with no persons: a line of none stands on no enrollment.
		b.must("clerk:wang", &FileDeclaration{DeclaredOn: "2006-06-11", Period: "2006-05",
			Lines: []DeclareLine{{Insurance: "pension", Headcount: "3", WageBaseFen: "1000000"}, {Insurance: "unemployment", Headcount: "0", WageBaseFen: "0"}}})
		b.must("clerk:wang", void(en.ID, "2006-06-20"))
	})
	t.Run("a declaration of a period before the enrollment does not stand on it", func(t *testing.T) {
		b := newPayerBook(t)
		en := b.must("clerk:wang", enroll("3", "2006-05-01"))
		b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
		b.must("clerk:wang", void(en.ID, "2006-05-20"))
	})
}

// A period's line declared again (dated later) before the next period was assessed is that
// assessment's ground, and an assessment a declaration of its period replaced stands on nothing:
// a void of the line's first declaration or assessment leaves no assessment without its ground,
// and is recorded.
func TestAVoidOfALineSetAgainBeforeTheNextAssessmentIsRecorded(t *testing.T) {
	tests := []struct {
		name  string
		setup func(b *payerBook) Event
	}{
		{"a declaration amended", func(b *payerBook) Event {
			d := b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			b.must("clerk:wang", declaration("2006-05-20", "2006-04", "1200000"))
			b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			return d
		}},
		{"a declaration whose next period's assessment was settled by a declaration", func(b *payerBook) Event {
			d := b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			b.must("clerk:wang", declaration("2006-06-25", "2006-05", "900000"))
			return d
		}},
		{"an assessment settled by a declaration", func(b *payerBook) Event {
			b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			a := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
			b.must("clerk:wang", declaration("2006-06-25", "2006-05", "900000"))
			b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-07-20", Period: "2006-06", Reason: AssessNoDeclaration})
			return a
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPayerBook(t)
			b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
			b.must("admin:root", void(tt.setup(b).ID, "2006-09-01"))
		})
	}
}

func TestRefundRules(t *testing.T) {
	// April's line is due 30,000 fen (3% of 1,000,000); 45,000 paid leaves 15,000 fen credit.
	setup := func(t *testing.T) (*payerBook, Event) {
		b := newPayerBook(t)
		b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
		p := b.must("clerk:wang", payment("2006-05-12", "R-1", "45000"))
		return b, p
	}
	refund := func(on, amount, receipt string) *RefundCredit {
		return &RefundCredit{RefundedOn: on, AmountFen: Number(amount), ReceiptNo: receipt}
	}
	t.Run("a refund pays back credit, at most all of it", func(t *testing.T) {
		b, _ := setup(t)
		b.refused("clerk:wang", refund("2006-06-01", "15001", "T-1"), KindConflict, "amount_fen")
		b.must("clerk:wang", refund("2006-06-01", "15000", "T-1"))
		st := b.e.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees)
		if st.Totals.CreditFen != 0 || st.Totals.PaidFen != 30000 {
			t.Errorf("after the refund: credit %d, paid %d; want 0 and 30000", st.Totals.CreditFen, st.Totals.PaidFen)
		}
		if err := b.e.Account.CheckInvariants(MustDate("2006-06-30"), defaultRef().LateFees); err != nil {
			t.Error(err)
		}
	})
	t.Run("a refund is not dated before the credit arose", func(t *testing.T) {
		b, _ := setup(t)
		b.refused("clerk:wang", refund("2006-05-11", "1", "T-1"), KindConflict, "amount_fen")
	})
	t.Run("a refund's receipt is its own", func(t *testing.T) {
		b, _ := setup(t)
		b.must("clerk:wang", refund("2006-06-01", "100", "T-1"))
		b.refused("clerk:wang", refund("2006-06-02", "100", "t-1"), KindConflict, "receipt_no")
	})
	t.Run("a refund and a payment that stand never share a receipt number", func(t *testing.T) {
		b, _ := setup(t)
		if d := b.refused("clerk:wang", refund("2006-06-01", "100", "ｒ－1"), KindConflict, "receipt_no"); !strings.Contains(d, "on a payment that stands") {
			t.Errorf("refused saying %q; want it to name the payment", d)
		}
		b.must("clerk:wang", refund("2006-06-01", "100", "T-1"))
		if d := b.refused("clerk:wang", payment("2006-06-05", "t－1", "100"), KindConflict, "receipt_no"); !strings.Contains(d, "on a refund of 2006-06-01") {
			t.Errorf("a payment under the refund's receipt refused saying %q; want it to name the refund", d)
		}
	})
	t.Run("a refund never takes credit a later due was paid from", func(t *testing.T) {
		b, _ := setup(t)
		// May's line (30,000 fen, declared 06-10) is paid from the credit: 15,000 of it.
		b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
		if d := b.refused("clerk:wang", refund("2006-06-01", "1", "T-1"), KindConflict, "amount_fen"); !strings.Contains(d, "falls to that on 2006-06-10") {
			t.Errorf("refusal %q does not name the day the credit fell", d)
		}
	})
	t.Run("a declaration recorded before the same day's payment takes the credit for a while", func(t *testing.T) {
		b, _ := setup(t)
		// On 06-10 May's 30,000 fen is declared, then paid the same day: the day ends with the
		// 15,000 fen of credit it began with, but the declaration took it until the payment,
		// and a refund recorded between them (which the book applies there) would have found
		// none: the refusal says when the credit fell.
		b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
		b.must("clerk:wang", payment("2006-06-10", "R-2", "30000"))
		if d := b.refused("clerk:wang", refund("2006-06-01", "15000", "T-1"), KindConflict, "amount_fen"); !strings.Contains(d, "falls to that on 2006-06-10") {
			t.Errorf("refusal %q does not name the day the credit fell", d)
		}
	})
	t.Run("a reversal of a payment whose money was refunded is refused, naming the refund", func(t *testing.T) {
		b, p := setup(t)
		b.must("clerk:wang", refund("2006-06-01", "15000", "T-1"))
		d := b.refused("clerk:wang", &ReversePayment{ReversedOn: "2006-06-05", ReceiptNo: "R-1", Reason: "退票"}, KindConflict, "receipt_no")
		if !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		d = b.refused("auditor:li", void(p.ID, "2006-06-05"), KindConflict, "event_id")
		if !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		r := b.evs[len(b.evs)-1]
		b.must("auditor:li", void(r.ID, "2006-06-06"))
		b.must("auditor:li", void(p.ID, "2006-06-06"))
	})
	t.Run("a reversal of a payment whose money was refunded is refused though others paid the dues", func(t *testing.T) {
		// R-0 pays April's 30,000 fen; R-1's 15,000 is credit, refunded as T-1. Without R-1
		// the refund would take its money back from what R-0 paid, turning April into arrears.
		b := newPayerBook(t)
		b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
		b.must("clerk:wang", payment("2006-05-12", "R-0", "30000"))
		p := b.must("clerk:wang", payment("2006-05-20", "R-1", "15000"))
		b.must("clerk:wang", refund("2006-06-01", "15000", "T-1"))
		if d := b.refused("clerk:wang", &ReversePayment{ReversedOn: "2006-06-05", ReceiptNo: "R-1", Reason: "退票"}, KindConflict, "receipt_no"); !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		if d := b.refused("auditor:li", void(p.ID, "2006-06-05"), KindConflict, "event_id"); !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		st := b.e.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees)
		if st.Totals.OutstandingFen != 0 || st.Totals.PaidFen != 30000 {
			t.Errorf("after the refusals: outstanding %d, paid %d; want 0 and 30000", st.Totals.OutstandingFen, st.Totals.PaidFen)
		}
	})
	t.Run("a due recorded after a refund and dated before it: the refund takes back what credit paid", func(t *testing.T) {
		b, _ := setup(t)
		b.must("clerk:wang", refund("2006-06-01", "15000", "T-1"))
		// An audit finds 500,000 fen of base under-reported in April (15,000 fen due, overdue
		// from 05-15), recorded now, dated 05-20: on 05-20 the credit paid it; on 06-01 the
		// refund paid that credit out, so from 06-01 the 15,000 fen is owed again.
		b.must("auditor:li", &RecordAuditFinding{FoundOn: "2006-05-20", Kind: "under_reported_base", Period: "2006-04",
			Insurance: "unemployment", ExtraWageBaseFen: "500000", RedeclareBy: "2006-06-30"})
		st := b.e.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees)
		l, _ := st.Line(LineKey{MustPeriod("2006-04"), Unemployment})
		// Late fee: 15,000 outstanding 05-16..05-19 (4 days), nothing 05-20..05-31, 15,000
		// again 06-01..06-30 (30 days): 15,000 × 34 × 20 / 10,000 = 1,020 fen.
		if l.OutstandingFen != 15000 || l.LateFeeFen != 1020 || st.Totals.CreditFen != 0 {
			t.Errorf("April's line as of 06-30: outstanding %d, late fee %d, credit %d; want 15000, 1020, 0",
				l.OutstandingFen, l.LateFeeFen, st.Totals.CreditFen)
		}
		if err := b.e.Account.CheckInvariants(MustDate("2006-06-30"), defaultRef().LateFees); err != nil {
			t.Error(err)
		}
	})
	t.Run("a reversal is refused when a refund already short would find nothing paid to take back", func(t *testing.T) {
		// As above, the refund takes its 15,000 fen back from the audit's line, which R-1's
		// credit paid: short as much with R-1 as without, but without R-1 nothing is paid at
		// all, and the refund's money would come from nowhere (found by the simulation, seed
		// 119: -24,789 fen received).
		b, p := setup(t)
		b.must("clerk:wang", refund("2006-06-01", "15000", "T-1"))
		b.must("auditor:li", &RecordAuditFinding{FoundOn: "2006-05-20", Kind: "under_reported_base", Period: "2006-04",
			Insurance: "unemployment", ExtraWageBaseFen: "500000", RedeclareBy: "2006-06-30"})
		if d := b.refused("clerk:wang", &ReversePayment{ReversedOn: "2006-06-05", ReceiptNo: "R-1", Reason: "退票"}, KindConflict, "receipt_no"); !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		if d := b.refused("auditor:li", void(p.ID, "2006-06-05"), KindConflict, "event_id"); !strings.Contains(d, "T-1") {
			t.Errorf("refusal %q does not name the refund", d)
		}
		if err := b.e.Account.CheckInvariants(MustDate("2006-06-30"), defaultRef().LateFees); err != nil {
			t.Error(err)
		}
	})
}

func TestARefundShortOfCreditAfterABoundaryKeepsTheAccountWhole(t *testing.T) {
	b := newPayerBook(t)
	b.today = MustDate("2007-02-28")
	b.must("clerk:wang", declaration("2006-11-05", "2006-10", "1000000"))
	b.must("clerk:wang", payment("2006-12-01", "R-1", "40000")) // 9,100 fen credit, once 900 fen of late fee is paid
	b.must("clerk:wang", &RefundCredit{RefundedOn: "2007-01-20", AmountFen: "9100", ReceiptNo: "T-1"})
	fees := b.ref.LateFees
	end := MustDate("2006-12-31")
	compacted := b.e.Clone()
	if !compacted.Compact(end, MustPeriod("2006-12"), fees) {
		t.Fatal("an account whose refund finds its credit was not compacted")
	}
	// A declaration recorded now, dated before the refund: the credit pays it, the refund
	// takes it back from the newest lines paid, settled ones among them.
	b.must("clerk:wang", declaration("2007-01-10", "2006-12", "200000"))
	ev := b.evs[len(b.evs)-1]
	compacted.Apply(ev)
	if !compacted.Account.TakesBackCarried(fees) {
		t.Error("a compacted account whose refund now takes back money paid does not ask to be folded again")
	}
	if b.e.Clone().Compact(end, MustPeriod("2006-12"), fees) {
		t.Error("an account whose refund after the boundary takes back money paid was compacted")
	}
	if b.e.Account.TakesBackCarried(fees) {
		t.Error("an account never compacted asks to be folded again")
	}
}

// Paid on a day, principal accrues less of that day's late fee: a fee waived in full earlier on
// that day is then more than accrued, and the part beyond lapses, so that what is waived never
// exceeds what accrued (before, the statement showed 46.80 waived of 46.20 accrued).
func TestAPaymentOnTheDayOfAFeeWaiverKeepsTheWaiverWithinTheFee(t *testing.T) {
	key := LineKey{MustPeriod("2006-04"), Unemployment}
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	st := b.e.Account.Statement(MustDate("2006-08-01"), defaultRef().LateFees)
	if l, _ := st.Line(key); l.LateFeeFen != 4680 {
		t.Fatalf("fee owed on 08-01 before the payment: %d, want 4680 (30,000 × 78 days × 2‰)", l.LateFeeFen)
	}
	b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-08-01", Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业", Insurance: "unemployment", Period: "2006-04", AmountFen: "4680"})
	b.must("clerk:wang", payment("2006-08-01", "R-1", "30000"))
	st = b.e.Account.Statement(MustDate("2006-08-31"), defaultRef().LateFees)
	l, _ := st.Line(key)
	// Paid on 08-01, 30,000 fen accrued its fee for 77 days: 4,620 fen, all of it waived.
	if l.LateFeeAccruedFen != 4620 || l.LateFeeWaivedFen != 4620 || l.LateFeeFen != 0 || st.Totals.CreditFen != 0 {
		t.Errorf("accrued %d, waived %d, owed %d, credit %d; want 4620, 4620, 0, 0", l.LateFeeAccruedFen, l.LateFeeWaivedFen, l.LateFeeFen, st.Totals.CreditFen)
	}
	if err := b.e.Account.CheckInvariants(MustDate("2006-08-31"), defaultRef().LateFees); err != nil {
		t.Error(err)
	}
}

// A fee partly paid and the rest waived, then principal paid the same day as the waiver: what
// the line no longer accrues comes off the waiver, which is a decision, never off the fee paid,
// which would become credit a refund pays out in cash.
func TestAFeeThatNoLongerAccruesLapsesTheWaiverBeforeTheFeePaid(t *testing.T) {
	key := LineKey{MustPeriod("2006-04"), Unemployment}
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	// 06-01: 30,000 fen principal and its fee, 16 days', 960 fen.
	b.must("clerk:wang", payment("2006-06-01", "R-1", "30960"))
	// An audit dated 06-20 adds 15,000 fen overdue from 05-15: 36 days' fee, 1,080 fen, waived.
	b.must("auditor:li", &RecordAuditFinding{FoundOn: "2006-06-20", Kind: "under_reported_base", Period: "2006-04",
		Insurance: "unemployment", ExtraWageBaseFen: "500000", RedeclareBy: "2006-06-30"})
	b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-06-20", Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业", Insurance: "unemployment", Period: "2006-04", AmountFen: "1080"})
	// Paid the same day, the 15,000 fen accrue 35 days' fee, 1,050 fen: 2,010 in all.
	b.must("clerk:wang", payment("2006-06-20", "R-2", "15000"))
	st := b.e.Account.Statement(MustDate("2006-06-30"), defaultRef().LateFees)
	l, _ := st.Line(key)
	if l.LateFeeAccruedFen != 2010 || l.LateFeePaidFen != 960 || l.LateFeeWaivedFen != 1050 || st.Totals.CreditFen != 0 {
		t.Errorf("accrued %d, paid %d, waived %d, credit %d; want 2010, 960, 1050, 0", l.LateFeeAccruedFen, l.LateFeePaidFen, l.LateFeeWaivedFen, st.Totals.CreditFen)
	}
	if err := b.e.Account.CheckInvariants(MustDate("2006-06-30"), defaultRef().LateFees); err != nil {
		t.Error(err)
	}
}

// TestADeclarationOrAssessmentDatedBeforeTheStandingOneIsRefused: the latest by date stands, so
// one of the period dated before it would be recorded and change nothing; it is refused naming
// its date and the standing one's. One dated on the standing one's day replaces it, and once the
// standing one is voided an earlier date is accepted.
func TestADeclarationOrAssessmentDatedBeforeTheStandingOneIsRefused(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
	standing := b.must("clerk:wang", declaration("2006-06-05", "2006-05", "10000000"))
	if detail := b.refused("clerk:wang", declaration("2006-06-01", "2006-05", "1000000"), KindConflict, "declared_on"); !strings.Contains(detail, "2006-06-05") || !strings.Contains(detail, fmt.Sprintf("sequence %d ", standing.Seq)) {
		t.Errorf("the refusal %q does not name the standing declaration's date and sequence %d", detail, standing.Seq)
	}
	b.refused("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-04", Period: "2006-05", Reason: AssessAudit,
		Lines: []AssessLine{{Insurance: "unemployment", DueFen: "5000"}}}, KindConflict, "assessed_on")
	assessed := b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-07-20", Period: "2006-06", Reason: AssessNoDeclaration})
	b.refused("clerk:wang", declaration("2006-07-10", "2006-06", "1000000"), KindConflict, "declared_on")
	b.must("clerk:wang", declaration("2006-07-20", "2006-06", "1000000")) // on the assessment's day: it settles it
	b.must("auditor:li", &VoidEvent{EventID: standing.ID, VoidedOn: "2006-07-25", Reason: "基数有误"})
	b.must("clerk:wang", declaration("2006-06-01", "2006-05", "1000000"))
	// Unemployment at 3% of 10,000.00 yuan: 300.00 yuan each.
	if st := b.e.Account.Statement(MustDate("2006-12-31"), b.ref.LateFees); st.Totals.DueFen != 30000+30000 {
		t.Errorf("due %s, want the corrected May and June declarations' 300.00 yuan each (the assessment %s replaced)", st.Totals.DueFen, assessed.ID)
	}
}

// TestAPeriodCarriedAsAnOpeningBalanceIsNotDeclared: an opening balance's line is the period's
// due already, so a declaration or assessment of the period would count its arrears twice; it
// is refused naming the period and the opening balance's sequence, and accepted once that is
// voided.
func TestAPeriodCarriedAsAnOpeningBalanceIsNotDeclared(t *testing.T) {
	b := newPayerBook(t)
	opening := b.must("clerk:wang", &RecordOpeningBalance{AsOf: "2006-04-01", Lines: []OpeningInput{{Period: "2006-02", Insurance: "pension", OutstandingFen: "28000"}}})
	if detail := b.refused("clerk:wang", &FileDeclaration{DeclaredOn: "2006-04-20", Period: "2006-02",
		Lines: []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}}, KindConflict, "period"); !strings.Contains(detail, fmt.Sprintf("sequence %d ", opening.Seq)) {
		t.Errorf("the refusal %q does not name the opening balance's sequence %d", detail, opening.Seq)
	}
	b.refused("clerk:wang", &MakeAssessment{AssessedOn: "2006-04-20", Period: "2006-02", Reason: AssessAudit,
		Lines: []AssessLine{{Insurance: "pension", DueFen: "5000"}}}, KindConflict, "period")
	b.must("auditor:li", &VoidEvent{EventID: opening.ID, VoidedOn: "2006-04-21", Reason: "应为补缴申报"})
	b.must("clerk:wang", &FileDeclaration{DeclaredOn: "2006-04-21", Period: "2006-02", Lines: []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}})
	if st := b.e.Account.Statement(MustDate("2006-12-31"), b.ref.LateFees); st.Totals.DueFen != 28000 {
		t.Errorf("due %s, want the declaration's 280.00 yuan once", st.Totals.DueFen)
	}
}

// TestAWaiverDatedBeforeAnotherTakesNothingFromIt: a waiver is checked against what the line owes
// on its own date, but one dated before a waiver already recorded also leaves less for that one
// to waive. It is refused when the later waiver would no longer find its whole amount, since the
// events would then record more waived than the line ever owed (before, 560 and 112 fen of one
// 560 fen fee were both taken).
func TestAWaiverDatedBeforeAnotherTakesNothingFromIt(t *testing.T) {
	fee := func(on, amount string) *GrantWaiver {
		return &GrantWaiver{DecidedOn: on, Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业",
			Insurance: "unemployment", Period: "2006-04", AmountFen: Number(amount)}
	}
	principal := func(on, amount string) *GrantWaiver {
		w := fee(on, amount)
		w.Kind, w.Basis = WaiverPrincipal, "bankruptcy"
		return w
	}
	// 30,000 fen due on 05-15 accrue 60 fen of late fee a day from 05-16: 180 by 05-18, 300 by 05-20.
	tests := []struct {
		name    string
		first   *GrantWaiver
		then    *GrantWaiver
		refused bool
		waived  Fen // of the late fee, or of the principal, on 2006-06-30 when accepted
	}{
		{"a fee waiver dated before the whole fee's waiver is refused", fee("2006-05-20", "300"), fee("2006-05-18", "60"), true, 300},
		{"a fee waiver dated before one leaving it room is accepted", fee("2006-05-20", "100"), fee("2006-05-18", "180"), false, 280},
		{"a fee waiver dated before one it would leave 1 fen short of is refused", fee("2006-05-20", "121"), fee("2006-05-18", "180"), true, 121},
		{"a fee waiver dated after another is checked on its own date", fee("2006-05-18", "180"), fee("2006-05-20", "120"), false, 300},
		{"a principal waiver dated before the whole principal's waiver is refused", principal("2006-06-01", "30000"), principal("2006-05-20", "1"), true, 30000},
		{"a principal waiver dated before one leaving it room is accepted", principal("2006-06-01", "20000"), principal("2006-05-20", "10000"), false, 30000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPayerBook(t)
			b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
			b.must("auditor:li", tt.first)
			if tt.refused {
				if detail := b.refused("auditor:li", tt.then, KindConflict, "amount_fen"); !strings.Contains(detail, tt.first.DecidedOn) {
					t.Errorf("the refusal %q does not name the date of the waiver it would take from, %s", detail, tt.first.DecidedOn)
				}
			} else {
				b.must("auditor:li", tt.then)
			}
			st := b.e.Account.Statement(MustDate("2006-06-30"), b.ref.LateFees)
			l, _ := st.Line(LineKey{MustPeriod("2006-04"), Unemployment})
			got := l.LateFeeWaivedFen
			if tt.first.Kind == WaiverPrincipal {
				got = l.WaivedFen
			}
			if got != tt.waived {
				t.Errorf("waived %d, want %d", got, tt.waived)
			}
			if err := b.e.Account.CheckInvariants(MustDate("2006-06-30"), b.ref.LateFees); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAVoidLeavesNoWaiverWithLessToWaive: a waiver is decided on the dues and fees its line
// owed; a void of the declaration or audit finding that set them, or of a payment that left
// them, would leave it waiving what is no longer owed (the flags listed a waiver of a line no
// longer there). The void is refused naming the waiver; once the waiver is voided, it is taken.
func TestAVoidLeavesNoWaiverWithLessToWaive(t *testing.T) {
	principal := func(amount string) *GrantWaiver {
		return &GrantWaiver{DecidedOn: "2006-06-01", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "D-1", Reason: "破产",
			Insurance: "unemployment", Period: "2006-04", AmountFen: Number(amount)}
	}
	audit := &RecordAuditFinding{FoundOn: "2006-05-20", Kind: FindingUnderReportedBase, Period: "2006-04", Insurance: "unemployment",
		ExtraWageBaseFen: "500000", RedeclareBy: "2006-06-30"}
	tests := []struct {
		name    string
		waiver  *GrantWaiver
		void    int // index among the events recorded before the waiver: 0 the declaration, 1 the audit finding
		refused bool
	}{
		{"the void of the declaration under a principal waiver is refused", principal("30000"), 0, true},
		{"the void of an audit finding whose dues a waiver took is refused", principal("45000"), 1, true},
		{"the void of an audit finding a waiver took none of is taken", principal("30000"), 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPayerBook(t)
			set := []Event{b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000")), b.must("auditor:li", audit)}
			w := b.must("auditor:li", tt.waiver)
			target := set[tt.void]
			if !tt.refused {
				b.must("admin:zhao", void(target.ID, "2006-06-10"))
				return
			}
			if detail := b.refused("admin:zhao", void(target.ID, "2006-06-10"), KindConflict, "event_id"); !strings.Contains(detail, fmt.Sprintf("sequence %d", w.Seq)) {
				t.Errorf("the refusal %q does not name the waiver's sequence %d", detail, w.Seq)
			}
			b.must("admin:zhao", void(w.ID, "2006-06-10"))
			b.must("admin:zhao", void(target.ID, "2006-06-10"))
		})
	}
}

// TestAPrincipalWaivedOnTheDayOfAFeeWaiverKeepsTheWaiverWithinTheFee: principal waived on a day
// accrues less of that day's late fee, as principal paid does. Such a waiver, decided after a
// fee waiver of that day waived the whole fee, would leave that one less to waive, and is
// refused; recorded as a build before this rule let it be, the fee waived lapses beyond what
// accrues (before, 300 fen stood waived of 240 accrued).
func TestAPrincipalWaivedOnTheDayOfAFeeWaiverKeepsTheWaiverWithinTheFee(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-05-20", Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业",
		Insurance: "unemployment", Period: "2006-04", AmountFen: "300"})
	principal := &GrantWaiver{DecidedOn: "2006-05-20", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "D-2", Reason: "破产",
		Insurance: "unemployment", Period: "2006-04", AmountFen: "30000"}
	detail := b.refused("auditor:li", principal, KindConflict, "amount_fen")
	if !strings.Contains(detail, "waiver of 300 fen dated 2006-05-20") || !strings.Contains(detail, "60 fen less") {
		t.Errorf("the refusal %q does not name the fee waiver of 300 fen, left 60 fen short", detail)
	}
	b.append("auditor:li", MustDate("2006-05-20"), []Payload{WaiverGranted{DecidedOn: MustDate("2006-05-20"), Kind: WaiverPrincipal, Basis: "bankruptcy",
		AuthorityDoc: "D-2", Reason: "破产", Insurance: Unemployment, Period: MustPeriod("2006-04"), AmountFen: 30000}})
	day := MustDate("2006-06-30")
	st := b.e.Account.Statement(day, b.ref.LateFees)
	l, _ := st.Line(LineKey{MustPeriod("2006-04"), Unemployment})
	// Waived on 05-20, 30,000 fen accrued 4 days' fee (05-16 to 05-19): 240 fen, all of it waived.
	if l.LateFeeAccruedFen != 240 || l.LateFeeWaivedFen != 240 || l.LateFeeFen != 0 || st.Totals.CreditFen != 0 {
		t.Errorf("accrued %d, waived %d, owed %d, credit %d; want 240, 240, 0, 0", l.LateFeeAccruedFen, l.LateFeeWaivedFen, l.LateFeeFen, st.Totals.CreditFen)
	}
	if err := b.e.Account.CheckInvariants(day, b.ref.LateFees); err != nil {
		t.Error(err)
	}
}

// TestAWaiverRefusedForAnotherLinesWaiverNamesThatLine: a principal waiver of April's line
// dated before a payment leaves the payment more to pay of May's late fee, which a fee waiver
// of May had waived: the refusal names May's line, the one left short.
func TestAWaiverRefusedForAnotherLinesWaiverNamesThatLine(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
	b.must("clerk:wang", payment("2006-06-20", "R-1", "60000"))
	// May's 30,000 fen, due 06-15 and paid 06-20, accrued 4 days' fee: 240 fen, waived.
	b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-07-01", Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业",
		Insurance: "unemployment", Period: "2006-05", AmountFen: "240"})
	detail := b.refused("auditor:li", &GrantWaiver{DecidedOn: "2006-06-10", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "D-2", Reason: "破产",
		Insurance: "unemployment", Period: "2006-04", AmountFen: "30000"}, KindConflict, "amount_fen")
	if !strings.Contains(detail, "unemployment 2006-05 line") || !strings.Contains(detail, "240 fen less") {
		t.Errorf("the refusal %q does not name May's line, 240 fen short", detail)
	}
}

// TestAWaiverRefusalCountsOnlyWhatItWouldTake: a ledger recorded before waivers were checked
// against later-dated ones may hold a waiver short already; a new waiver is refused for what it
// would take from it more, and says that much, not the shortfall the ledger held before.
func TestAWaiverRefusalCountsOnlyWhatItWouldTake(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	fee := func(on, amount string) *GrantWaiver {
		return &GrantWaiver{DecidedOn: on, Kind: WaiverLateFee, AuthorityDoc: "D-" + on, Reason: "困难企业",
			Insurance: "unemployment", Period: "2006-04", AmountFen: Number(amount)}
	}
	// Recorded as an older build took them: 300 fen on 05-20, then 180 dated 05-18 (180 short).
	for _, w := range []struct {
		on     string
		amount Fen
	}{{"2006-05-20", 300}, {"2006-05-18", 180}} {
		b.append("auditor:li", MustDate(w.on), []Payload{WaiverGranted{DecidedOn: MustDate(w.on), Kind: WaiverLateFee, AuthorityDoc: "D-" + w.on,
			Reason: "困难企业", Insurance: Unemployment, Period: MustPeriod("2006-04"), AmountFen: w.amount, AccruedFeeFen: w.amount}})
	}
	// 60 fen dated 05-19 fits its date (240 accrued, 180 waived) and leaves the 05-20 waiver 60 less.
	detail := b.refused("auditor:li", fee("2006-05-19", "60"), KindConflict, "amount_fen")
	if !strings.Contains(detail, "waiver of 300 fen dated 2006-05-20") || !strings.Contains(detail, "waive 60 fen less") {
		t.Errorf("the refusal %q does not say the 05-20 waiver would waive 60 fen less", detail)
	}
}

// TestAPrincipalWaiverALaterLoweringWouldLapseIsRefused: a principal waiver dated before an
// amendment that lowered the line, recorded after it, would waive more than the line then owes;
// the part that would lapse is refused.
func TestAPrincipalWaiverALaterLoweringWouldLapseIsRefused(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	b.must("clerk:wang", declaration("2006-06-20", "2006-04", "700000"))
	waiver := func(amount string) *GrantWaiver {
		return &GrantWaiver{DecidedOn: "2006-06-01", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "D-" + amount, Reason: "破产",
			Insurance: "unemployment", Period: "2006-04", AmountFen: Number(amount)}
	}
	// 30,000 fen owed on 06-01, 21,000 from 06-20: 25,000 waived would lapse by 4,000.
	detail := b.refused("auditor:li", waiver("25000"), KindConflict, "amount_fen")
	if !strings.Contains(detail, "4000 fen of the waiver would lapse") {
		t.Errorf("the refusal %q does not say 4000 fen of the waiver would lapse", detail)
	}
	b.must("auditor:li", waiver("21000"))
}

// TestAWaiverThatWouldLapseOneACompactionCarriesIsRefused: a late-fee waiver of a line's whole
// fee on 2006-12-28, then a lowering of its due in 2007: a principal waiver dated between them
// would make the fee waiver lapse further, refused whether or not 2006's compaction carries the
// fee waiver (it was let through when none of the account's entries was the waiver to name).
func TestAWaiverThatWouldLapseOneACompactionCarriesIsRefused(t *testing.T) {
	for _, compact := range []bool{false, true} {
		b := newPayerBook(t)
		b.today = MustDate("2007-03-31")
		b.must("clerk:wang", declaration("2006-12-10", "2006-11", "1000000"))
		st := b.e.Account.Statement(MustDate("2006-12-28"), b.ref.LateFees)
		l, _ := st.Line(LineKey{MustPeriod("2006-11"), Unemployment})
		b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-12-28", Kind: WaiverLateFee, AuthorityDoc: "D-1", Reason: "困难企业",
			Insurance: "unemployment", Period: "2006-11", AmountFen: Number(fmt.Sprint(int64(l.LateFeeAccruedFen)))})
		if compact && !b.e.Compact(MustDate("2006-12-31"), MustPeriod("2006-10"), b.ref.LateFees) {
			t.Fatal("the account was not compacted")
		}
		b.must("clerk:wang", declaration("2007-01-20", "2006-11", "200000"))
		detail := b.refused("auditor:li", &GrantWaiver{DecidedOn: "2007-01-05", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "D-2", Reason: "破产",
			Insurance: "unemployment", Period: "2006-11", AmountFen: "6000"}, KindConflict, "amount_fen")
		want := "the waiver of 780 fen dated 2006-12-28"
		if compact {
			want = "a waiver of the unemployment 2006-11 line in a closed year"
		}
		if !strings.Contains(detail, want) || !strings.Contains(detail, "192 fen less") {
			t.Errorf("compacted %v: the refusal %q does not name %q, 192 fen less", compact, detail, want)
		}
	}
}

// TestAPaymentDatedBeforeAWaiverMayNotPayWhatItWaived: a principal waiver of April's whole line
// on 07-01, then a payment recorded dated 06-20: paid oldest first, it would pay April, and the
// waiver would lapse unseen (the payer pursued for what was waived). Refused; allocated to May,
// or dated after the waiver, it stands.
func TestAPaymentDatedBeforeAWaiverMayNotPayWhatItWaived(t *testing.T) {
	b := newPayerBook(t)
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
	b.must("clerk:wang", declaration("2006-06-10", "2006-05", "1000000"))
	b.must("auditor:li", &GrantWaiver{DecidedOn: "2006-07-01", Kind: WaiverPrincipal, Basis: "bankruptcy", AuthorityDoc: "(2006)赣民破字第1号", Reason: "破产",
		Insurance: "unemployment", Period: "2006-04", AmountFen: "30000"})
	detail := b.refused("clerk:wang", payment("2006-06-20", "R1", "30000"), KindConflict, "paid_on")
	if !strings.Contains(detail, "30000 fen of the unemployment 2006-04 line that the waiver of 30000 fen dated 2006-07-01") {
		t.Errorf("the refusal %q does not name the waiver, its line and the 30000 fen", detail)
	}
	to := payment("2006-06-20", "R1", "30000")
	to.Allocations = []AllocationInput{{Insurance: "unemployment", Period: "2006-05", AmountFen: "30000"}}
	b.must("clerk:wang", to)
	b.must("clerk:wang", payment("2006-07-02", "R2", "500"))
	st := b.e.Account.Statement(MustDate("2006-07-31"), b.ref.LateFees)
	if l, _ := st.Line(LineKey{MustPeriod("2006-04"), Unemployment}); l.WaivedFen != 30000 || l.OutstandingFen != 0 {
		t.Errorf("April: waived %d, outstanding %d; want the waiver's 30000 standing and nothing owed", l.WaivedFen, l.OutstandingFen)
	}
}
