package domain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFen bounds any single amount (10 billion yuan), which keeps every late-fee sum inside int64.
const MaxFen = 1_000_000_000_000

// MaxCount bounds headcounts, workforces and contract counts.
const MaxCount = 10_000_000

// Context is what a command is checked against besides the employer: the reference data known
// now and today's business date.
type Context struct {
	Ref   *Reference
	Today Date
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

// checker collects the first field error while parsing raw inputs.
type checker struct {
	ctx Context
	err error
}

func (c *checker) fail(err *Error) {
	if c.err == nil {
		c.err = err
	}
}

// text checks free text (a name, a reason, an authority document) and returns its stored form,
// NormalizeText(s). White space alone is an absent value ("is required" when one is); text whose
// other characters are all invisible (zero-width, BOM, direction marks) is refused.
func (c *checker) text(field, s string, required bool, maxLen int) string {
	return c.normalized(field, s, required, maxLen, NormalizeText)
}

// code checks a code typed by people (a receipt, certificate or document number) and returns
// its compared and stored form, NormalizeCode(s), by the rules of text.
func (c *checker) code(field, s string, required bool, maxLen int) string {
	return c.normalized(field, s, required, maxLen, NormalizeCode)
}

// normalized refuses invalid UTF-8, control characters and bidirectional overrides (which are
// refused, not removed: they make text display differently from what it is), then judges
// normalize(s): it needs a visible character and at most maxLen characters, as given and as
// stored. It returns "" when the field is absent or refused.
func (c *checker) normalized(field, s string, required bool, maxLen int, normalize func(string) string) string {
	if !utf8.ValidString(s) {
		c.fail(Invalid(field, "is not valid UTF-8"))
		return ""
	}
	if i := strings.IndexFunc(s, unprintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		c.fail(Invalid(field, "contains the character U+%04X, which is not allowed (a control or direction-override character, or U+FFFD, which stands for text damaged before it was sent)", r))
		return ""
	}
	if strings.TrimSpace(s) == "" {
		if required {
			c.fail(Invalid(field, "is required"))
		}
		return ""
	}
	if utf8.RuneCountInString(s) > maxLen {
		c.fail(Invalid(field, "is longer than %d characters", maxLen))
		return ""
	}
	n := normalize(s)
	if strings.IndexFunc(n, visible) < 0 {
		c.fail(Invalid(field, "has no visible character: it holds only spaces and invisible (zero-width or format) characters"))
		return ""
	}
	if utf8.RuneCountInString(n) > maxLen {
		c.fail(Invalid(field, "is longer than %d characters once normalised (NFKC spells some characters out)", maxLen))
		return ""
	}
	return n
}

func (c *checker) date(field, s string, required bool) Date {
	if s == "" {
		if required {
			c.fail(Invalid(field, "is required (YYYY-MM-DD)"))
		}
		return 0
	}
	d, err := ParseDate(s)
	if err != nil {
		c.fail(Invalid(field, "%v", err))
		return 0
	}
	if e := happened(field, d, c.ctx.Today); e != nil {
		c.fail(e)
	}
	if e := checkYearOpen(c.ctx.Ref, field, d); e != nil {
		c.fail(e)
	}
	return d
}

func (c *checker) period(field, s string) Period {
	if s == "" {
		c.fail(Invalid(field, "is required (YYYY-MM)"))
		return 0
	}
	p, err := ParsePeriod(s)
	if err != nil {
		c.fail(Invalid(field, "%v", err))
		return 0
	}
	if p.Year() < EarliestDate.Year() {
		c.fail(Invalid(field, "%s is before 1990", p))
	}
	return p
}

// integer parses a JSON number that must be a whole number in [lo, hi].
func (c *checker) integer(field string, n Number, required bool, lo, hi int64, unit string) int64 {
	if n == "" {
		if required {
			c.fail(Invalid(field, "is required"))
		}
		return 0
	}
	if n[0] == '"' {
		c.fail(Invalid(field, "%s is a string: want a whole number of %s, without quotes", n, unit))
		return 0
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if first := n[0]; first == '-' || (first >= '0' && first <= '9') {
			c.fail(Invalid(field, "%s is not a whole number of %s", n, unit))
		} else {
			c.fail(Invalid(field, "%s is not a number: want a whole number of %s", n, unit))
		}
		return 0
	}
	if v < lo {
		if lo == 0 {
			c.fail(Invalid(field, "%d is negative", v))
		} else {
			c.fail(Invalid(field, "%d is below the minimum %d", v, lo))
		}
		return 0
	}
	if v > hi {
		c.fail(Invalid(field, "%d is above the maximum %d", v, hi))
		return 0
	}
	return v
}

func (c *checker) fen(field string, n Number, required bool, positive bool) Fen {
	lo := int64(0)
	if positive {
		lo = 1
	}
	return Fen(c.integer(field, n, required, lo, MaxFen, "fen"))
}

func (c *checker) insurance(field, s string) Insurance {
	if s == "" {
		c.fail(Invalid(field, "is required"))
		return ""
	}
	i, err := ParseInsurance(field, s)
	if err != nil {
		c.fail(err.(*Error))
	}
	return i
}

func (c *checker) oneOf(field, s string, options ...string) string {
	if s == "" {
		c.fail(Invalid(field, "is required: one of %s", strings.Join(options, ", ")))
	} else if !slices.Contains(options, s) {
		c.fail(Invalid(field, "unknown value %q: want one of %s", s, strings.Join(options, ", ")))
	}
	return s
}

// unprintable reports control characters and the bidirectional overrides that make text display
// differently from what it is.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError
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
		return Conflict("", "the employer was deregistered on %s", e.DeregisteredOn)
	}
	return nil
}

