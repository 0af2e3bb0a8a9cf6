package domain

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// foldWriteSide applies payloads to a new employer folded without its history, as the write side
// folds.
func foldWriteSide(ps ...Payload) *Employer {
	e := &Employer{SkipHistory: true}
	for i, p := range ps {
		e.Apply(Event{Envelope: Envelope{Seq: uint64(i + 1), N: uint64(i + 1)}, Body: p})
	}
	return e
}

// An employer's write-side state restored by ReadState equals the state folded from the same
// events, and goes on folding alike: random money events with reversals, and every field of
// Employer set.
func TestAStateRestoredFromItsEncodingFoldsOnAsTheOriginal(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 31))
		e := foldWriteSide(
			EmployerRegistered{Profile: Profile{Name: "甲", County: "360702", OrgCode: "12345678-9", CreditCode: "91360700MA35X0000X", Kind: KindEnterprise,
				Ownership: "private", RiskClass: 2, InIndustrialPark: true, Industry: "C", Sector: SectorFurniture, OwnershipCode: "173",
				Park: "赣州经济技术开发区", Agency: true}, RegisteredOn: MustDate("2006-01-05"), CertificateNo: "GZ1"},
			EnrollmentRecorded{Insurance: Pension, Headcount: 30, EffectiveOn: MustDate("2006-02-01"), Migrants: 12},
			EnrollmentRecorded{Insurance: Medical, Headcount: 30, EffectiveOn: MustDate("2006-02-01"), Retirees: 4},
			SurveyCounted{AsOf: MustDate("2006-02-01"), Workforce: 40, Migrants: 15},
			InspectionRecorded{On: MustDate("2006-02-03"), Team: "市稽核一组", Scope: "full", Result: InspectionClean},
			EmployerChanged{On: MustDate("2006-02-10"), RiskClass: new(3)},
		)
		e.ID, e.LastStep, e.Contracts, e.Deregistered, e.DeregisteredOn = "e1", "notice", 7, true, MustDate("2006-09-01")
		e.MovedOn, e.HeldBy = MustDate("2006-03-10"), "e0"
		e.Notices = []DateSpan{{From: MustDate("2006-03-01"), Until: MustDate("2006-03-31")}, {From: MustDate("2006-05-02"), Until: MustDate("2006-05-20")}}
		e.Escalations = []DatedStep{{Step: StepInspection, On: MustDate("2006-04-02")}, {Step: StepMediaExposure, On: MustDate("2006-04-20")}}
		on := MustDate("2006-01-05")
		n := 20 + rng.IntN(60)
		for i := range n {
			on = on.AddDays(rng.IntN(9))
			e.Apply(Event{Envelope: Envelope{Seq: uint64(i + 7), N: uint64(i + 7)}, Body: randomMoneyEvent(rng, on, i, seed%2 == 0)})
		}
		b, err := e.AppendState(nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadState(b)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("seed %d: restored\n%+v\nfolded\n%+v", seed, back, e)
		}
		for i := range 10 {
			ev := Event{Envelope: Envelope{Seq: uint64(n + i + 7), N: uint64(n + i + 7)}, Body: randomMoneyEvent(rng, on, n+i, true)}
			e.Apply(ev)
			back.Apply(ev)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("seed %d: after ten more events the restored state differs", seed)
		}
	}
}

// AppendState carries every field of Employer and Profile: a field added to either must be
// added to the encoding (and checkpointVersion in eventstore raised), and then to this count.
func TestTheStateEncodingKnowsEveryFieldOfEmployer(t *testing.T) {
	// Refold and voided are not carried: a state is saved folded through its last event, with no
	// void left to act on, and voids only ever name earlier events.
	if n := reflect.TypeFor[Employer]().NumField(); n != 32 {
		t.Errorf("Employer has %d fields; AppendState carries 29 (History and SkipHistory as the absence of history), leaves out Refold and voided, and refuses SkipDecisions", n)
	}
	if n := reflect.TypeFor[Profile]().NumField(); n != 13 {
		t.Errorf("Profile has %d fields; AppendState carries 13", n)
	}
	if n := reflect.TypeFor[entry]().NumField(); n != 9 {
		t.Errorf("entry has %d fields; AppendState carries 9", n)
	}
}

