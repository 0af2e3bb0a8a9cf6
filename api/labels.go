package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// label is a code the domain defines and the dashboard's name for it, Chinese then English.
type label struct{ code, name string }

// labelTable becomes one constant of labels.js; its labels are in the order the page lists
// them (the insurance and flag-kind menus).
type labelTable struct {
	name   string
	labels []label
}

// dashboardLabels are the dashboard's names for the codes of the domain and the projections.
// The page imports them from /assets/labels.js, rendered from here, so that it cannot drift
// from the Go constants: TestDashboardLabelsCoverTheDomain fails when a code has no label or a
// label no code.
var dashboardLabels = []labelTable{
	{"INSURANCES", []label{
		{string(domain.Pension), "养老 pension"},
		{string(domain.Unemployment), "失业 unemployment"},
		{string(domain.Medical), "医疗 medical"},
		{string(domain.WorkInjury), "工伤 work injury"},
		{string(domain.Maternity), "生育 maternity"},
	}},
	{"FLAG_KINDS", []label{
		{projections.FlagArrearsWithoutEnforcement, "欠费未执法 arrears without enforcement"},
		{projections.FlagWaiverReview, "减免待复核 waiver review"},
		{projections.FlagBaseBelowFloor, "基数低于下限 base below floor"},
		{projections.FlagParkEmployerNotEnrolled, "园区单位未参保 park employer not enrolled"},
		{projections.FlagHighRiskWithoutWorkInjury, "高风险未参工伤 high risk, no work injury"},
		{projections.FlagWorkInjuryTarget, "工伤扩面对象未参保 work-injury target not enrolled"},
	}},
	{"MEASURES", []label{
		{domain.TargetPensionInsured, "养老参保 pension insured"},
		{domain.TargetPensionCollectedFen, "养老征缴 pension collected"},
		{domain.TargetUnemploymentInsured, "失业参保 unemployment insured"},
		{domain.TargetUnemploymentCollected, "失业征缴 unemployment collected"},
		{domain.TargetMedicalInsured, "医疗参保 medical insured"},
		{domain.TargetWorkInjuryInsured, "工伤参保 work injury insured"},
		{domain.TargetMaternityInsured, "生育参保 maternity insured"},
		{domain.TargetContractsSigned, "劳动合同 contracts signed"},
	}},
	{"STAGES", []label{
		{domain.StageNone, documents.StepName(domain.StageNone) + " none"},
		{domain.StepNotice, documents.StepName(domain.StepNotice) + " notice"},
		{domain.StepInspection, documents.StepName(domain.StepInspection) + " inspection"},
		{domain.StepMediaExposure, documents.StepName(domain.StepMediaExposure) + " media exposure"},
		{domain.StepForcedCollection, documents.StepName(domain.StepForcedCollection) + " forced collection"},
		{domain.StepCourtApplication, documents.StepName(domain.StepCourtApplication) + " court application"},
		{domain.StepCourtResult, documents.StepName(domain.StepCourtResult) + " court result"},
		{domain.StageClosed, documents.StepName(domain.StageClosed) + " closed"},
	}},
	// AUDITOR_VOIDS: the events only an auditor or an admin voids, "four eyes" those that move
	// money (never by whoever recorded them): the page offers no void the server refuses.
	{"AUDITOR_VOIDS", auditorVoids()},
	{"EVENT_TYPES", []label{
		{"employer.registered", "登记 registered"},
		{"employer.found", "摸底发现 found"},
		{"employer.registration_completed", "补登记 registration completed"},
		{"employer.changed", "变更 changed"},
		{"survey.counted", "摸底 survey"},
		{"enrollment.recorded", "参保 enrollment"},
		{"declaration.filed", "申报 declaration"},
		{"assessment.made", "核定 assessment"},
		{"opening_balance.recorded", "期初欠费 opening balance"},
		{"payment.received", "缴费 payment"},
		{"payment.reversed", "退票 payment reversed"},
		{"audit_finding.recorded", "稽核 audit finding"},
		{"inspection.recorded", "检查 inspection"},
		{"waiver.granted", "减免 waiver"},
		{"enforcement.step_recorded", "执法 enforcement"},
		{"contracts.signed", "劳动合同 contracts"},
		{"employer.transferred", "转移 transfer"},
		{"employer.deregistered", "注销 deregistered"},
		{"employer.reinstated", "复业 reinstated"},
		{"employer.org_code_corrected", "代码更正 org code corrected"},
		{"org_code.claimed", "代码占用 org code claimed"},
		{"event.voided", "冲正 voided"},
		{"credit.refunded", "退费 refunded"},
		{"reference.counties_defined", "区县设定 counties defined"},
		{"reference.county_redefined", "区划调整 county redefined"},
		{"reference.rates_set", "费率 rates set"},
		{"reference.late_fee_rates_set", "滞纳金率 late-fee rates set"},
		{"reference.settings_set", "参数 settings set"},
		{"reference.targets_set", "目标 targets set"},
		{"reference.average_wage_set", "社平工资 average wage set"},
		{"reference.baseline_set", "基期数据 baseline set"},
		{"freeze.made", "冻结 freeze made"},
		{"province.freeze.made", "全省冻结 province freeze made"},
		{"year.closed", "年度结转 year closed"},
		{"year.reopened", "年度重开 year reopened"},
	}},
	{"WAIVER_BASES", []label{
		{"bankruptcy", "破产 bankruptcy"},
		{"court_ruling", "法院裁定 court ruling"},
	}},
	{"FLAG_DETAILS_ZH", detailTable(flagDetails, 0)},
	{"FLAG_DETAILS_EN", detailTable(flagDetails, 1)},
	{"WORK_DETAILS_ZH", workDetails},
	{"KINDS", []label{
		{string(domain.KindEnterprise), "企业 enterprise"},
		{string(domain.KindInstitution), "事业单位 institution"},
		{string(domain.KindIndividualBusiness), "个体 individual business"},
		{string(domain.KindFlexible), "灵活就业 flexible"},
	}},
	// A payer's attributes (issue 18): the Chinese names are the domain's, the English are here.
	{"INDUSTRIES", domainLabels(domain.Industries, industriesEN)},
	{"SECTORS", []label{
		{domain.SectorCoal, "煤矿 coal mining"},
		{domain.SectorMining, "非煤矿山 other mining"},
		{domain.SectorConstruction, "建筑施工 construction"},
		{domain.SectorFurniture, "家具制造 furniture making"},
		{domain.SectorHighRisk, "其他高风险 other high risk"},
	}},
	{"OWNERSHIP_CODES", domainLabels(domain.OwnershipCodes, ownershipCodesEN)},
	{"INSPECTION_SCOPES", []label{
		{domain.ScopeRegistration, "登记参保 registration"},
		{domain.ScopeWageBase, "缴费基数 wage base"},
		{domain.ScopePayment, "缴费 payment"},
		{domain.ScopeFull, "全面 full"},
	}},
	{"INSPECTION_RESULTS", []label{
		{domain.InspectionClean, "未发现问题 nothing found"},
		{domain.InspectionFindings, "发现问题 findings"},
	}},
	// The plan's segments (issue 18), in the domain's order: the county table's and a freeze's
	// segment menus.
	{"SEGMENTS", segmentLabels()},
	// The codes of an error answer's "error": the domain's kinds, then the API's own. The desk
	// leads the server's (English) detail with the Chinese.
	{"ERRORS", []label{
		{domain.KindInvalid.String(), "输入有误 invalid"},
		{domain.KindNotFound.String(), "未找到 not found"},
		{domain.KindConflict.String(), "与账本现状冲突 conflict"},
		{domain.KindStale.String(), "数据已被他人更新 stale"},
		{domain.KindIdempotencyMismatch.String(), "同一幂等键的请求内容不同 idempotency key reused"},
		{domain.KindUnauthorized.String(), "未认证 unauthorized"},
		{domain.KindForbidden.String(), "无权操作 forbidden"},
		{domain.KindTooLarge.String(), "内容过大 too large"},
		{domain.KindUnavailable.String(), "暂时无法处理，请重试 unavailable"},
		{domain.KindUnsupportedMedia.String(), "不支持的格式 unsupported media type"},
		{domain.KindYearClosed.String(), "该年度已结转 year closed"},
		{errOutcomeUnknown, "结果未知，请以同一幂等键重试 outcome unknown"},
		{errMethodNotAllowed, "不支持的请求方法 method not allowed"},
		{errInternal, "服务器内部错误 internal error"},
	}},
	// The kinds of a worklist's items (projections.Worklist).
	{"WORK_KINDS", []label{
		{projections.WorkNoticePastDeadline, "催缴逾期 notice past its deadline"},
		{projections.WorkFindingPastDeadline, "稽核逾期未补报 finding past re-declaration"},
		{projections.WorkAssessmentCandidate, "当期未申报 no declaration for the due period"},
		{projections.WorkWorkInjuryTarget, "工伤扩面对象未参保 work-injury target not enrolled"},
		{projections.WorkFoundNotRegistered, "摸底未登记 found by the survey, not registered"},
		{projections.WorkClassMischarged, "风险类别已变更 declared at another risk class"},
	}},
}