// carries checks that individual payers are only charged pension and medical.
func carries(e *Employer, field string, ins Insurance) error {
	if !e.Kind.Carries(ins) {
		return Conflict(field, "%s payers only carry pension and medical, not %s", e.Kind, ins)
	}
	return nil
}

// RegisterEmployer enters an employer in the ledger, registered or found unregistered by the survey.
type RegisterEmployer struct {
	Name             string `json:"name"`
	County           string `json:"county"`
	OrgCode          string `json:"org_code"`
	CreditCode       string `json:"credit_code"`
	Kind             string `json:"kind"`
	Ownership        string `json:"ownership"`
	RiskClass        Number `json:"risk_class"`
	InIndustrialPark bool   `json:"in_industrial_park"`
	RegisteredOn     string `json:"registered_on"`
	CertificateNo    string `json:"certificate_no"`
	FoundOn          string `json:"found_on"`

	profile Profile
	date    Date
}

// Check validates the fields and normalises the identifiers.
func (r *RegisterEmployer) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	p := Profile{InIndustrialPark: r.InIndustrialPark}
	p.Name = c.text("name", r.Name, true, 200)
	p.County = r.County
	if c.err == nil && r.County == "" {
		c.fail(Invalid("county", "is required (6-digit code)"))
	}
	if c.err == nil {
		if err := ctx.Ref.CheckCounty("county", r.County); err != nil {
			c.fail(err.(*Error))
		}
	}
	p.Kind = EmployerKind(c.oneOf("kind", r.Kind, string(KindEnterprise), string(KindInstitution), string(KindIndividualBusiness), string(KindFlexible)))
	p.Ownership = c.text("ownership", r.Ownership, false, 50)
	p.RiskClass = int(c.integer("risk_class", r.RiskClass, true, 1, 3, "risk classes (1–3)"))
	if c.err != nil {
		return c.err
	}
	if r.CreditCode != "" {
		cc, err := NormalizeCreditCode(r.CreditCode)
		if err != nil {
			return Invalid("credit_code", "%v", err)
		}
		p.CreditCode, p.OrgCode = cc, OrgCodeOfCreditCode(cc)
	}
	if r.OrgCode != "" {
		oc, err := NormalizeOrgCode(r.OrgCode)
		if err != nil {
			return Invalid("org_code", "%v", err)
		}
		if p.OrgCode != "" && p.OrgCode != oc {
			return Invalid("org_code", "%s is not the organisation code inside credit code %s (%s)", oc, p.CreditCode, p.OrgCode)
		}
		p.OrgCode = oc
	}
	switch {
	case p.Kind.Individual() && p.OrgCode != "":
		return Invalid("org_code", "individual payers (%s) have no organisation code", p.Kind)
	case !p.Kind.Individual() && p.OrgCode == "":
		return Invalid("org_code", "is required for an %s (or give credit_code)", p.Kind)
	}
	switch {
	case r.RegisteredOn != "" && r.FoundOn != "":
		return Invalid("found_on", "give either registered_on (registered) or found_on (found unregistered), not both")
	case r.RegisteredOn != "":
		r.date = c.date("registered_on", r.RegisteredOn, true)
		r.CertificateNo = c.code("certificate_no", r.CertificateNo, false, 64)
	case r.FoundOn != "":
		r.date = c.date("found_on", r.FoundOn, true)
		if r.CertificateNo != "" {
			c.fail(Invalid("certificate_no", "an employer found unregistered has no certificate"))
		}
	default:
		return Invalid("registered_on", "is required (or found_on for an employer found unregistered)")
	}
	r.profile = p
	return c.err
}

