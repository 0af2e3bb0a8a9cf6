package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	fastjson "github.com/segmentio/encoding/json"
)

// Payload is the typed body of an event.
type Payload interface {
	// EventType names the event in the stream, e.g. "payment.received".
	EventType() string
}

// Envelope is what every event carries besides its payload. It is stored as JSON in the message
// body; the stream sequence, the recorded time and the hash come from the stream and its headers.
type Envelope struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Schema        int    `json:"schema"`
	EmployerID    string `json:"employer_id,omitempty"`
	County        string `json:"county,omitempty"`
	OccurredOn    Date   `json:"occurred_on"`
	Actor         string `json:"actor"`
	IdemKey       string `json:"idem_key,omitempty"`
	BodyHash      string `json:"body_hash,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	// N numbers the employer's events from 1, so a missing one shows as a gap.
	N uint64 `json:"n,omitempty"`
	// PrevSeq is the stream sequence of the employer's previous event. It is 0 when that event
	// is the message just before this one (seq − 1): events appended together go in one
	// contiguous atomic batch, so their sequences are not known before they commit.
	PrevSeq  uint64          `json:"prev_seq,omitempty"`
	PrevHash string          `json:"prev_hash,omitempty"`
	Payload  json.RawMessage `json:"payload"`

	Seq        uint64 `json:"-"`
	RecordedAt int64  `json:"-"` // Unix nanoseconds, from the stream
	Hash       string `json:"-"`
}

// Event is a decoded event: its envelope and its typed payload.
type Event struct {
	Envelope
	Body Payload
}

// ChainHash is the hash of an event: SHA-256 over the previous event's hash (hex-decoded, empty
// for an employer's first event) followed by the event's stored bytes.
func ChainHash(prevHash string, data []byte) string {
	h := sha256.New()
	if prev, err := hex.DecodeString(prevHash); err == nil {
		h.Write(prev)
	} else {
		h.Write([]byte(prevHash))
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// ChainHashIs reports whether hash is ChainHash(prevHash, data). It builds no string: every
// event read is checked, and the strings were most of a check's garbage.
func ChainHashIs(hash, prevHash string, data []byte) bool {
	if len(hash) != 2*sha256.Size || (prevHash != "" && len(prevHash) != 2*sha256.Size) {
		return ChainHash(prevHash, data) == hash
	}
	h := sha256.New()
	var prev [sha256.Size]byte
	if _, err := hex.Decode(prev[:], []byte(prevHash)); err == nil {
		h.Write(prev[:len(prevHash)/2])
	} else {
		h.Write([]byte(prevHash))
	}
	h.Write(data)
	var sum [sha256.Size]byte
	var text [2 * sha256.Size]byte
	hex.Encode(text[:], h.Sum(sum[:0]))
	return string(text[:]) == hash
}

// Encode returns the stored bytes of an envelope whose payload is body.
func Encode(env Envelope, body Payload) ([]byte, error) {
	p, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	env.Type = body.EventType()
	env.Schema = schemaOf(env.Type)
	env.Payload = p
	return json.Marshal(env)
}

// Decode parses stored bytes into an event, upcasting older payload schemas.
func Decode(data []byte) (Event, error) {
	// Fast path: events at the current schema decode in one pass, envelope and payload together.
	if t := peekType(data); t != "" {
		if reg, ok := registry[t]; ok {
			if ev, err := reg.whole(data); err == nil && ev.Type == t && ev.Schema == reg.schema {
				return ev, nil
			}
		}
	}
	var ev Event
	if err := fastjson.Unmarshal(data, &ev.Envelope); err != nil {
		return ev, fmt.Errorf("decode envelope: %w", err)
	}
	reg, ok := registry[ev.Type]
	if !ok {
		return ev, fmt.Errorf("unknown event type %q", ev.Type)
	}
	if ev.Schema > reg.schema {
		return ev, fmt.Errorf("event type %q schema %d is newer than this build knows (%d)", ev.Type, ev.Schema, reg.schema)
	}
	body, err := reg.decode(ev.Schema, ev.Payload)
	if err != nil {
		return ev, fmt.Errorf("decode %s payload: %w", ev.Type, err)
	}
	ev.Body = body
	return ev, nil
}

var typeKey = []byte(`"type":`)

// peekType finds the envelope's type without decoding. Encode writes it second, after the id;
// JSON that went through PostgreSQL's jsonb has its keys reordered and spaced, so the first few
// hundred bytes are searched and a space is allowed. The caller checks the decoded type anyway.
func peekType(data []byte) string {
	i := bytes.Index(data[:min(len(data), 320)], typeKey)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(data[i+len(typeKey):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

type registration struct {
	schema int
	// decode reads a payload of any known schema (upcasting older ones).
	decode func(schema int, raw json.RawMessage) (Payload, error)
	// whole reads a whole event at the current schema in one pass.
	whole func(data []byte) (Event, error)
}

var registry = map[string]registration{}

func schemaOf(t string) int { return registry[t].schema }

// register adds a payload type at schema version 1; a later schema adds its upcaster here.
func register[T Payload]() {
	var zero T
	registry[zero.EventType()] = registration{
		schema: 1,
		decode: func(_ int, raw json.RawMessage) (Payload, error) {
			var v T
			err := fastjson.Unmarshal(raw, &v)
			return v, err
		},
		whole: func(data []byte) (Event, error) {
			// The outer Payload field is shallower than the envelope's, so it takes "payload".
			var w struct {
				Envelope
				Payload T `json:"payload"`
			}
			err := fastjson.Unmarshal(data, &w)
			return Event{Envelope: w.Envelope, Body: w.Payload}, err
		},
	}
}

func init() {
	register[EmployerRegistered]()
	register[EmployerFound]()
	register[RegistrationCompleted]()
	register[EmployerChanged]()
	register[SurveyCounted]()
	register[EnrollmentRecorded]()
	register[DeclarationFiled]()
	register[AssessmentMade]()
	register[OpeningBalanceRecorded]()
	register[PaymentReceived]()
	register[PaymentReversed]()
	register[AuditFindingRecorded]()
	register[WaiverGranted]()
	register[EnforcementStepRecorded]()
	register[ContractsSigned]()
	register[EmployerTransferred]()
	register[EmployerDeregistered]()
	register[CountiesDefined]()
	register[RatesSet]()
	register[LateFeeRatesSet]()
	register[SettingsSet]()
	register[TargetsSet]()
	register[AverageWageSet]()
	register[CountyRedefined]()
	register[FreezeMade]()
	register[YearClosed]()
	register[YearReopened]()
}

// EventTypes lists every event type this build knows.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}

// EmployerKind is the legal kind of a payer.
type EmployerKind string

// Payer kinds.
const (
	KindEnterprise         EmployerKind = "enterprise"
	KindInstitution        EmployerKind = "institution"
	KindIndividualBusiness EmployerKind = "individual_business"
	KindFlexible           EmployerKind = "flexible"
)

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
}

// SurveyCounted: the survey counted the persons who should be insured.
type SurveyCounted struct {
	AsOf      Date  `json:"as_of"`
	Workforce int64 `json:"workforce"`
}

// EnrollmentRecorded: the insured headcount for an insurance from a date.
type EnrollmentRecorded struct {
	Insurance   Insurance `json:"insurance"`
	Headcount   int64     `json:"headcount"`
	EffectiveOn Date      `json:"effective_on"`
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

// CountiesDefined: the county-level units and supervision groups.
type CountiesDefined struct {
	Counties []County `json:"counties"`
	Groups   []Group  `json:"groups"`
}

// RatesSet: a new version of the premium rate table (费率).
type RatesSet struct {
	Table RateTable `json:"table"`
}

// LateFeeRatesSet: a new version of the daily late-fee rate.
type LateFeeRatesSet struct {
	Rate LateFeeRate `json:"rate"`
}

// SettingsSet: a new version of the collection settings.
type SettingsSet struct {
	Settings Settings `json:"settings"`
}

// TargetsSet: a new version of a year's targets.
type TargetsSet struct {
	Targets Targets `json:"targets"`
}

// AverageWageSet: a new version of the local average wage.
type AverageWageSet struct {
	Wage AverageWage `json:"wage"`
}

// EventType implementations.
func (EmployerRegistered) EventType() string      { return "employer.registered" }
func (EmployerFound) EventType() string           { return "employer.found" }
func (RegistrationCompleted) EventType() string   { return "employer.registration_completed" }
func (EmployerChanged) EventType() string         { return "employer.changed" }
func (SurveyCounted) EventType() string           { return "survey.counted" }
func (EnrollmentRecorded) EventType() string      { return "enrollment.recorded" }
func (DeclarationFiled) EventType() string        { return "declaration.filed" }
func (AssessmentMade) EventType() string          { return "assessment.made" }
func (OpeningBalanceRecorded) EventType() string  { return "opening_balance.recorded" }
func (PaymentReceived) EventType() string         { return "payment.received" }
func (PaymentReversed) EventType() string         { return "payment.reversed" }
func (AuditFindingRecorded) EventType() string    { return "audit_finding.recorded" }
func (WaiverGranted) EventType() string           { return "waiver.granted" }
func (EnforcementStepRecorded) EventType() string { return "enforcement.step_recorded" }
func (ContractsSigned) EventType() string         { return "contracts.signed" }
func (EmployerTransferred) EventType() string     { return "employer.transferred" }
func (EmployerDeregistered) EventType() string    { return "employer.deregistered" }
func (CountiesDefined) EventType() string         { return "reference.counties_defined" }
func (RatesSet) EventType() string                { return "reference.rates_set" }
func (LateFeeRatesSet) EventType() string         { return "reference.late_fee_rates_set" }
func (SettingsSet) EventType() string             { return "reference.settings_set" }
func (TargetsSet) EventType() string              { return "reference.targets_set" }
func (AverageWageSet) EventType() string          { return "reference.average_wage_set" }

// RefKind is the subject token of a reference-data event ("ledger.ref.<kind>").
func RefKind(p Payload) string {
	switch p.(type) {
	case CountiesDefined:
		return "counties"
	case RatesSet:
		return "rates"
	case LateFeeRatesSet:
		return "late-fee-rates"
	case SettingsSet:
		return "settings"
	case TargetsSet:
		return "targets"
	case AverageWageSet:
		return "average-wage"
	case CountyRedefined:
		return "county-redefinitions"
	case YearClosed, YearReopened:
		return "years"
	}
	return ""
}

// Apply folds a reference-data event into r; other events leave it unchanged.
func (r *Reference) Apply(p Payload) {
	switch e := p.(type) {
	case CountiesDefined:
		r.Counties, r.Groups = e.Counties, e.Groups
	case RatesSet:
		r.Rates = upsert(r.Rates, e.Table, func(t RateTable) Date { return t.EffectiveFrom })
	case LateFeeRatesSet:
		r.LateFees = upsert(r.LateFees, e.Rate, func(t LateFeeRate) Date { return t.EffectiveFrom })
	case SettingsSet:
		r.Settings = upsert(r.Settings, e.Settings, func(t Settings) Date { return t.EffectiveFrom })
	case TargetsSet:
		r.Targets = append(r.Targets, e.Targets)
	case AverageWageSet:
		r.AverageWages = upsert(r.AverageWages, e.Wage, func(t AverageWage) Date { return t.EffectiveFrom })
	case CountyRedefined:
		r.applyRedefinition(e)
	case YearClosed:
		r.applyYear(YearStatus{Year: e.Year, Closed: true, FreezeID: e.FreezeID, Digest: e.Digest})
	case YearReopened:
		r.applyYear(YearStatus{Year: e.Year, ReopenReason: e.Reason})
	}
}

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