// segmentNames name the segments of domain.Segments, Chinese then English.
var segmentNames = map[domain.Segment]string{
	domain.SegmentPark:         "工业园区 industrial parks",
	domain.SegmentNonPublic:    "非公有制 non-public",
	domain.SegmentIndividual:   "个体工商户 individual businesses",
	domain.SegmentFlexible:     "灵活就业 flexible workers",
	domain.SegmentHighRisk:     "高风险行业 high-risk sectors",
	domain.SegmentCoal:         "煤矿 coal mines",
	domain.SegmentMining:       "非煤矿山 other mines",
	domain.SegmentConstruction: "建筑施工 construction",
	domain.SegmentFurniture:    "家具制造 furniture makers",
	domain.SegmentInstitution:  "事业单位 institutions",
	domain.SegmentAgency:       "劳务派遣 labour agencies",
}

// segmentLabels is domain.Segments named by segmentNames, in the domain's order (a segment
// without a name gets an empty label, which the labels' test reports).
func segmentLabels() []label {
	out := make([]label, len(domain.Segments))
	for i, sg := range domain.Segments {
		out[i] = label{string(sg), segmentNames[sg]}
	}
	return out
}

// industriesEN names the sections of GB/T 4754-2002 (domain.Industries) in English.
var industriesEN = map[string]string{
	"A": "agriculture, forestry, animal husbandry and fishery", "B": "mining", "C": "manufacturing",
	"D": "electricity, gas and water supply", "E": "construction", "F": "transport, storage and post",
	"G": "information transmission, computer services and software", "H": "wholesale and retail trade",
	"I": "hotels and catering", "J": "finance", "K": "real estate", "L": "leasing and business services",
	"M": "scientific research, technical services and geological prospecting",
	"N": "water conservancy, environment and public facilities", "O": "household and other services",
	"P": "education", "Q": "health, social security and social welfare", "R": "culture, sports and entertainment",
	"S": "public administration and social organisations", "T": "international organisations",
}