// Date is the day the employer entered the ledger.
func (r *RegisterEmployer) Date() Date { return r.date }

// EmployerID is the id the employer gets: derived from its organisation code, or "" for an
// individual payer, who gets a fresh id.
func (r *RegisterEmployer) EmployerID() string {
	if r.profile.OrgCode == "" {
		return ""
	}
	return EmployerIDForOrgCode(r.profile.OrgCode)
}

// Decide refuses a second employer with the same organisation code.
func (r *RegisterEmployer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if e.Exists() {
		return nil, Conflict("org_code", "an employer with organisation code %s is already in the ledger (%s, %s)", r.profile.OrgCode, e.ID, e.Name)
	}
	if r.RegisteredOn != "" {
		return []Payload{EmployerRegistered{Profile: r.profile, RegisteredOn: r.date, CertificateNo: r.CertificateNo}}, nil
	}
	return []Payload{EmployerFound{Profile: r.profile, FoundOn: r.date}}, nil
}

// CompleteRegistration registers an employer that was found unregistered.
type CompleteRegistration struct {
	RegisteredOn  string `json:"registered_on"`
	CertificateNo string `json:"certificate_no"`
	date          Date
}

// Check validates the fields.
func (r *CompleteRegistration) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("registered_on", r.RegisteredOn, true)
	r.CertificateNo = c.code("certificate_no", r.CertificateNo, false, 64)
	return c.err
}

// Date is the registration date.
func (r *CompleteRegistration) Date() Date { return r.date }

// Decide refuses an employer already registered.
func (r *CompleteRegistration) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if e.Registered {
		return nil, Conflict("registered_on", "the employer is already registered (since %s)", e.RegisteredOn)
	}
	if err := notBefore(e, "registered_on", r.date); err != nil {
		return nil, err
	}
	return []Payload{RegistrationCompleted{RegisteredOn: r.date, CertificateNo: r.CertificateNo}}, nil
}

// ChangeEmployer changes registration details.
type ChangeEmployer struct {
	On               string  `json:"on"`
	Name             *string `json:"name"`
	RiskClass        *Number `json:"risk_class"`
	Ownership        *string `json:"ownership"`
	InIndustrialPark *bool   `json:"in_industrial_park"`
	date             Date
	event            EmployerChanged
}

// Check validates the fields; at least one change is required.
func (r *ChangeEmployer) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("on", r.On, true)
	ev := EmployerChanged{On: r.date, InIndustrialPark: r.InIndustrialPark}
	if r.Name != nil {
		n := c.text("name", *r.Name, true, 200)
		ev.Name = &n
	}
	if r.Ownership != nil {
		o := c.text("ownership", *r.Ownership, false, 50)
		ev.Ownership = &o
	}
	if r.RiskClass != nil {
		rc := int(c.integer("risk_class", *r.RiskClass, true, 1, 3, "risk classes (1–3)"))
		ev.RiskClass = &rc
	}
	if c.err == nil && ev.Name == nil && ev.Ownership == nil && ev.RiskClass == nil && ev.InIndustrialPark == nil {
		c.fail(Invalid("name", "no change given: set at least one of name, risk_class, ownership, in_industrial_park"))
	}
	r.event = ev
	return c.err
}

