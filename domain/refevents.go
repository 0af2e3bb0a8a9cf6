package domain

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

func (CountiesDefined) EventType() string { return "reference.counties_defined" }

func (RatesSet) EventType() string { return "reference.rates_set" }

func (LateFeeRatesSet) EventType() string { return "reference.late_fee_rates_set" }

func (SettingsSet) EventType() string { return "reference.settings_set" }

func (TargetsSet) EventType() string { return "reference.targets_set" }

func (AverageWageSet) EventType() string { return "reference.average_wage_set" }

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
	case BaselineSet:
		return "baselines"
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
	case BaselineSet:
		r.Baselines = append(r.Baselines, e.Baseline)
	case CountyRedefined:
		r.applyRedefinition(e)
	case YearClosed:
		r.applyYear(YearStatus{Year: e.Year, Closed: true, FreezeID: e.FreezeID, Digest: e.Digest})
	case YearReopened:
		r.applyYear(YearStatus{Year: e.Year, ReopenReason: e.Reason})
	}
}