// ownershipCodesEN names the economic types of GB/T 12402-2000 (domain.OwnershipCodes) in English.
var ownershipCodesEN = map[string]string{
	"110": "state-owned", "120": "collective", "130": "joint-stock cooperative", "140": "joint operation",
	"141": "state joint operation", "142": "collective joint operation", "143": "state and collective joint operation",
	"149": "other joint operation", "150": "limited liability company", "151": "wholly state-owned company",
	"159": "other limited liability company", "160": "company limited by shares", "170": "private",
	"171": "private sole proprietorship", "172": "private partnership", "173": "private limited liability company",
	"174": "private company limited by shares", "175": "individual business", "179": "other private",
	"190": "other domestic", "200": "Hong Kong, Macao and Taiwan investment",
	"210": "equity joint venture with Hong Kong, Macao or Taiwan", "220": "cooperative joint venture with Hong Kong, Macao or Taiwan",
	"230": "wholly Hong Kong, Macao or Taiwan owned", "240": "Hong Kong, Macao or Taiwan company limited by shares",
	"290": "other Hong Kong, Macao and Taiwan investment", "300": "foreign investment", "310": "Sino-foreign equity joint venture",
	"320": "Sino-foreign cooperative joint venture", "330": "wholly foreign-owned", "340": "foreign company limited by shares",
	"390": "other foreign investment",
}

