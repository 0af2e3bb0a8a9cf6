package importer

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	"ownership_code":     {"ownership_code", "经济类型代码", "经济类型编码", "登记注册类型代码"},
	"industry":           {"industry", "行业", "行业门类", "所属行业", "国民经济行业分类"},
	"sector":             {"sector", "重点行业", "重点行业类别"},
	"risk_class":         {"risk_class", "行业风险类别", "风险类别", "工伤风险类别"},
	"in_industrial_park": {"in_industrial_park", "是否工业园区", "工业园区", "是否园区企业"},
	"park":               {"park", "园区", "所在园区", "园区名称", "工业园区名称"},
	"agency":             {"agency", "劳务派遣", "劳务派遣单位", "劳务代理"},
	"registered_on":      {"registered_on", "登记日期", "社会保险登记日期"},
	"certificate_no":     {"certificate_no", "登记证号", "社会保险登记证号"},
	"found_on":           {"found_on", "摸底日期", "发现日期"},
	"as_of":              {"as_of", "调查日期", "摸底调查日期"},
	"workforce":          {"workforce", "应参保人数", "职工人数"},
	"migrants":           {"migrants", "农民工", "农民工人数", "其中农民工"},
	"retirees":           {"retirees", "退休人员", "退休人数", "退休人员数"},
	"insurance":          {"insurance", "险种"},
	"headcount":          {"headcount", "参保人数", "人数"},
	"effective_on":       {"effective_on", "参保日期", "生效日期"},
	"declared_on":        {"declared_on", "申报日期"},
	"period":             {"period", "所属期", "费款所属期", "期间"},
	"wage_base_fen":      {"wage_base_fen", "缴费基数(分)", "缴费工资基数(分)", "缴费基数", "wage_base_yuan", "缴费基数(元)", "缴费工资基数(元)"},
	"paid_on":            {"paid_on", "缴费日期", "到账日期"},
	"amount_fen":         {"amount_fen", "金额(分)", "缴费金额(分)", "缴费金额", "amount_yuan", "金额(元)", "缴费金额(元)"},
	"receipt_no":         {"receipt_no", "票据号", "收据号", "凭证号"},
	"signed_on":          {"signed_on", "签订日期"},
	"count":              {"count", "签订份数", "新签劳动合同数", "合同数"},
}

// inYuan are the column names of amounts in yuan (元), read to the fen; every other name of an
// amount's field is in fen.
var inYuan = map[string]bool{normalize("wage_base_yuan"): true, normalize("缴费基数(元)"): true, normalize("缴费工资基数(元)"): true,
	normalize("amount_yuan"): true, normalize("金额(元)"): true, normalize("缴费金额(元)"): true}

// unitless are the column names of amounts that do not say their unit: a 2006 spreadsheet's
// 缴费基数 is as likely in yuan as in fen, and read as fen a base typed in yuan is recorded a
// hundred times too small. They tell a file's kind, and a file that uses one is refused.
var unitless = map[string]bool{normalize("缴费基数"): true, normalize("缴费金额"): true}

// takenFields lists the fields of cols that kind reads, in the order of their columns.
func takenFields(cols map[string]int, kind string) []string {
	var fields []string
	for field := range cols {
		if takes(kind, field) {
			fields = append(fields, field)
		}
	}
	slices.SortFunc(fields, func(a, b string) int { return cols[a] - cols[b] })
	return fields
}

// unitOf refuses a column of header that gives a field of kind without saying its unit (the
// first such column).
func unitOf(header []string, cols map[string]int, kind string) error {
	for _, field := range takenFields(cols, kind) {
		c := cols[field]
		if h := header[c]; unitless[normalize(h)] {
			name := strings.TrimSpace(h)
			return fmt.Errorf("column %d (%q) does not say its unit: call it %s(分) if it holds fen, or %s(元) if it holds yuan (to the fen: 1234.50); nothing was imported", c+1, echo(h), name, name)
		}
	}
	return nil
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

// reads lists, per kind, the fields its rows are read from besides the employer's reference
// (org_code, credit_code or employer_id) and its name, which every kind may carry.
var reads = map[string][]string{
	KindRegistrations: {"county", "kind", "risk_class", "registered_on", "certificate_no", "found_on", "ownership", "ownership_code",
		"industry", "sector", "in_industrial_park", "park", "agency"},
	KindSurveys:      {"as_of", "workforce", "migrants"},
	KindEnrollments:  {"insurance", "headcount", "effective_on", "migrants", "retirees"},
	KindDeclarations: {"declared_on", "period", "insurance", "headcount", "wage_base_fen"},
	KindPayments:     {"paid_on", "amount_fen", "receipt_no"},
	KindContracts:    {"signed_on", "count"},
}

// takes reports whether rows of kind are read from field.
func takes(kind, field string) bool {
	switch field {
	case "org_code", "credit_code", "employer_id", "name":
		return true
	}
	return slices.Contains(reads[kind], field)
}

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

// columns maps a header to field → column index; unknown columns are ignored. Two columns for
// one field (the same name twice, or its Chinese and English names) are refused: which one
// the ledger should take is the file's author's to say, not a guess.
func columns(header []string) (map[string]int, error) {
	cols := map[string]int{}
	for i, h := range header {
		if f, ok := columnsByName[normalize(h)]; ok {
			if j, dup := cols[f]; dup {
				return nil, fmt.Errorf("columns %d (%q) and %d (%q) both give %s: keep one of them", j+1, echo(header[j]), i+1, echo(h), f)
			}
			cols[f] = i
		}
	}
	return cols, nil
}

// ignored lists the header's columns that give no field a file of kind takes (the first 16,
// each shortened; empty headings are not named).
func ignored(header []string, kind string) []string {
	var out []string
	for _, h := range header {
		f, known := columnsByName[normalize(h)]
		if strings.TrimSpace(h) == "" || (known && takes(kind, f)) {
			continue
		}
		if len(out) == 16 {
			break
		}
		out = append(out, echo(h))
	}
	return out
}

// headerSpelling folds the spellings of one column name together (normalize); made once, as a
// Replacer is costly to build.
var headerSpelling = strings.NewReplacer(" ", "", "_", "", "（", "(", "）", ")")

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	return headerSpelling.Replace(s)
}

