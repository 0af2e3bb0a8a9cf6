package domain

import (
	"maps"
	"slices"

	"github.com/google/uuid"
)

// Enforcement steps, in ladder order.
const (
	StepNotice           = "notice"
	StepInspection       = "inspection"
	StepMediaExposure    = "media_exposure"
	StepForcedCollection = "forced_collection"
	StepCourtApplication = "court_application"
	StepCourtResult      = "court_result"
)

// Stages of enforcement that are no step: before the first step, and once the arrears it was
// taken for are paid or waived.
const (
	StageNone   = "none"
	StageClosed = "closed"
)

// EnforcementSteps lists the ladder in order.
var EnforcementSteps = []string{StepNotice, StepInspection, StepMediaExposure, StepForcedCollection, StepCourtApplication, StepCourtResult}

// DatedStep is an enforcement step and its date.
type DatedStep struct {
	Step string
	On   Date
}

// DatedClass is a risk class and the day it took effect.
type DatedClass struct {
	Class int
	On    Date
}

// RiskClassOn is the payer's industry risk class on d, by the changes dated on or before it
// whenever each was recorded (of two on one day, the one recorded later); before it entered,
// its class on the day it entered, a change of that day correcting the class registered, as a
// transfer dated then corrects the county (CountyOfPeriod). A period's work-injury rate is its
// class's on the period's first day, as its rates are those in force then.
func (e *Employer) RiskClassOn(d Date) int {
	d = max(d, e.EnteredOn)
	if !e.SkipHistory {
		return e.ProfileOn(d).RiskClass
	}
	if len(e.RiskClasses) == 0 {
		return e.RiskClass
	}
	class, on := e.RiskClasses[0].Class, Date(0)
	for _, c := range e.RiskClasses[1:] {
		if c.On <= d && c.On >= on {
			class, on = c.Class, c.On
		}
	}
	return class
}

// Waiver kinds and bases.
const (
	WaiverLateFee   = "late_fee"
	WaiverPrincipal = "principal"
)

// Employer is the write side's view of one employer: what the decision rules need, folded from
// its events.
type Employer struct {
	ID string
	Profile
	EnteredOn Date
	// MovedOn is the date of its latest transfer (0: it never moved): a transfer dated before
	// it is refused, so that the county it is in now is its county on every date from then.
	MovedOn        Date
	Registered     bool
	RegisteredOn   Date
	CertificateNo  string
	Deregistered   bool
	DeregisteredOn Date
	Workforce      int64
	Enrolled       map[Insurance]int64
	// Migrants is the survey's count of migrant workers (农民工) among the workforce;
	// MigrantsEnrolled the migrant workers of each insurance's headcount (nil: none recorded);
	// Retirees the retirees insured for medical care besides the headcount.
	Migrants         int64
	MigrantsEnrolled map[Insurance]int64
	Retirees         int64
	// Inspected holds the dates of the payer's inspections (稽核), in the order recorded.
	Inspected []Date
	// Receipts holds every receipt number of the employer's payments, in the form NormalizeCode
	// gives it (upper case, NFKC, no zero-width or other format characters), mapped to whether
	// its payment was reversed. A receipt mapped to false belongs to a payment that stands and
	// may not be recorded again; one mapped to true may be recorded anew.
	Receipts map[string]bool
	Declared map[Period]bool
	// Notices holds each notice to correct (限期改正): its date and its deadline, as recorded.
	Notices []DateSpan
	// Escalations holds the steps taken after notices (every step but StepNotice), as recorded.
	Escalations []DatedStep
	// RiskClasses holds on the write side (SkipHistory), once a change gave the payer a risk
	// class, the class it entered with (dated the day it entered) and each change's, as recorded
	// (RiskClassOn); the views have the changes in History.
	RiskClasses []DatedClass
	// LastStep is the latest step by date (the last recorded among equal dates).
	LastStep string
	// HeldBy names the employer an organisation code's slot (OrgCodeSlot) was claimed for, when
	// this is no employer but that claim: such a subject never holds an employer.
	HeldBy    string
	Contracts int64
	Account   Account
	History   History
	// SkipHistory leaves History empty but for its Inactive spans: the write side decides without
	// the rest and saves its memory.
	SkipHistory bool
	// SkipDecisions leaves Receipts and Declared empty: only deciding a command reads them (the
	// write side's state keeps them), and views that only answer reads would keep a key for
	// every payment and every period ever declared.
	SkipDecisions bool

	// Refold is set when a void names an event already folded into the state: the state is then
	// the employer's events folded again from the first (Fold).
	Refold bool
	// voided holds the sequences of the events voids name that the fold is to leave out (Fold).
	voided map[uint64]bool

	// Version is the stream sequence of the last event, N its number, Head its hash.
	Version uint64
	N       uint64
	Head    string
}

