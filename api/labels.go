package api

import (
	"bytes"
	"encoding/json"
	"fmt"

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
		{domain.StageNone, "无 none"},
		{domain.StepNotice, "催缴通知 notice"},
		{domain.StepInspection, "稽查 inspection"},
		{domain.StepMediaExposure, "媒体曝光 media exposure"},
		{domain.StepForcedCollection, "强制征缴 forced collection"},
		{domain.StepCourtApplication, "申请法院 court application"},
		{domain.StepCourtResult, "法院裁决 court result"},
		{domain.StageClosed, "已结清 closed"},
	}},
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
		{"waiver.granted", "减免 waiver"},
		{"enforcement.step_recorded", "执法 enforcement"},
		{"contracts.signed", "劳动合同 contracts"},
		{"employer.transferred", "转移 transfer"},
		{"employer.deregistered", "注销 deregistered"},
		{"employer.reinstated", "复业 reinstated"},
		{"event.voided", "冲正 voided"},
		{"credit.refunded", "退费 refunded"},
		{"reference.counties_defined", "区县设定 counties defined"},
		{"reference.county_redefined", "区划调整 county redefined"},
		{"reference.rates_set", "费率 rates set"},
		{"reference.late_fee_rates_set", "滞纳金率 late-fee rates set"},
		{"reference.settings_set", "参数 settings set"},
		{"reference.targets_set", "目标 targets set"},
		{"reference.average_wage_set", "社平工资 average wage set"},
		{"freeze.made", "冻结 freeze made"},
		{"year.closed", "年度结转 year closed"},
		{"year.reopened", "年度重开 year reopened"},
	}},
	{"KINDS", []label{
		{string(domain.KindEnterprise), "企业 enterprise"},
		{string(domain.KindInstitution), "事业单位 institution"},
		{string(domain.KindIndividualBusiness), "个体 individual business"},
		{string(domain.KindFlexible), "灵活就业 flexible"},
	}},
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