// Date is the day of the change.
func (r *ChangeEmployer) Date() Date { return r.date }

// Decide records the change.
func (r *ChangeEmployer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "on", r.date); err != nil {
		return nil, err
	}
	return []Payload{r.event}, nil
}

// RecordSurvey records the survey's count of persons who should be insured.
type RecordSurvey struct {
	AsOf      string `json:"as_of"`
	Workforce Number `json:"workforce"`
	date      Date
	workforce int64
}

// Check validates the fields.
func (r *RecordSurvey) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("as_of", r.AsOf, true)
	r.workforce = c.integer("workforce", r.Workforce, true, 0, MaxCount, "persons")
	return c.err
}

// Date is the survey date.
func (r *RecordSurvey) Date() Date { return r.date }

// Decide records the count.
func (r *RecordSurvey) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "as_of", r.date); err != nil {
		return nil, err
	}
	return []Payload{SurveyCounted{AsOf: r.date, Workforce: r.workforce}}, nil
}

// RecordEnrollment records the insured headcount of one insurance.
type RecordEnrollment struct {
	Insurance   string `json:"insurance"`
	Headcount   Number `json:"headcount"`
	EffectiveOn string `json:"effective_on"`
	ev          EnrollmentRecorded
}

// Check validates the fields.
func (r *RecordEnrollment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.Insurance = c.insurance("insurance", r.Insurance)
	r.ev.Headcount = c.integer("headcount", r.Headcount, true, 0, MaxCount, "persons")
	r.ev.EffectiveOn = c.date("effective_on", r.EffectiveOn, true)
	return c.err
}

// Date is the effective date.
func (r *RecordEnrollment) Date() Date { return r.ev.EffectiveOn }

// Decide records the enrollment.
func (r *RecordEnrollment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := carries(e, "insurance", r.ev.Insurance); err != nil {
		return nil, err
	}
	if err := notBefore(e, "effective_on", r.ev.EffectiveOn); err != nil {
		return nil, err
	}
	return []Payload{r.ev}, nil
}

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
		f := fmt.Sprintf("lines[%d].", i)
		dl := DeclaredLine{
			Insurance:   c.insurance(f+"insurance", l.Insurance),
			Headcount:   c.integer(f+"headcount", l.Headcount, true, 0, MaxCount, "persons"),
			WageBaseFen: c.fen(f+"wage_base_fen", l.WageBaseFen, true, false),
		}
		if c.err == nil && seen[dl.Insurance] {
			c.fail(Invalid(f+"insurance", "%s appears twice", dl.Insurance))
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
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "declared_on", r.ev.DeclaredOn); err != nil {
		return nil, err
	}
	ev := r.ev
	ev.Lines = slices.Clone(r.ev.Lines)
	for i := range ev.Lines {
		l := &ev.Lines[i]
		f := fmt.Sprintf("lines[%d].insurance", i)
		if err := carries(e, f, l.Insurance); err != nil {
			return nil, err
		}
		bp, ok := ctx.Ref.Rate(l.Insurance, e.Kind.Payer(), e.RiskClass, ev.Period.FirstDay())
		if !ok {
			return nil, Conflict(f, "no %s rate for %s payers is in force on %s", l.Insurance, e.Kind.Payer(), ev.Period.FirstDay())
		}
		due, err := ApplyRate(l.WageBaseFen, bp)
		if err != nil {
			return nil, Invalid(fmt.Sprintf("lines[%d].wage_base_fen", i), "%v", err)
		}
		l.RateBP, l.DueFen = bp, due
	}
	return []Payload{ev}, nil
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