// Exists reports whether the employer has entered the ledger.
func (e *Employer) Exists() bool { return e != nil && e.N > 0 && e.HeldBy == "" }

// Apply folds one of the employer's events into its state.
func (e *Employer) Apply(ev Event) {
	// Maps are made here, not in a constructor, so that zero and restored states both work.
	if e.Enrolled == nil {
		e.Enrolled = map[Insurance]int64{}
	}
	if e.Receipts == nil && !e.SkipDecisions {
		e.Receipts = map[string]bool{}
	}
	if e.Declared == nil && !e.SkipDecisions {
		e.Declared = map[Period]bool{}
	}
	if e.ID == "" {
		e.ID = ev.EmployerID
	}
	e.Version, e.N, e.Head = ev.Seq, ev.N, ev.Hash
	if e.voided[ev.Seq] && ev.Seq != 0 {
		return // voided later in the stream: it counts as never recorded
	}
	e.Account.record(ev.Seq, ev.Body)
	switch p := ev.Body.(type) {
	case EmployerRegistered:
		e.Profile, e.EnteredOn = p.Profile, p.RegisteredOn
		e.Registered, e.RegisteredOn, e.CertificateNo = true, p.RegisteredOn, p.CertificateNo
	case EmployerFound:
		e.Profile, e.EnteredOn = p.Profile, p.FoundOn
	case RegistrationCompleted:
		e.Registered, e.RegisteredOn, e.CertificateNo = true, p.RegisteredOn, p.CertificateNo
	case EmployerChanged:
		if !e.SkipHistory && e.History.Entered == nil {
			entered := e.Profile // no change applied yet: the profile it entered with
			e.History.Entered = &entered
		}
		if p.RiskClass != nil && e.SkipHistory {
			if len(e.RiskClasses) == 0 {
				e.RiskClasses = append(e.RiskClasses, DatedClass{Class: e.RiskClass, On: e.EnteredOn})
			}
			e.RiskClasses = append(e.RiskClasses, DatedClass{Class: *p.RiskClass, On: p.On})
		}
		e.Profile.apply(p)
	case SurveyCounted:
		e.Workforce, e.Migrants = p.Workforce, p.Migrants
	case EnrollmentRecorded:
		ins := p.Insurance.canonical()
		e.Enrolled[ins] = p.Headcount
		if p.Migrants != 0 || e.MigrantsEnrolled[ins] != 0 {
			if e.MigrantsEnrolled == nil {
				e.MigrantsEnrolled = map[Insurance]int64{}
			}
			e.MigrantsEnrolled[ins] = p.Migrants
		}
		if ins == Medical {
			e.Retirees = p.Retirees
		}
	case InspectionRecorded:
		e.Inspected = append(e.Inspected, p.On)
	case DeclarationFiled:
		if !e.SkipDecisions {
			e.Declared[p.Period] = true
		}
	case PaymentReceived:
		if !e.SkipDecisions {
			e.Receipts[NormalizeCode(p.ReceiptNo)] = false
		}
	case PaymentReversed:
		if e.SkipDecisions {
			break
		}
		// Reversed unless another payment with the receipt still stands, which only events
		// stored before receipts were normalised can leave ("r1" and "R1" both recorded).
		no := NormalizeCode(p.ReceiptNo)
		_, stands := e.Account.payment(no)
		e.Receipts[no] = !stands
	case EnforcementStepRecorded:
		if p.On >= e.lastStepOn() {
			e.LastStep = p.Step
		}
		if p.Step == StepNotice {
			e.Notices = append(e.Notices, DateSpan{From: p.On, Until: p.Deadline})
		} else {
			e.Escalations = append(e.Escalations, DatedStep{Step: p.Step, On: p.On})
		}
	case ContractsSigned:
		e.Contracts += p.Count
	case EmployerTransferred:
		e.County, e.MovedOn = p.To, max(e.MovedOn, p.On)
	case EmployerDeregistered:
		e.Deregistered, e.DeregisteredOn = true, p.On
	case OrgCodeCorrected:
		e.OrgCode, e.CreditCode = p.OrgCode, p.CreditCode
	case OrgCodeClaimed:
		e.HeldBy, e.Name, e.County = p.By, p.Name, ev.County
	case EmployerReinstated:
		// Kept on the write side too: a period a deregistration reached into owes no dues.
		e.History.Inactive = append(e.History.Inactive, DateSpan{From: e.DeregisteredOn, Until: p.On})
		e.Deregistered, e.DeregisteredOn = false, 0
	case EventVoided:
		if !e.voided[p.TargetSeq] {
			e.markVoided(p.TargetSeq)
			e.Refold = true
		}
	}
	if !e.SkipHistory {
		e.History.record(ev.Body)
	}
}