// What AppendState does not carry is refused, and bytes that are no state are an error, never
// a state.
func TestAStateThatCannotBeCarriedOrReadIsRefused(t *testing.T) {
	e := fold(EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-01-05")},
		DeclarationFiled{DeclaredOn: MustDate("2006-02-05"), Period: MustPeriod("2006-01"), DueOn: MustDate("2006-02-15"), Lines: []DeclaredLine{{Insurance: Pension, DueFen: 100}}},
		PaymentReceived{PaidOn: MustDate("2006-02-10"), AmountFen: 100, ReceiptNo: "R1"},
		PaymentReversed{ReversedOn: MustDate("2006-02-11"), ReceiptNo: "R1"})
	if _, err := e.AppendState(nil); err == nil {
		t.Error("a state with its dated history encoded")
	}
	e.SkipHistory = true
	b, err := e.AppendState(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := ReadState(b[:i]); err == nil {
			t.Fatalf("the first %d of %d bytes read as a state", i, len(b))
		}
	}
	if _, err := ReadState(append(b, 0)); err == nil {
		t.Error("a state with a byte after it read")
	}
}

func TestAStateFoldedWithoutItsDecisionsIsNotCarried(t *testing.T) {
	e := &Employer{SkipHistory: true, SkipDecisions: true}
	e.Apply(Event{Envelope: Envelope{Seq: 1, N: 1, EmployerID: "e"}, Body: PaymentReceived{PaidOn: MustDate("2006-05-01"), AmountFen: 100, ReceiptNo: "R1"}})
	if e.Receipts != nil {
		t.Fatalf("receipts %v kept by a state folded without its decisions", e.Receipts)
	}
	if _, err := e.AppendState(nil); err == nil {
		t.Fatal("AppendState carried a state folded without its receipts and declared periods")
	}
}

// A copy of a history keeps its declarations as they were when copied, whether a later one is
// put after them or among them (dated before one of its period).
func TestACopyOfAHistoryKeepsItsDeclarations(t *testing.T) {
	declared := func(period, on string) DeclarationFiled {
		return DeclarationFiled{Period: MustPeriod(period), DeclaredOn: MustDate(on), Lines: []DeclaredLine{{Insurance: Pension, Headcount: 1, WageBaseFen: 100000}}}
	}
	var h History
	for _, d := range []DeclarationFiled{declared("2006-05", "2006-06-05"), declared("2006-06", "2006-07-05"), declared("2006-07", "2006-08-05")} {
		h.declare(d)
	}
	c := h.clone()
	want := fmt.Sprint(c.Declarations)
	h.declare(declared("2006-08", "2006-09-05"))
	h.declare(declared("2006-06", "2006-07-01")) // before June's of 07-05: not in force after it
	if got := fmt.Sprint(c.Declarations); got != want {
		t.Errorf("the copy's declarations became %s, were %s", got, want)
	}
	if d, ok := h.DeclarationOn(MustPeriod("2006-06"), MustDate("2006-07-03")); !ok || d.On != MustDate("2006-07-01") {
		t.Errorf("June in force on 07-03: %+v %v, want the one of 07-01", d, ok)
	}
	if d, ok := h.Declaration(MustPeriod("2006-06")); !ok || d.On != MustDate("2006-07-05") {
		t.Errorf("June in force: %+v %v, want the one of 07-05", d, ok)
	}
	if len(h.Declarations) != 5 {
		t.Errorf("%d declarations kept, want 5", len(h.Declarations))
	}
}

// A copy of a history leaves no room in any of its lists: what is appended to the copy (a bulk
// round folds into a copy of a cached employer) is never written into the original's array, nor
// the original's appends into the copy's. (An outside review: Inactive was not clipped.)
func TestACopyOfAHistoryLeavesNoRoomInItsLists(t *testing.T) {
	var h History
	v := reflect.ValueOf(&h).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice {
			f.Set(reflect.MakeSlice(f.Type(), 1, 4))
		}
	}
	c := h.clone()
	cv := reflect.ValueOf(c)
	for i := range cv.NumField() {
		if f := cv.Field(i); f.Kind() == reflect.Slice && f.Cap() != f.Len() {
			t.Errorf("the copy's %s has room for %d more: an append to it writes into the original's array", cv.Type().Field(i).Name, f.Cap()-f.Len())
		}
	}
}