// MakeAssessment assesses a period: at 110% of the previous period's due when the employer did not
// declare, or with explicit lines.
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
		f := fmt.Sprintf("lines[%d].", i)
		al := AssessedLine{Insurance: c.insurance(f+"insurance", l.Insurance), DueFen: c.fen(f+"due_fen", l.DueFen, true, false)}
		if c.err == nil && seen[al.Insurance] {
			c.fail(Invalid(f+"insurance", "%s appears twice", al.Insurance))
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

// Decide computes 110% of the previous period's due per insurance when no lines are given.
func (r *MakeAssessment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "assessed_on", r.ev.AssessedOn); err != nil {
		return nil, err
	}
	ev := r.ev
	if ev.Reason == AssessNoDeclaration && e.Declared[ev.Period] {
		return nil, Conflict("period", "%s is already declared; an assessment for no declaration does not apply", ev.Period)
	}
	for i, l := range ev.Lines {
		if err := carries(e, fmt.Sprintf("lines[%d].insurance", i), l.Insurance); err != nil {
			return nil, err
		}
	}
	if len(ev.Lines) == 0 {
		st := e.Account.Statement(ev.AssessedOn, ctx.Ref.LateFees)
		prev := ev.Period.Prev()
		for _, ins := range Insurances {
			if l, ok := st.Line(LineKey{prev, ins}); ok && l.DueFen > 0 {
				due, err := Percent(l.DueFen, 110)
				if err != nil {
					return nil, Invalid("period", "%v", err)
				}
				ev.Lines = append(ev.Lines, AssessedLine{Insurance: ins, DueFen: due})
			}
		}
		if len(ev.Lines) == 0 {
			return nil, Conflict("lines", "no due for the previous period %s to assess 110%% of: give the lines", prev)
		}
	}
	return []Payload{ev}, nil
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
		f := fmt.Sprintf("lines[%d].", i)
		ol := OpeningLine{Period: c.period(f+"period", l.Period), Insurance: c.insurance(f+"insurance", l.Insurance),
			OutstandingFen: c.fen(f+"outstanding_fen", l.OutstandingFen, true, true)}
		if c.err == nil && ol.Period.FirstDay() > r.ev.AsOf {
			c.fail(Invalid(f+"period", "%s is after the balance date %s", ol.Period, r.ev.AsOf))
		}
		k := LineKey{ol.Period, ol.Insurance}
		if c.err == nil && seen[k] {
			c.fail(Invalid(f+"period", "%s %s appears twice", ol.Period, ol.Insurance))
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

// Decide records the balances.
func (r *RecordOpeningBalance) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "as_of", r.ev.AsOf); err != nil {
		return nil, err
	}
	for i, l := range r.ev.Lines {
		if err := carries(e, fmt.Sprintf("lines[%d].insurance", i), l.Insurance); err != nil {
			return nil, err
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

// Check validates the fields; allocations may not add up to more than the amount.
func (r *RecordPayment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.PaidOn = c.date("paid_on", r.PaidOn, true)
	r.ev.AmountFen = c.fen("amount_fen", r.AmountFen, true, true)
	r.ev.ReceiptNo = c.code("receipt_no", r.ReceiptNo, true, 64)
	var sum Fen
	r.ev.Allocations = nil
	for i, a := range r.Allocations {
		f := fmt.Sprintf("allocations[%d].", i)
		al := Allocation{Insurance: c.insurance(f+"insurance", a.Insurance), Period: c.period(f+"period", a.Period),
			AmountFen: c.fen(f+"amount_fen", a.AmountFen, true, true)}
		sum += al.AmountFen
		if c.err == nil && sum > r.ev.AmountFen {
			c.fail(Invalid(f+"amount_fen", "allocations add up to %d fen, more than the payment's %d", sum, r.ev.AmountFen))
		}
		r.ev.Allocations = append(r.ev.Allocations, al)
	}
	return c.err
}

// Date is the payment date.
func (r *RecordPayment) Date() Date { return r.ev.PaidOn }

// Decide refuses a receipt number of a payment of the employer's that stands (not reversed),
// compared in the form NormalizeCode gives; a reversed payment's receipt may be recorded anew.
func (r *RecordPayment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "paid_on", r.ev.PaidOn); err != nil {
		return nil, err
	}
	if reversed, used := e.Receipts[r.ev.ReceiptNo]; used && !reversed {
		return nil, Conflict("receipt_no", "receipt %s is already recorded for this employer, on a payment that stands (only a reversed payment's receipt may be recorded again)", r.ev.ReceiptNo)
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
// had the same receipt.
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
	return []Payload{r.ev}, nil
}

// Audit finding kinds.
const (
	FindingUnderReportedBase = "under_reported_base"
	FindingMissedWorkers     = "missed_workers"
	FindingUnregistered      = "unregistered"
)

// RecordAuditFinding records what an audit found.
type RecordAuditFinding struct {
	FoundOn          string `json:"found_on"`
	Kind             string `json:"kind"`
	Period           string `json:"period"`
	Insurance        string `json:"insurance"`
	ExtraWageBaseFen Number `json:"extra_wage_base_fen"`
	ExtraHeadcount   Number `json:"extra_headcount"`
	RedeclareBy      string `json:"redeclare_by"`
	ev               AuditFindingRecorded
}

// Check validates the fields.
func (r *RecordAuditFinding) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	ev := AuditFindingRecorded{}
	ev.FoundOn = c.date("found_on", r.FoundOn, true)
	ev.Kind = c.oneOf("kind", r.Kind, FindingUnderReportedBase, FindingMissedWorkers, FindingUnregistered)
	ev.Period = c.period("period", r.Period)
	ev.Insurance = c.insurance("insurance", r.Insurance)
	switch ev.Kind {
	case FindingUnderReportedBase:
		ev.ExtraWageBaseFen = c.fen("extra_wage_base_fen", r.ExtraWageBaseFen, true, true)
	case FindingMissedWorkers:
		ev.ExtraHeadcount = c.integer("extra_headcount", r.ExtraHeadcount, true, 1, MaxCount, "persons")
		ev.ExtraWageBaseFen = c.fen("extra_wage_base_fen", r.ExtraWageBaseFen, true, true)
	}
	if r.RedeclareBy == "" {
		c.fail(Invalid("redeclare_by", "is required (YYYY-MM-DD)"))
	} else if d, err := ParseDate(r.RedeclareBy); err != nil {
		c.fail(Invalid("redeclare_by", "%v", err))
	} else {
		ev.RedeclareBy = d
	}
	if c.err == nil && ev.RedeclareBy < ev.FoundOn {
		c.fail(Invalid("redeclare_by", "%s is before the finding date %s", ev.RedeclareBy, ev.FoundOn))
	}
	if c.err == nil && ev.Period.FirstDay() > ev.FoundOn {
		c.fail(Invalid("period", "%s has not begun on %s", ev.Period, ev.FoundOn))
	}
	if c.err == nil {
		ev.DueOn = ctx.Ref.DueDate(ev.Period)
	}
	r.ev = ev
	return c.err
}

// Date is the finding date.
func (r *RecordAuditFinding) Date() Date { return r.ev.FoundOn }

// Decide computes the extra due at the rates in force on the period's first day.
func (r *RecordAuditFinding) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "found_on", r.ev.FoundOn); err != nil {
		return nil, err
	}
	if err := carries(e, "insurance", r.ev.Insurance); err != nil {
		return nil, err
	}
	ev := r.ev
	if ev.ExtraWageBaseFen > 0 {
		bp, ok := ctx.Ref.Rate(ev.Insurance, e.Kind.Payer(), e.RiskClass, ev.Period.FirstDay())
		if !ok {
			return nil, Conflict("insurance", "no %s rate for %s payers is in force on %s", ev.Insurance, e.Kind.Payer(), ev.Period.FirstDay())
		}
		due, err := ApplyRate(ev.ExtraWageBaseFen, bp)
		if err != nil {
			return nil, Invalid("extra_wage_base_fen", "%v", err)
		}
		ev.RateBP, ev.DueFen = bp, due
	}
	return []Payload{ev}, nil
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
	return []Payload{ev}, nil
}