// auditorVoids labels domain.AuditorVoids: "four eyes" or "inspectorate".
func auditorVoids() []label {
	var out []label
	for _, t := range domain.AuditorVoids() {
		why := "inspectorate"
		if domain.VoidNeedsFourEyes(t) {
			why = "four eyes"
		}
		out = append(out, label{t, why})
	}
	return out
}

// domainLabels is a table of the domain's codes in their order, each named by its Chinese from
// the domain and its English from en (a code en lacks keeps the Chinese alone, which the labels'
// test reports).
func domainLabels(zh, en map[string]string) []label {
	codes := slices.Sorted(maps.Keys(zh))
	out := make([]label, len(codes))
	for i, c := range codes {
		out[i] = label{c, strings.TrimSpace(zh[c] + " " + en[c])}
	}
	return out
}

// labelsJS renders dashboardLabels as an ES module: one frozen object per table, its keys in
// the table's order (a JavaScript object keeps the order its string keys were written in).
func labelsJS() []byte {
	var b bytes.Buffer
	b.WriteString("// Rendered by the server from api/labels.go: the dashboard's names for the domain's codes.\n")
	for _, t := range dashboardLabels {
		fmt.Fprintf(&b, "export const %s = Object.freeze({", t.name)
		for i, l := range t.labels {
			if i > 0 {
				b.WriteByte(',')
			}
			code, _ := json.Marshal(l.code)
			name, _ := json.Marshal(l.name)
			fmt.Fprintf(&b, "\n  %s: %s", code, name)
		}
		b.WriteString("\n});\n")
	}
	return b.Bytes()
}

// flagDetails word an employer's flag from its amount, date and facts (projections.FlagFacts),
// in Chinese and in English: the page fills them in (flags.js, money formatted by format.js)
// and so do the exports (flagDetail), so both say the same. A key is a flag kind, or a kind and
// the variant flagDetailKey names. Placeholders: {amount} and {accrued_fee} with their unit, in
// 万元 from one 万元 on and in 元 below it (24.44 元 in arrears read "0.00 万元"), two decimals;
// {wage_base} and {average_wage} in 元 (a month's wage in 万元 would read 0.15);
// {since}, {last_step}, {period} and {authority_doc} as they are; {grace_days} and {headcount}
// as integers; {insurance} and {basis} by their labels, in the sentence's language.
var flagDetails = []struct{ key, zh, en string }{
	{projections.FlagArrearsWithoutEnforcement,
		"欠费 {amount} 逾期超过 {grace_days} 天（最早 {since} 到期），未采取执法措施",
		"{amount} in arrears more than {grace_days} days past due (since {since}) with no enforcement step"},
	{projections.FlagArrearsWithoutEnforcement + ".after_step",
		"欠费 {amount} 逾期超过 {grace_days} 天（最早 {since} 到期），到期后未再执法（最近一次 {last_step}）",
		"{amount} in arrears more than {grace_days} days past due (since {since}) with no enforcement step since they fell due (the latest was on {last_step})"},
	{projections.FlagWaiverReview + "." + domain.WaiverPrincipal,
		"{since} 减免{insurance} {period} 本金 {amount}（{basis}，{authority_doc}）",
		"principal waiver of {amount} on {insurance} {period} ({basis}, {authority_doc}) on {since}"},
	{projections.FlagWaiverReview + "." + domain.WaiverLateFee,
		"{since} 减免{insurance} {period} 滞纳金 {amount}，超过应计 {accrued_fee} 的一半（{authority_doc}）",
		"late-fee waiver of {amount} is over half the {accrued_fee} accrued on {insurance} {period} ({authority_doc}) on {since}"},
	{projections.FlagWaiverReview + "." + domain.WaiverLateFee + ".in_all",
		"{since} 减免{insurance} {period} 滞纳金 {amount}，累计减免 {waived_in_all}，超过应计 {accrued_fee} 的一半（{authority_doc}）",
		"late-fee waiver of {amount} makes {waived_in_all} waived in all, over half the {accrued_fee} accrued on {insurance} {period} ({authority_doc}) on {since}"},
	{projections.FlagBaseBelowFloor,
		"{period} {insurance} 申报 {headcount} 人缴费基数 {wage_base} 元，人均低于社平工资 {average_wage} 元的 60%",
		"{period} {insurance} declares a base of {wage_base} yuan for a headcount of {headcount}, under 60% of the average wage {average_wage} yuan a head"},
	{projections.FlagParkEmployerNotEnrolled, "园区单位未参加养老保险", "industrial-park employer with no pension enrollment"},
	{projections.FlagHighRiskWithoutWorkInjury, "风险类别 3 的单位未参加工伤保险", "risk class 3 employer with no work-injury enrollment"},
	{projections.FlagWorkInjuryTarget, workInjuryZH, workInjuryEN},
}