// ledgerNamespace is the UUID namespace of employer ids derived from organisation codes.
var ledgerNamespace = uuid.UUID{0x6b, 0x75, 0x6f, 0x7a, 0x68, 0x65, 0x6e, 0x67, 0x2d, 0x6f, 0x72, 0x67, 0x2d, 0x69, 0x64, 0x00}

// EmployerIDForOrgCode is the employer id of an organisation code (a UUIDv5): the same code
// always maps to the same employer, so a second registration of it collides in the stream.
func EmployerIDForOrgCode(orgCode string) string {
	return uuid.NewSHA1(ledgerNamespace, []byte(orgCode)).String()
}

// Clone returns a copy of e that can be changed without changing e.
func (e *Employer) Clone() *Employer {
	c := *e
	c.Enrolled = maps.Clone(e.Enrolled)
	c.Receipts = maps.Clone(e.Receipts)
	c.Declared = maps.Clone(e.Declared)
	c.MigrantsEnrolled = maps.Clone(e.MigrantsEnrolled)
	c.Inspected = slices.Clip(e.Inspected)
	c.Notices = slices.Clip(e.Notices)
	c.Escalations = slices.Clip(e.Escalations)
	c.RiskClasses = slices.Clip(e.RiskClasses)
	c.voided = maps.Clone(e.voided)
	c.Account.entries = slices.Clip(e.Account.entries)
	c.History = e.History.clone()
	return &c
}

// Stage is where enforcement stands on asOf, t the employer's totals then: StageNone before any
// step; StageClosed once the latest step is a court's result, or the arrears were cleared on a
// day from the case's notice through asOf (DOMAIN.md: a case closes when the arrears are cleared
// or a court outcome is recorded; a notice after it opens another); else the latest step. It
// answers as RecordEnforcement.Decide judges the case, a payment recorded late but dated within
// it included.
func (e *Employer) Stage(asOf Date, t Totals, fees []LateFeeRate) string {
	switch {
	case e.LastStep == "":
		return StageNone
	case t.ArrearsFen() == 0 || e.LastStep == StepCourtResult:
		return StageClosed
	}
	if n, ok := e.noticeBy(asOf); ok {
		if _, cleared := e.clearedIn(n.From, asOf, fees); cleared {
			return StageClosed
		}
	}
	return e.LastStep
}

// EscalatedOn is the step past a notice (an inspection, media exposure, forced collection or an
// application to court) at which a case of the employer's stands open on d: the latest step
// dated on or before d, when it is such a step and the arrears were not cleared since the
// notice that began its case. ok is false for no step, a notice, a court's result (the case
// closed) or a case cleared. A notice dated the day of a step begins a case after it (as
// caseIn takes a step of a notice's day into the case before).
func (e *Employer) EscalatedOn(d Date, fees []LateFeeRate) (step DatedStep, ok bool) {
	var last DatedStep
	for _, x := range e.Escalations {
		if x.On <= d && x.On >= last.On {
			last = x
		}
	}
	n, noticed := e.noticeBy(d)
	if last.Step == "" || last.Step == StepCourtResult || noticed && n.From >= last.On {
		return DatedStep{}, false
	}
	if noticed {
		if _, cleared := e.clearedIn(n.From, d, fees); cleared {
			return DatedStep{}, false
		}
	}
	return last, true
}

// apply changes the profile as c says.
func (p *Profile) apply(c EmployerChanged) {
	set(&p.Name, c.Name)
	set(&p.RiskClass, c.RiskClass)
	set(&p.Ownership, c.Ownership)
	set(&p.InIndustrialPark, c.InIndustrialPark)
	set(&p.Industry, c.Industry)
	set(&p.Sector, c.Sector)
	set(&p.OwnershipCode, c.OwnershipCode)
	set(&p.Park, c.Park)
	set(&p.Agency, c.Agency)
}

// set sets *v to *to when a change gives it.
func set[T any](v *T, to *T) {
	if to != nil {
		*v = *to
	}
}
