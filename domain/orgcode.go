package domain

import (
	"strconv"

	"github.com/google/uuid"
)

// An organisation code is held by one employer at a time. An employer's id is derived from the
// code it entered with (EmployerIDForOrgCode), so that a second registration of the code
// collides in the stream. A code corrected away leaves that id to the payer that keeps it; the
// code's owner then registers under the code's next slot. A code an employer is corrected to is
// claimed by an OrgCodeClaimed event, the first of its free slot's subject, appended with the
// correction: the stream keeps the two from colliding as it keeps registrations.

// OrgCodeSlot is the employer id of the k-th slot (k from 1) of an organisation code: the first
// is EmployerIDForOrgCode's. A slot is free while its subject is empty; it holds the code while
// the employer there (or the one its claim names) has the code; else the code moved on to the
// next slot.
func OrgCodeSlot(orgCode string, k int) string {
	if k <= 1 {
		return EmployerIDForOrgCode(orgCode)
	}
	return uuid.NewSHA1(ledgerNamespace, []byte(orgCode+"#"+strconv.Itoa(k))).String()
}

// readCodes reads an organisation code and a unified social credit code as typed (either may
// be ""): the organisation code, given or the one inside the credit code, and the credit code,
// normalised; an error names the field at fault, and a code that is not the one inside the
// credit code.
func readCodes(orgCode, creditCode string) (org, credit string, err error) {
	if creditCode != "" {
		if credit, err = ReadCreditCode(creditCode); err != nil {
			return "", "", Invalid("credit_code", "%v", err)
		}
		org = OrgCodeOfCreditCode(credit)
	}
	if orgCode != "" {
		oc, err := ReadOrgCode(orgCode)
		if err != nil {
			return "", "", Invalid("org_code", "%v", err)
		}
		if org != "" && org != oc {
			return "", "", Invalid("org_code", "%s is not the organisation code inside credit code %s (%s)", oc, credit, org)
		}
		org = oc
	}
	return org, credit, nil
}

// OrgCodeCorrected: the organisation code (and credit code) the employer was entered with was
// wrong; it is OrgCode from the start. Was and WasCredit are the codes it replaces.
type OrgCodeCorrected struct {
	On         Date   `json:"on"`
	OrgCode    string `json:"org_code"`
	CreditCode string `json:"credit_code,omitempty"`
	Was        string `json:"was"`
	WasCredit  string `json:"was_credit_code,omitempty"`
	Reason     string `json:"reason"`
}

// OrgCodeClaimed is the one event of a slot's subject (OrgCodeSlot) that no employer entered:
// the code is the one By (named Name) was corrected to.
type OrgCodeClaimed struct {
	OrgCode string `json:"org_code"`
	By      string `json:"by"`
	Name    string `json:"name"`
}

// EventType implementations.
func (OrgCodeCorrected) EventType() string { return "employer.org_code_corrected" }

func (OrgCodeClaimed) EventType() string { return "org_code.claimed" }

// CorrectOrgCode corrects the organisation code (or unified social credit code) a payer was
// entered with. The code must be free: no other employer holds it.
type CorrectOrgCode struct {
	OrgCode     string `json:"org_code"`
	CreditCode  string `json:"credit_code"`
	CorrectedOn string `json:"corrected_on"`
	Reason      string `json:"reason"`

	orgCode, creditCode string
	date                Date
}

// Check validates the fields and normalises the codes.
func (r *CorrectOrgCode) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("corrected_on", r.CorrectedOn, true)
	r.Reason = c.text("reason", r.Reason, true, 500)
	if c.err != nil {
		return c.err
	}
	var err error
	if r.orgCode, r.creditCode, err = readCodes(r.OrgCode, r.CreditCode); err != nil {
		return err
	}
	if r.orgCode == "" {
		return Invalid("org_code", "is required: the corrected organisation code (or give credit_code)")
	}
	return nil
}

// Date is the day the correction was made.
func (r *CorrectOrgCode) Date() Date { return r.date }

// ClaimedCode is the organisation code the payer is corrected to, once Check passed.
func (r *CorrectOrgCode) ClaimedCode() string { return r.orgCode }

// Decide refuses a payer with no organisation code, a correction that changes nothing, and a
// credit code left holding the old organisation code. That the code is free is the store's to
// check: it is a fact about other employers.
func (r *CorrectOrgCode) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if e.Kind.Individual() {
		return nil, Conflict("org_code", "individual payers (%s) have no organisation code", e.Kind)
	}
	if err := notBefore(e, "corrected_on", r.date); err != nil {
		return nil, err
	}
	credit := r.creditCode
	if credit == "" && r.orgCode == e.OrgCode {
		credit = e.CreditCode // only the credit code can be meant, and none is given
	}
	switch {
	case r.orgCode == e.OrgCode && credit == e.CreditCode:
		return nil, Conflict("org_code", "%s is already the payer's organisation code: nothing to correct", r.orgCode)
	case credit == "" && e.CreditCode != "":
		return nil, Invalid("credit_code", "the payer's credit code %s holds the organisation code being corrected: give the corrected credit_code too", e.CreditCode)
	}
	return []Payload{OrgCodeCorrected{On: r.date, OrgCode: r.orgCode, CreditCode: credit, Was: e.OrgCode, WasCredit: e.CreditCode, Reason: r.Reason}}, nil
}
