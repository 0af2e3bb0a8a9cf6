package domain

import (
	"encoding/json"
)

// EmployerKind is the legal kind of a payer.
type EmployerKind string

// Payer kinds.
const (
	KindEnterprise         EmployerKind = "enterprise"
	KindInstitution        EmployerKind = "institution"
	KindIndividualBusiness EmployerKind = "individual_business"
	KindFlexible           EmployerKind = "flexible"
)

// EmployerKinds lists every kind of payer.
var EmployerKinds = []string{string(KindEnterprise), string(KindInstitution), string(KindIndividualBusiness), string(KindFlexible)}

// Individual reports whether the payer pays as an individual (个体工商户, 灵活就业人员).
func (k EmployerKind) Individual() bool { return k == KindIndividualBusiness || k == KindFlexible }

// Carries reports whether payers of the kind carry the insurance: individual payers carry
// pension and medical only.
func (k EmployerKind) Carries(ins Insurance) bool {
	return !k.Individual() || ins == Pension || ins == Medical
}

// Payer is the rate class of the kind.
func (k EmployerKind) Payer() PayerClass {
	if k.Individual() {
		return PayerIndividual
	}
	return PayerUnit
}

// Profile is what identifies and classifies an employer.
type Profile struct {
	Name             string       `json:"name"`
	County           string       `json:"county"`
	OrgCode          string       `json:"org_code,omitempty"`
	CreditCode       string       `json:"credit_code,omitempty"`
	Kind             EmployerKind `json:"kind"`
	Ownership        string       `json:"ownership,omitempty"`
	RiskClass        int          `json:"risk_class"`
	InIndustrialPark bool         `json:"in_industrial_park"`
	// Industry is the section of GB/T 4754-2002 (A–T); Sector one of the plan's named sectors
	// (Sectors); OwnershipCode the economic type of GB/T 12402-2000; Park the industrial park
	// the payer is in; Agency marks a labour agency placing workers (劳务派遣、代理).
	Industry      string `json:"industry,omitempty"`
	Sector        string `json:"sector,omitempty"`
	OwnershipCode string `json:"ownership_code,omitempty"`
	Park          string `json:"park,omitempty"`
	Agency        bool   `json:"agency,omitempty"`
}

// EmployerRegistered: an employer entered the ledger holding a social-insurance registration.
type EmployerRegistered struct {
	Profile
	RegisteredOn  Date   `json:"registered_on"`
	CertificateNo string `json:"certificate_no,omitempty"`
}

// EmployerFound: the survey found an employer that has not registered.
type EmployerFound struct {
	Profile
	FoundOn Date `json:"found_on"`
}

// RegistrationCompleted: an employer found unregistered has registered.
type RegistrationCompleted struct {
	RegisteredOn  Date   `json:"registered_on"`
	CertificateNo string `json:"certificate_no,omitempty"`
}

// EmployerChanged: registration details changed (only the fields given).
type EmployerChanged struct {
	On               Date    `json:"on"`
	Name             *string `json:"name,omitempty"`
	RiskClass        *int    `json:"risk_class,omitempty"`
	Ownership        *string `json:"ownership,omitempty"`
	InIndustrialPark *bool   `json:"in_industrial_park,omitempty"`
	Industry         *string `json:"industry,omitempty"`
	Sector           *string `json:"sector,omitempty"`
	OwnershipCode    *string `json:"ownership_code,omitempty"`
	Park             *string `json:"park,omitempty"`
	Agency           *bool   `json:"agency,omitempty"`
}

// SurveyCounted: the survey counted the persons who should be insured.
type SurveyCounted struct {
	AsOf      Date  `json:"as_of"`
	Workforce int64 `json:"workforce"`
	// Migrants is how many of the workforce are migrant workers (农民工).
	Migrants int64 `json:"migrants,omitempty"`
}

// EnrollmentRecorded: the insured headcount for an insurance from a date.
type EnrollmentRecorded struct {
	Insurance   Insurance `json:"insurance"`
	Headcount   int64     `json:"headcount"`
	EffectiveOn Date      `json:"effective_on"`
	// Migrants is how many of the headcount are migrant workers (农民工); Retirees, for medical
	// insurance, how many retirees are insured besides (of restructured or bankrupt enterprises).
	Migrants int64 `json:"migrants,omitempty"`
	Retirees int64 `json:"retirees,omitempty"`
}

