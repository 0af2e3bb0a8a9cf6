package domain

// DefaultCounties are the 19 county-level units of the 2006 plan, with GB/T 2260 codes as of
// December 2006. The development zone has no GB/T 2260 code; 360771 is the ledger's local code.
var DefaultCounties = []County{
	{Code: "360702", Name: "章贡区", NameEN: "Zhanggong", Group: 1},
	{Code: "360771", Name: "赣州经济技术开发区", NameEN: "Ganzhou Economic and Technological Development Zone", Group: 1, LocalCode: true},
	{Code: "360721", Name: "赣县", NameEN: "Gan County", Group: 1},
	{Code: "360724", Name: "上犹县", NameEN: "Shangyou", Group: 1},
	{Code: "360782", Name: "南康市", NameEN: "Nankang", Group: 2},
	{Code: "360723", Name: "大余县", NameEN: "Dayu", Group: 2},
	{Code: "360725", Name: "崇义县", NameEN: "Chongyi", Group: 2},
	{Code: "360722", Name: "信丰县", NameEN: "Xinfeng", Group: 3},
	{Code: "360726", Name: "安远县", NameEN: "Anyuan", Group: 3},
	{Code: "360734", Name: "寻乌县", NameEN: "Xunwu", Group: 3},
	{Code: "360727", Name: "龙南县", NameEN: "Longnan", Group: 4},
	{Code: "360729", Name: "全南县", NameEN: "Quannan", Group: 4},
	{Code: "360728", Name: "定南县", NameEN: "Dingnan", Group: 4},
	{Code: "360731", Name: "于都县", NameEN: "Yudu", Group: 5},
	{Code: "360732", Name: "兴国县", NameEN: "Xingguo", Group: 5},
	{Code: "360730", Name: "宁都县", NameEN: "Ningdu", Group: 5},
	{Code: "360733", Name: "会昌县", NameEN: "Huichang", Group: 6},
	{Code: "360781", Name: "瑞金市", NameEN: "Ruijin", Group: 6},
	{Code: "360735", Name: "石城县", NameEN: "Shicheng", Group: 6},
}

// DefaultGroups are the six supervision groups of the plan's 督查组挂点联系安排表.
var DefaultGroups = []Group{
	{N: 1, Lead: "人民银行赣州市分行", Counties: []string{"360702", "360771", "360721", "360724"}},
	{N: 2, Lead: "市地税局", Counties: []string{"360782", "360723", "360725"}},
	{N: 3, Lead: "市安全生产监督局", Counties: []string{"360722", "360726", "360734"}},
	{N: 4, Lead: "市审计局", Counties: []string{"360727", "360729", "360728"}},
	{N: 5, Lead: "市劳动和社会保障局", Counties: []string{"360731", "360732", "360730"}},
	{N: 6, Lead: "市总工会", Counties: []string{"360733", "360781", "360735"}},
}

// DefaultRates are the national default rates in force in 2006 (employer + employee), as data.
// Individual payers (个体工商户, 灵活就业人员) pay pension at 20% and medical at 8% themselves.
var DefaultRates = RateTable{
	EffectiveFrom: MustDate("1999-01-22"),
	Lines: []RateLine{
		{Insurance: Pension, Payer: PayerUnit, EmployerBP: 2000, EmployeeBP: 800},
		{Insurance: Unemployment, Payer: PayerUnit, EmployerBP: 200, EmployeeBP: 100},
		{Insurance: Medical, Payer: PayerUnit, EmployerBP: 600, EmployeeBP: 200},
		{Insurance: WorkInjury, Payer: PayerUnit, RiskClass: 1, EmployerBP: 50},
		{Insurance: WorkInjury, Payer: PayerUnit, RiskClass: 2, EmployerBP: 100},
		{Insurance: WorkInjury, Payer: PayerUnit, RiskClass: 3, EmployerBP: 200},
		{Insurance: Maternity, Payer: PayerUnit, EmployerBP: 70},
		{Insurance: Pension, Payer: PayerIndividual, EmployeeBP: 2000},
		{Insurance: Medical, Payer: PayerIndividual, EmployeeBP: 800},
	},
}

// DefaultLateFees is the late-fee schedule: 2‰ a day under the 1999 regulations, 0.5‰ a day from
// 2011-07-01 under article 86 of the Social Insurance Law.
var DefaultLateFees = []LateFeeRate{
	{EffectiveFrom: MustDate("1999-01-22"), DailyBP: 20, Basis: "社会保险费征缴暂行条例 (1999) 第十三条"},
	{EffectiveFrom: MustDate("2011-07-01"), DailyBP: 5, Basis: "社会保险法 第八十六条"},
}

// DefaultSettings: contributions are due on the 15th of the following month; arrears 90 days past
// due with no enforcement step are flagged.
var DefaultSettings = Settings{EffectiveFrom: MustDate("1999-01-22"), DueDay: 15, EnforcementGraceDays: 90}

// DefaultTargets are the city-wide 2006 targets of section 二(二) of the plan.
var DefaultTargets = Targets{
	EffectiveFrom: MustDate("2006-04-18"),
	Year:          2006,
	City: map[string]int64{
		TargetPensionInsured:        275000,
		TargetPensionCollectedFen:   432000000 * 100,
		TargetUnemploymentInsured:   307000,
		TargetUnemploymentCollected: 41700000 * 100,
		TargetMedicalInsured:        380000,
		TargetWorkInjuryInsured:     180000,
		TargetMaternityInsured:      110000,
		TargetContractsSigned:       242000,
	},
}

// DefaultAverageWage is an assumed 2005 Ganzhou average monthly wage of 1,000 yuan; the plan gives
// none, so operators should record the published figure as a new version.
var DefaultAverageWage = AverageWage{EffectiveFrom: MustDate("2006-01-01"), MonthlyFen: 100000, Source: "assumed; replace with the published 2005 figure"}

// DefaultReferenceEvents are the reference-data events written at the ledger's first start.
func DefaultReferenceEvents() []Payload {
	return []Payload{
		CountiesDefined{Counties: DefaultCounties, Groups: DefaultGroups},
		RatesSet{Table: DefaultRates},
		LateFeeRatesSet{Rate: DefaultLateFees[0]},
		LateFeeRatesSet{Rate: DefaultLateFees[1]},
		SettingsSet{Settings: DefaultSettings},
		TargetsSet{Targets: DefaultTargets},
		AverageWageSet{Wage: DefaultAverageWage},
	}
}
