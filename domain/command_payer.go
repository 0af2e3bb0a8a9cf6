package domain

// RegisterEmployer enters an employer in the ledger, registered or found unregistered by the survey.
type RegisterEmployer struct {
	Name             string `json:"name"`
	County           string `json:"county"`
	OrgCode          string `json:"org_code"`
	CreditCode       string `json:"credit_code"`
	Kind             string `json:"kind"`
	Ownership        string `json:"ownership"`
	RiskClass        Number `json:"risk_class"`
	InIndustrialPark *bool  `json:"in_industrial_park"`
	RegisteredOn     string `json:"registered_on"`
	CertificateNo    string `json:"certificate_no"`
	FoundOn          string `json:"found_on"`
	attributes

	profile Profile
	date    Date
}

// Check validates the fields and normalises the identifiers.
func (r *RegisterEmployer) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	p := Profile{InIndustrialPark: r.InIndustrialPark != nil && *r.InIndustrialPark}
	p.Name = c.text("name", r.Name, true, 200)
	r.County = NormalizeCode(r.County) // a code typed in full-width digits is the code
	p.County = r.County
	if c.err == nil && r.County == "" {
		c.fail(Invalid("county", "is required (6-digit code)"))
	}
	if c.err == nil {
		if err := ctx.Ref.CheckCounty("county", r.County); err != nil {
			c.fail(err)
		}
	}
	p.Kind = EmployerKind(c.oneOf("kind", r.Kind, EmployerKinds...))
	p.Ownership = c.text("ownership", r.Ownership, false, 50)
	p.RiskClass = int(c.integer("risk_class", r.RiskClass, true, 1, 3, "risk classes (1–3)"))
	if r.Park != nil && *r.Park != "" && r.InIndustrialPark == nil {
		p.InIndustrialPark = true // a payer registered in a named park is in a park; false is refused
	}
	r.attributes.check(c, &p)
	if c.err != nil {
		return c.err
	}
	var err error
	if p.OrgCode, p.CreditCode, err = readCodes(r.OrgCode, r.CreditCode); err != nil {
		return err
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

// Code is the organisation code the employer registers with, once Check passed ("" for an
// individual payer).
func (r *RegisterEmployer) Code() string { return r.profile.OrgCode }

// Decide refuses a second employer with the same organisation code.
func (r *RegisterEmployer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if e.HeldBy != "" {
		return nil, Conflict("org_code", "organisation code %s is held by the employer whose code was corrected to it (a clerk of its county finds it by the code)", r.profile.OrgCode)
	}
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
	attributes
	date  Date
	event EmployerChanged
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
	// The attributes given, checked alone here and against the payer's others in Decide.
	var p Profile
	if r.InIndustrialPark != nil {
		p.InIndustrialPark = *r.InIndustrialPark
	} else if r.Park != nil && *r.Park != "" {
		p.InIndustrialPark = true // joining a named park puts the payer in a park
	}
	a := r.attributes.check(c, &p)
	ev.Industry, ev.Sector, ev.OwnershipCode, ev.Park, ev.Agency = a.Industry, a.Sector, a.OwnershipCode, a.Park, a.Agency
	if r.Park != nil && p.Park != "" && r.InIndustrialPark == nil {
		ev.InIndustrialPark = &p.InIndustrialPark
	}
	if c.err == nil && ev == (EmployerChanged{On: r.date}) {
		c.fail(Invalid("name", "no change given: set at least one of name, risk_class, ownership, in_industrial_park, industry, sector, ownership_code, park, agency"))
	}
	r.event = ev
	return c.err
}

// Date is the day of the change.
func (r *ChangeEmployer) Date() Date { return r.date }

// Decide records the change, once the payer's attributes after it agree with each other.
func (r *ChangeEmployer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "on", r.date); err != nil {
		return nil, err
	}
	after := e.Profile
	if r.event.InIndustrialPark != nil {
		after.InIndustrialPark = *r.event.InIndustrialPark
	}
	c := &checker{ctx: ctx}
	a := attributes{Industry: r.event.Industry, Sector: r.event.Sector, OwnershipCode: r.event.OwnershipCode, Park: r.event.Park, Agency: r.event.Agency}
	a.check(c, &after)
	if c.err != nil {
		return nil, c.err
	}
	return []Payload{r.event}, nil
}

// RecordSurvey records the survey's count of persons who should be insured.
type RecordSurvey struct {
	AsOf      string `json:"as_of"`
	Workforce Number `json:"workforce"`
	// Migrants is how many of the workforce are migrant workers (农民工); optional.
	Migrants  Number `json:"migrants"`
	date      Date
	workforce int64
	migrants  int64
}