// The wording of a payer of the plan's work-injury target not enrolled in it: a flag and a
// worklist's item alike.
const (
	workInjuryZH = "属煤矿、非煤矿山、建筑、家具制造或其他高风险行业（或风险类别 3），{since} 起未参加工伤保险"
	workInjuryEN = "in a sector the plan names for work injury (coal, mining, construction, furniture, other high-risk) or of risk class 3, with no work-injury enrollment since {since}"
)

// workDetails word a worklist's item in Chinese from its date and facts (projections.WorkFacts);
// the page shows the server's English detail beside it (worklist.js). A key is an item's kind,
// or a kind and its variant (worklist.js workKey: the finding's kind; "basis" when there is a
// due for the period before). Placeholders: {since} (the date the item counts from), {doc_no},
// {found_on}, {period} and {risk_class} as they are; {arrears} in 元; {insurance} by its label.
var workDetails = []label{
	{projections.WorkNoticePastDeadline, "通知书 {doc_no} 限期 {since} 已过，仍欠费 {arrears} 元：应转稽核检查"},
	{projections.WorkFindingPastDeadline + "." + domain.FindingUnderReportedBase, "{found_on} 稽核发现{insurance} {period} 少报缴费基数，{since} 前未补报"},
	{projections.WorkFindingPastDeadline + "." + domain.FindingMissedWorkers, "{found_on} 稽核发现{insurance} {period} 漏报人员，{since} 前未补报"},
	{projections.WorkAssessmentCandidate + ".basis", "{period} 未申报也未核定（缴费期限 {since}）：可按上期 110% 核定"},
	{projections.WorkAssessmentCandidate, "{period} 未申报也未核定（缴费期限 {since}），上期无应缴可作 110% 核定的依据：请催报申报，或直接核定各险种"},
	{projections.WorkWorkInjuryTarget, workInjuryZH},
	{projections.WorkFoundNotRegistered, "{found_on} 普查发现，30 日内（{since} 前）未办理社会保险登记"},
	{projections.WorkClassMischarged, "{period} 工伤保险按申报时的风险类别计征，{since} 风险类别为 {risk_class}：请重新申报 {period}"},
}

// detailTable is a table of wordings (flagDetails) in one language (0 Chinese, 1 English), as a
// labels.js table.
func detailTable(ds []struct{ key, zh, en string }, lang int) []label {
	out := make([]label, len(ds))
	for i, d := range ds {
		out[i] = label{d.key, [2]string{d.zh, d.en}[lang]}
	}
	return out
}

