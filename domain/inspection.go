package domain

// Inspection scopes: what an inspection (稽核/检查) looked at.
const (
	ScopeRegistration = "registration" // registration and enrollment of every worker
	ScopeWageBase     = "wage_base"    // the wage base declared
	ScopePayment      = "payment"      // payment of what was declared
	ScopeFull         = "full"         // all of it
)

// Inspection results: nothing found, or findings (each recorded as an audit finding).
const (
	InspectionClean    = "clean"
	InspectionFindings = "findings"
)

// RecordInspection records an inspection of the payer, whether or not it found anything (三(三)、
// (四): supervisors and cross-county audit teams in the parks), so that audit coverage can be
// counted.
type RecordInspection struct {
	On     string `json:"on"`
	Team   string `json:"team"`
	Scope  string `json:"scope"`
	Result string `json:"result"`
	Note   string `json:"note"`
	ev     InspectionRecorded
}

// Check validates the fields.
func (r *RecordInspection) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.On = c.date("on", r.On, true)
	r.ev.Team = c.text("team", r.Team, true, 100)
	r.ev.Scope = c.oneOf("scope", r.Scope, ScopeRegistration, ScopeWageBase, ScopePayment, ScopeFull)
	r.ev.Result = c.oneOf("result", r.Result, InspectionClean, InspectionFindings)
	r.ev.Note = c.text("note", r.Note, false, 500)
	return c.err
}

// Date is the day of the inspection.
func (r *RecordInspection) Date() Date { return r.ev.On }

// Decide records the inspection of a payer in the ledger on that day.
func (r *RecordInspection) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "on", r.ev.On); err != nil {
		return nil, err
	}
	return []Payload{r.ev}, nil
}