// Check validates the fields: migrant workers are part of the workforce.
func (r *RecordSurvey) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("as_of", r.AsOf, true)
	r.workforce = c.integer("workforce", r.Workforce, true, 0, MaxCount, "persons")
	r.migrants = c.integer("migrants", r.Migrants, false, 0, MaxCount, "persons")
	if c.err == nil && r.migrants > r.workforce {
		c.fail(Invalid("migrants", "%d migrant workers is more than the workforce of %d", r.migrants, r.workforce))
	}
	return c.err
}

// Date is the survey date.
func (r *RecordSurvey) Date() Date { return r.date }

// Decide records the count.
func (r *RecordSurvey) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "as_of", r.date); err != nil {
		return nil, err
	}
	return []Payload{SurveyCounted{AsOf: r.date, Workforce: r.workforce, Migrants: r.migrants}}, nil
}

// RecordEnrollment records the insured headcount of one insurance.
type RecordEnrollment struct {
	Insurance   string `json:"insurance"`
	Headcount   Number `json:"headcount"`
	EffectiveOn string `json:"effective_on"`
	// Migrants is how many of the headcount are migrant workers; Retirees, for medical insurance
	// only, the retirees insured besides. Both optional.
	Migrants Number `json:"migrants"`
	Retirees Number `json:"retirees"`
	ev       EnrollmentRecorded
}

// Check validates the fields: migrant workers are part of the headcount; retirees are counted
// for medical insurance alone.
func (r *RecordEnrollment) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.Insurance = c.insurance("insurance", r.Insurance)
	r.ev.Headcount = c.integer("headcount", r.Headcount, true, 0, MaxCount, "persons")
	r.ev.EffectiveOn = c.date("effective_on", r.EffectiveOn, true)
	r.ev.Migrants = c.integer("migrants", r.Migrants, false, 0, MaxCount, "persons")
	r.ev.Retirees = c.integer("retirees", r.Retirees, false, 0, MaxCount, "persons")
	switch {
	case c.err != nil:
	case r.ev.Migrants > r.ev.Headcount:
		c.fail(Invalid("migrants", "%d migrant workers is more than the headcount of %d", r.ev.Migrants, r.ev.Headcount))
	case r.ev.Retirees > 0 && r.ev.Insurance.canonical() != Medical:
		c.fail(Invalid("retirees", "retirees are counted for medical insurance only, not %s", r.ev.Insurance))
	}
	return c.err
}

// Date is the effective date.
func (r *RecordEnrollment) Date() Date { return r.ev.EffectiveOn }

// Decide records the enrollment of a day the employer was a payer, whenever it comes.
func (r *RecordEnrollment) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := payerOn(e, "effective_on", r.ev.EffectiveOn); err != nil {
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
	r.County = NormalizeCode(r.County)
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

// Decide refuses a transfer to the county the employer is in, and one dated before its latest.
func (r *Transfer) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := active(e); err != nil {
		return nil, err
	}
	if err := notBefore(e, "on", r.date); err != nil {
		return nil, err
	}
	if r.date < e.MovedOn {
		return nil, Conflict("on", "%s is before the employer's latest transfer, on %s: a transfer is dated on or after it (to correct that one, void it)", r.date, e.MovedOn)
	}
	if r.County == e.County {
		return nil, Conflict("county", "the employer is already in %s", r.County)
	}
	return []Payload{EmployerTransferred{On: r.date, From: e.County, To: r.County}}, nil
}

// Reinstate makes a deregistered employer a payer again (复业).
type Reinstate struct {
	ReinstatedOn string `json:"reinstated_on"`
	Reason       string `json:"reason"`
	date         Date
}

// Check validates the fields.
func (r *Reinstate) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.date = c.date("reinstated_on", r.ReinstatedOn, true)
	r.Reason = c.text("reason", r.Reason, true, 500)
	return c.err
}

// Date is the reinstatement date.
func (r *Reinstate) Date() Date { return r.date }

// Decide refuses an employer that is not deregistered, or a date before its deregistration.
func (r *Reinstate) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if !e.Deregistered {
		return nil, Conflict("reinstated_on", "the employer is not deregistered: only a deregistered payer is reinstated")
	}
	if r.date < e.DeregisteredOn {
		return nil, Conflict("reinstated_on", "%s is before the deregistration of %s", r.date, e.DeregisteredOn)
	}
	return []Payload{EmployerReinstated{On: r.date, Reason: r.Reason}}, nil
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