// RecordEnforcement records a step of the enforcement ladder.
type RecordEnforcement struct {
	Step     string `json:"step"`
	On       string `json:"on"`
	DocNo    string `json:"doc_no"`
	Deadline string `json:"deadline"`
	ev       EnforcementStepRecorded
}

// Check validates the fields; a notice needs a deadline.
func (r *RecordEnforcement) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.Step = c.oneOf("step", r.Step, EnforcementSteps...)
	r.ev.On = c.date("on", r.On, true)
	r.ev.DocNo = c.code("doc_no", r.DocNo, true, 100)
	if r.Deadline != "" {
		d, err := ParseDate(r.Deadline)
		if err != nil {
			c.fail(Invalid("deadline", "%v", err))
		} else if d < r.ev.On {
			c.fail(Invalid("deadline", "%s is before the step's date %s", d, r.ev.On))
		}
		r.ev.Deadline = d
	} else if r.ev.Step == StepNotice {
		c.fail(Invalid("deadline", "is required for a notice (限期改正 sets a deadline)"))
	}
	return c.err
}

// Date is the step's date.
func (r *RecordEnforcement) Date() Date { return r.ev.On }

// Decide requires a notice before any later step.
func (r *RecordEnforcement) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "on", r.ev.On); err != nil {
		return nil, err
	}
	if r.ev.Step != StepNotice {
		if e.NoticeOn == 0 {
			return nil, Conflict("step", "%s needs a notice to correct (限期改正) first; none is recorded", r.ev.Step)
		}
		if r.ev.On < e.NoticeOn {
			return nil, Conflict("on", "%s is before the notice of %s", r.ev.On, e.NoticeOn)
		}
	}
	return []Payload{r.ev}, nil
}