// Detect names the kind of a file from its header: the kind whose required columns are all
// present, preferring the one that uses most columns.
func Detect(header []string) (string, error) {
	cols, err := columns(header)
	if err != nil {
		return "", err
	}
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

// countyCode accepts a county by its code or its name as the plan writes it, or a successor by the
// code or name a redefinition gave it; NFKC applied, so full-width digits are the code.
func countyCode(ref *domain.Reference, v string) string {
	v = domain.NormalizeText(v)
	for _, c := range ref.Counties {
		if c.Code == v || c.Name == v || strings.EqualFold(c.NameEN, v) {
			return c.Code
		}
	}
	// A successor's name (南康区), as the ledger's counties name it after the change.
	for _, x := range ref.Redefinitions {
		if x.Code == v || x.Name == v || (x.NameEN != "" && strings.EqualFold(x.NameEN, v)) {
			return x.Code
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

// yesNo reads a yes/no cell (an empty one is no); ok is false for a value that is neither.
func yesNo(v string) (yes, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "y", "是", "√", "✓":
		return true, true
	case "", "0", "false", "no", "n", "否", "×", "✗":
		return false, true
	}
	return false, false
}

// sectorNames reads the plan's named sectors as clerks write them (the plan itself writes 家俱).
var sectorNames = map[string]string{
	"煤矿": domain.SectorCoal, "煤炭": domain.SectorCoal, "煤矿企业": domain.SectorCoal,
	"非煤矿山": domain.SectorMining, "矿山": domain.SectorMining, "采矿": domain.SectorMining,
	"建筑": domain.SectorConstruction, "建筑施工": domain.SectorConstruction, "建筑业": domain.SectorConstruction,
	"家具": domain.SectorFurniture, "家俱": domain.SectorFurniture, "家具制造": domain.SectorFurniture, "家俱制造": domain.SectorFurniture,
	"高风险": domain.SectorHighRisk, "其他高风险": domain.SectorHighRisk, "危险化学品": domain.SectorHighRisk, "烟花爆竹": domain.SectorHighRisk,
	"无": "", "否": "",
}

// industrySection reads an industry as a section of GB/T 4754-2002: its letter, the letter and
// the section's name ("C 制造业"), the name alone, or a code within the section ("C2110", the
// class's name after it or not). Anything else is returned as written, for validation to judge
// and name.
func industrySection(v string) string {
	v = strings.TrimSpace(v)
	for letter, name := range domain.Industries {
		if v == name {
			return letter
		}
	}
	if v == "" || v[0] >= utf8.RuneSelf || !unicode.IsLetter(rune(v[0])) {
		return v
	}
	letter, rest := strings.ToUpper(v[:1]), strings.TrimSpace(v[1:])
	if _, ok := domain.Industries[letter]; !ok {
		return v
	}
	if rest == "" || rest[0] >= '0' && rest[0] <= '9' || rest == domain.Industries[letter] {
		return letter
	}
	return v
}

// ownershipShort are the economic types 2006 forms commonly wrote for a GB/T 12402-2000 code.
var ownershipShort = map[string]string{"国有": "110", "集体": "120", "私营": "170", "个体": "175", "港澳台": "200", "外商投资": "300"}

// ownershipName compares names of economic types whatever their brackets and spaces.
func ownershipName(s string) string {
	return strings.NewReplacer(" ", "", "\u3000", "", "（", "", "）", "", "(", "", ")", "").Replace(strings.TrimSpace(s))
}

// ownershipCode reads an economic type (经济类型) as a code of GB/T 12402-2000: the code ("173"),
// the code and its name ("173 私营有限责任（公司）"), the name (brackets optional) or a common short
// name (国有, 集体, 私营, 个体, 港澳台, 外商投资). isCode is false for other text. A code unknown to the
// standard is returned as written, for validation to refuse; a code beside another type's name is
// refused here.
func ownershipCode(v string) (code string, isCode bool, err error) {
	v = strings.TrimSpace(v)
	if n := len(v) - len(strings.TrimLeft(v, "0123456789")); n > 0 {
		code, rest := v[:n], strings.TrimSpace(v[n:])
		if name, ok := domain.OwnershipCodes[code]; ok && rest != "" && ownershipName(rest) != ownershipName(name) {
			return "", true, domain.Invalid("ownership_code", "%s is %s in GB/T 12402-2000, not %q", code, name, domain.Clip(rest, 32))
		}
		return code, true, nil
	}
	if c, ok := ownershipShort[v]; ok {
		return c, true, nil
	}
	for c, name := range domain.OwnershipCodes {
		if ownershipName(v) == ownershipName(name) {
			return c, true, nil
		}
	}
	return "", false, nil
}
