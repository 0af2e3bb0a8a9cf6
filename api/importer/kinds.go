package importer

import (
	"fmt"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// Kinds of file.
const (
	KindRegistrations = "registrations"
	KindSurveys       = "surveys"
	KindEnrollments   = "enrollments"
	KindDeclarations  = "declarations"
	KindPayments      = "payments"
	KindContracts     = "contracts"
)

// Kinds lists the kinds in the order detection tries them.
var Kinds = []string{KindRegistrations, KindDeclarations, KindPayments, KindEnrollments, KindContracts, KindSurveys}

// aliases maps each field to the column names it is known by (Chinese and English).
var aliases = map[string][]string{
	"name":               {"name", "单位名称", "名称", "单位", "缴费单位"},
	"org_code":           {"org_code", "组织机构代码", "机构代码", "organisation code", "organization code"},
	"credit_code":        {"credit_code", "统一社会信用代码", "信用代码"},
	"employer_id":        {"employer_id", "单位编号", "employer"},
	"county":             {"county", "所属区县", "区县", "县(市、区)", "county code"},
	"kind":               {"kind", "单位类型", "类型", "payer kind"},
	"ownership":          {"ownership", "经济类型", "所有制"},
	"risk_class":         {"risk_class", "行业风险类别", "风险类别", "工伤风险类别"},
	"in_industrial_park": {"in_industrial_park", "是否工业园区", "工业园区", "园区"},
	"registered_on":      {"registered_on", "登记日期", "社会保险登记日期"},
	"certificate_no":     {"certificate_no", "登记证号", "社会保险登记证号"},
	"found_on":           {"found_on", "摸底日期", "发现日期"},
	"as_of":              {"as_of", "调查日期", "摸底调查日期"},
	"workforce":          {"workforce", "应参保人数", "职工人数"},
	"insurance":          {"insurance", "险种"},
	"headcount":          {"headcount", "参保人数", "人数"},
	"effective_on":       {"effective_on", "参保日期", "生效日期"},
	"declared_on":        {"declared_on", "申报日期"},
	"period":             {"period", "所属期", "费款所属期", "期间"},
	"wage_base_fen":      {"wage_base_fen", "缴费基数(分)", "缴费基数（分）", "缴费工资基数(分)", "缴费基数"},
	"paid_on":            {"paid_on", "缴费日期", "到账日期"},
	"amount_fen":         {"amount_fen", "金额(分)", "金额（分）", "缴费金额(分)", "缴费金额"},
	"receipt_no":         {"receipt_no", "票据号", "收据号", "凭证号"},
	"signed_on":          {"signed_on", "签订日期"},
	"count":              {"count", "签订份数", "新签劳动合同数", "合同数"},
}

// required lists, per kind, the fields a file must have (an employer reference, org_code or
// employer_id, is required besides for every kind but registrations).
var required = map[string][]string{
	KindRegistrations: {"name", "county", "kind", "risk_class"},
	KindSurveys:       {"as_of", "workforce"},
	KindEnrollments:   {"insurance", "headcount", "effective_on"},
	KindDeclarations:  {"declared_on", "period", "insurance", "headcount", "wage_base_fen"},
	KindPayments:      {"paid_on", "amount_fen", "receipt_no"},
	KindContracts:     {"signed_on", "count"},
}

var insuranceNames = map[string]string{"养老": "pension", "养老保险": "pension", "失业": "unemployment", "失业保险": "unemployment",
	"医疗": "medical", "医疗保险": "medical", "工伤": "work_injury", "工伤保险": "work_injury", "生育": "maternity", "生育保险": "maternity"}

var kindNames = map[string]string{"企业": "enterprise", "事业单位": "institution", "机关事业单位": "institution", "个体工商户": "individual_business",
	"个体": "individual_business", "灵活就业人员": "flexible", "灵活就业": "flexible"}

// columnsByName maps every normalised alias to its field.
var columnsByName = func() map[string]string {
	m := map[string]string{}
	for field, names := range aliases {
		for _, n := range names {
			m[normalize(n)] = field
		}
	}
	return m
}()

// columns maps a header to field → column index; unknown columns are ignored.
func columns(header []string) map[string]int {
	cols := map[string]int{}
	for i, h := range header {
		if f, ok := columnsByName[normalize(h)]; ok {
			if _, dup := cols[f]; !dup {
				cols[f] = i
			}
		}
	}
	return cols
}

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	return strings.NewReplacer(" ", "", "_", "", "（", "(", "）", ")").Replace(s)
}

// Detect names the kind of a file from its header: the kind whose required columns are all
// present, preferring the one that uses most columns.
func Detect(header []string) (string, error) {
	cols := columns(header)
	best, bestN := "", -1
	for _, k := range Kinds {
		ok := true
		for _, f := range required[k] {
			if _, has := cols[f]; !has {
				ok = false
			}
		}
		if ok && len(required[k]) > bestN {
			best, bestN = k, len(required[k])
		}
	}
	if best == "" {
		return "", fmt.Errorf("cannot tell the kind of file from its columns %s: give --kind (%s)", echoHeader(header), strings.Join(Kinds, ", "))
	}
	return best, nil
}

// countyCode accepts a county by its code or its name as the plan writes it.
func countyCode(ref *domain.Reference, v string) string {
	v = strings.TrimSpace(v)
	for _, c := range ref.Counties {
		if c.Code == v || c.Name == v || strings.EqualFold(c.NameEN, v) {
			return c.Code
		}
	}
	return v
}

func canonical(table map[string]string, v string) string {
	v = strings.TrimSpace(v)
	if c, ok := table[v]; ok {
		return c
	}
	return strings.ToLower(v)
}

func boolean(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "y", "是", "√":
		return true
	}
	return false
}