// flagDetailKey names the wording of f in flagDetails; flags.js chooses the same way.
func flagDetailKey(f projections.Flag) string {
	switch {
	case f.Kind == projections.FlagArrearsWithoutEnforcement && f.Facts != nil && f.Facts.LastStep != 0:
		return f.Kind + ".after_step"
	case f.Kind == projections.FlagWaiverReview && f.Facts != nil && f.Facts.WaivedInAllFen != 0:
		return f.Kind + "." + f.Facts.Waiver + ".in_all"
	case f.Kind == projections.FlagWaiverReview && f.Facts != nil:
		return f.Kind + "." + f.Facts.Waiver
	}
	return f.Kind
}

// labelOf is the label of code in the named table of dashboardLabels, or code when it has none.
func labelOf(table, code string) string {
	for _, t := range dashboardLabels {
		if t.name != table {
			continue
		}
		for _, l := range t.labels {
			if l.code == code {
				return l.name
			}
		}
	}
	return code
}

// labelPart is the Chinese (lang 0) or English (lang 1) part of a label: a label is the
// Chinese name, a space, then the English one.
func labelPart(label string, lang int) string {
	zh, en, ok := strings.Cut(label, " ")
	if !ok {
		return label
	}
	return [2]string{zh, en}[lang]
}

// flagDetail words f in Chinese then English, as the page does; a flag whose wording is not
// in flagDetails keeps the projection's detail.
func flagDetail(f projections.Flag) string {
	key := flagDetailKey(f)
	i := slices.IndexFunc(flagDetails, func(d struct{ key, zh, en string }) bool { return d.key == key })
	if i < 0 {
		return f.Detail
	}
	facts := projections.FlagFacts{}
	if f.Facts != nil {
		facts = *f.Facts
	}
	fill := func(tmpl string, lang int) string {
		return strings.NewReplacer(
			"{amount}", money(f.AmountFen, lang), "{accrued_fee}", money(facts.AccruedFeeFen, lang),
			"{waived_in_all}", money(facts.WaivedInAllFen, lang),
			"{wage_base}", yuan(facts.WageBaseFen), "{average_wage}", yuan(facts.AverageWageFen),
			"{since}", f.Since.String(), "{last_step}", facts.LastStep.String(), "{period}", facts.Period.String(),
			"{authority_doc}", facts.AuthorityDoc, "{grace_days}", strconv.Itoa(facts.GraceDays),
			"{headcount}", strconv.FormatInt(facts.Headcount, 10),
			"{insurance}", labelPart(labelOf("INSURANCES", string(facts.Insurance)), lang),
			"{basis}", labelPart(labelOf("WAIVER_BASES", facts.Basis), lang),
		).Replace(tmpl)
	}
	return fill(flagDetails[i].zh, 0) + " " + fill(flagDetails[i].en, 1)
}

// wan formats fen in 万元 with two decimals and grouped thousands, rounded half away from
// zero, in integer arithmetic: format.js's fmtWan.
func wan(f domain.Fen) string {
	sign, u := "", uint64(f)
	if f < 0 {
		u = -u
	}
	h := (u + 5000) / 10000 // hundredths of 万元
	if f < 0 && h > 0 {
		sign = "-" // no "-0.00"
	}
	return sign + groupThousands(strconv.FormatUint(h/100, 10)) + fmt.Sprintf(".%02d", h%100)
}

// money formats fen with its unit in language lang (0 Chinese, 1 English): in 万元 from one 万元
// on, in 元 below it, where 万元 with two decimals would read 0.00 or hardly more: format.js's
// fmtMoney.
func money(f domain.Fen, lang int) string {
	if f < 1_000_000 && f > -1_000_000 {
		return yuan(f) + [2]string{" 元", " yuan"}[lang]
	}
	return wan(f) + [2]string{" 万元", " ×10k yuan"}[lang]
}

// yuan formats fen in 元 with two decimals and grouped thousands: format.js's fmtYuan.
func yuan(f domain.Fen) string {
	sign, u := "", uint64(f)
	if f < 0 {
		sign, u = "-", -u
	}
	return sign + groupThousands(strconv.FormatUint(u/100, 10)) + fmt.Sprintf(".%02d", u%100)
}

// groupThousands puts a comma between each three digits of a run of digits, from the right.
func groupThousands(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