// InspectionRecorded: an inspection (稽核/检查) of the payer, whether or not it found anything;
// what it found is recorded as audit findings of their own.
type InspectionRecorded struct {
	On     Date   `json:"on"`
	Team   string `json:"team"`
	Scope  string `json:"scope"`
	Result string `json:"result"`
	Note   string `json:"note,omitempty"`
}

// DeclaredLine is one insurance of a declaration, with the amount the ledger computed.
type DeclaredLine struct {
	Insurance   Insurance   `json:"insurance"`
	Headcount   int64       `json:"headcount"`
	WageBaseFen Fen         `json:"wage_base_fen"`
	RateBP      BasisPoints `json:"rate_bp"`
	DueFen      Fen         `json:"due_fen"`
}

// DeclarationFiled: the monthly declaration of a period; it replaces any earlier declaration or
// assessment of the period.
type DeclarationFiled struct {
	DeclaredOn Date           `json:"declared_on"`
	Period     Period         `json:"period"`
	DueOn      Date           `json:"due_on"`
	Lines      []DeclaredLine `json:"lines"`
}

// AssessedLine is one insurance of an assessment.
type AssessedLine struct {
	Insurance Insurance `json:"insurance"`
	DueFen    Fen       `json:"due_fen"`
}

// AssessmentMade: the agency assessed a period (110% of the previous period when undeclared).
type AssessmentMade struct {
	AssessedOn Date           `json:"assessed_on"`
	Period     Period         `json:"period"`
	Reason     string         `json:"reason"`
	DueOn      Date           `json:"due_on"`
	Lines      []AssessedLine `json:"lines"`
}

// OpeningLine is arrears of one line carried over from before the ledger.
type OpeningLine struct {
	Period         Period    `json:"period"`
	Insurance      Insurance `json:"insurance"`
	OutstandingFen Fen       `json:"outstanding_fen"`
	DueOn          Date      `json:"due_on"`
}

// OpeningBalanceRecorded: prior arrears (历年欠费) entered the ledger.
type OpeningBalanceRecorded struct {
	AsOf  Date          `json:"as_of"`
	Lines []OpeningLine `json:"lines"`
}

// Allocation directs part of a payment to one line.
type Allocation struct {
	Insurance Insurance `json:"insurance"`
	Period    Period    `json:"period"`
	AmountFen Fen       `json:"amount_fen"`
}

// PaymentReceived: money received from the employer.
type PaymentReceived struct {
	PaidOn      Date         `json:"paid_on"`
	AmountFen   Fen          `json:"amount_fen"`
	ReceiptNo   string       `json:"receipt_no"`
	Allocations []Allocation `json:"allocations,omitempty"`
}

// PaymentReversed: a payment bounced; it is undone from its date.
type PaymentReversed struct {
	ReversedOn Date   `json:"reversed_on"`
	ReceiptNo  string `json:"receipt_no"`
	Reason     string `json:"reason"`
}

// AuditFindingRecorded: an audit found under-reporting (the difference becomes due, overdue from
// the original due date) or an unregistered employer.
type AuditFindingRecorded struct {
	FoundOn          Date        `json:"found_on"`
	Kind             string      `json:"kind"`
	Period           Period      `json:"period"`
	Insurance        Insurance   `json:"insurance"`
	ExtraWageBaseFen Fen         `json:"extra_wage_base_fen,omitempty"`
	ExtraHeadcount   int64       `json:"extra_headcount,omitempty"`
	RateBP           BasisPoints `json:"rate_bp,omitempty"`
	DueFen           Fen         `json:"due_fen,omitempty"`
	DueOn            Date        `json:"due_on"`
	RedeclareBy      Date        `json:"redeclare_by"`
}

// WaiverGranted: an authorised waiver of late fees or of principal on one line.
type WaiverGranted struct {
	DecidedOn    Date      `json:"decided_on"`
	Kind         string    `json:"kind"`
	AuthorityDoc string    `json:"authority_doc"`
	Reason       string    `json:"reason"`
	Basis        string    `json:"basis,omitempty"`
	Insurance    Insurance `json:"insurance"`
	Period       Period    `json:"period"`
	AmountFen    Fen       `json:"amount_fen"`
	// AccruedFeeFen is the late fee accrued on the line when the waiver was decided, kept so that
	// reviews of large waivers need no recomputation.
	AccruedFeeFen Fen `json:"accrued_fee_fen,omitempty"`
}