// RecordContracts records newly signed labour contracts.
type RecordContracts struct {
	SignedOn string `json:"signed_on"`
	Count    Number `json:"count"`
	ev       ContractsSigned
}

// Check validates the fields.
func (r *RecordContracts) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.SignedOn = c.date("signed_on", r.SignedOn, true)
	r.ev.Count = c.integer("count", r.Count, true, 1, MaxCount, "contracts")
	return c.err
}

// Date is the signing date.
func (r *RecordContracts) Date() Date { return r.ev.SignedOn }

// Decide records the contracts.
func (r *RecordContracts) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "signed_on", r.ev.SignedOn); err != nil {
		return nil, err
	}
	return []Payload{r.ev}, nil
}

// Transfer moves an employer to another county.
type Transfer struct {
	On     string `json:"on"`
	County string `json:"county"`
	date   Date
}

// Check validates the fields.
func (r *Transfer) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("on", r.On, true)
	if c.err == nil && r.County == "" {
		c.fail(Invalid("county", "is required (6-digit code)"))
	}
	if c.err == nil {
		if err := ctx.Ref.CheckCounty("county", r.County); err != nil {
			return err
		}
	}
	return c.err
}

// Date is the transfer date.
func (r *Transfer) Date() Date { return r.date }

// Decide refuses a transfer to the county the employer is in.
func (r *Transfer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "on", r.date); err != nil {
		return nil, err
	}
	if r.County == e.County {
		return nil, Conflict("county", "the employer is already in %s", r.County)
	}
	return []Payload{EmployerTransferred{On: r.date, From: e.County, To: r.County}}, nil
}

// Deregister removes an employer from the active population.
type Deregister struct {
	On     string `json:"on"`
	Reason string `json:"reason"`
	date   Date
}

// Check validates the fields.
func (r *Deregister) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("on", r.On, true)
	r.Reason = c.text("reason", r.Reason, true, 500)
	return c.err
}

// Date is the deregistration date.
func (r *Deregister) Date() Date { return r.date }

// Decide refuses deregistration while arrears or late fees remain.
func (r *Deregister) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "on", r.date); err != nil {
		return nil, err
	}
	st := e.Account.Statement(r.date, ctx.Ref.LateFees)
	t := st.Totals
	if arrears := t.ArrearsFen(); arrears > 0 || t.LateFeeFen > 0 {
		return nil, Conflict("on", "arrears of %d fen and late fees of %d fen remain on %s; they must be paid or lawfully waived first", arrears, t.LateFeeFen, r.date)
	}
	return []Payload{EmployerDeregistered{On: r.date, Reason: r.Reason}}, nil
}