// EnforcementStepRecorded: a step of the enforcement ladder.
type EnforcementStepRecorded struct {
	Step     string `json:"step"`
	On       Date   `json:"on"`
	DocNo    string `json:"doc_no"`
	Deadline Date   `json:"deadline,omitempty"`
	// DocSHA256 is the SHA-256 (hex) of the document's bytes when the ledger printed it (an
	// arrears notice issued by IssueNotice); "" for a step whose paper was made elsewhere.
	DocSHA256 string `json:"doc_sha256,omitempty"`
}

// ContractsSigned: newly signed labour contracts.
type ContractsSigned struct {
	SignedOn Date  `json:"signed_on"`
	Count    int64 `json:"count"`
}

// EmployerTransferred: the employer moved to another county.
type EmployerTransferred struct {
	On   Date   `json:"on"`
	From string `json:"from"`
	To   string `json:"to"`
}

// EmployerDeregistered: the employer left the ledger's active population.
type EmployerDeregistered struct {
	On     Date   `json:"on"`
	Reason string `json:"reason"`
}

// EmployerReinstated: a deregistered employer is a payer again from On (复业); dues start
// again with the next period.
type EmployerReinstated struct {
	On     Date   `json:"on"`
	Reason string `json:"reason"`
}

// EventType implementations.
func (EmployerReinstated) EventType() string { return "employer.reinstated" }
func (EmployerRegistered) EventType() string { return "employer.registered" }

func (EmployerFound) EventType() string { return "employer.found" }

func (RegistrationCompleted) EventType() string { return "employer.registration_completed" }

func (EmployerChanged) EventType() string { return "employer.changed" }

func (SurveyCounted) EventType() string { return "survey.counted" }

func (EnrollmentRecorded) EventType() string { return "enrollment.recorded" }

func (DeclarationFiled) EventType() string { return "declaration.filed" }

func (AssessmentMade) EventType() string { return "assessment.made" }

func (OpeningBalanceRecorded) EventType() string { return "opening_balance.recorded" }

func (PaymentReceived) EventType() string { return "payment.received" }

func (PaymentReversed) EventType() string { return "payment.reversed" }

func (AuditFindingRecorded) EventType() string { return "audit_finding.recorded" }

func (InspectionRecorded) EventType() string { return "inspection.recorded" }

func (WaiverGranted) EventType() string { return "waiver.granted" }

func (EnforcementStepRecorded) EventType() string { return "enforcement.step_recorded" }

func (ContractsSigned) EventType() string { return "contracts.signed" }

func (EmployerTransferred) EventType() string { return "employer.transferred" }

func (EmployerDeregistered) EventType() string { return "employer.deregistered" }

// FreezeMade records a point-in-time freeze: the figures of the views folded through sequence
// ThroughSeq, counting what was dated on or before ValidThrough. It is kept in the ledger's own
// stream, which never forgets.
type FreezeMade struct {
	ID           string          `json:"id"`
	ThroughSeq   uint64          `json:"through_seq"`
	ValidThrough Date            `json:"valid_through"`
	ChainHead    string          `json:"chain_head"`
	CodeVersion  string          `json:"code_version"`
	Digest       string          `json:"digest"`
	CreatedAt    string          `json:"created_at"`
	Figures      json.RawMessage `json:"figures,omitempty"`
}

// EventType names the event.
func (FreezeMade) EventType() string { return "freeze.made" }

// ProvinceFreezeMade records a province's freeze: its cities' figures as their own freezes hold
// them (Cities names each, with its digest), summed and ranked, and the digest of those figures.
// It is kept in the province's stream, beside the cities' ledgers.
type ProvinceFreezeMade struct {
	ID           string       `json:"id"`
	Province     string       `json:"province"`
	Year         int          `json:"year"`
	ValidThrough Date         `json:"valid_through"`
	Cities       []CityFreeze `json:"cities"`
	CodeVersion  string       `json:"code_version"`
	Digest       string       `json:"digest"`
	// Figures are the province's figures (JSON), whose SHA-256 is Digest.
	Figures json.RawMessage `json:"figures"`
}

// CityFreeze names one city's freeze in a province freeze's manifest.
type CityFreeze struct {
	Ledger     string `json:"ledger"`
	Name       string `json:"name"`
	FreezeID   string `json:"freeze_id"`
	Seq        uint64 `json:"seq"`
	ThroughSeq uint64 `json:"through_seq"`
	Digest     string `json:"digest"`
}

// EventType names the event.
func (ProvinceFreezeMade) EventType() string { return "province.freeze.made" }
