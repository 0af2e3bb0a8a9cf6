package domain

import (
	"slices"
	"strings"
)

// Industries are the sections of GB/T 4754-2002 (国民经济行业分类), the classification of the plan's
// time, by letter.
var Industries = map[string]string{
	"A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、燃气及水的生产和供应业", "E": "建筑业",
	"F": "交通运输、仓储和邮政业", "G": "信息传输、计算机服务和软件业", "H": "批发和零售业", "I": "住宿和餐饮业",
	"J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究、技术服务和地质勘查业",
	"N": "水利、环境和公共设施管理业", "O": "居民服务和其他服务业", "P": "教育", "Q": "卫生、社会保障和社会福利业",
	"R": "文化、体育和娱乐业", "S": "公共管理和社会组织", "T": "国际组织",
}

// The sectors the plan names for work-injury insurance (一(一): 煤矿、建筑、家具制造和高风险企业
// this year), each within its industry section.
const (
	SectorCoal         = "coal"         // 煤矿 (B)
	SectorMining       = "mining"       // 非煤矿山 (B)
	SectorConstruction = "construction" // 建筑施工 (E)
	SectorFurniture    = "furniture"    // 家具制造 (C)
	SectorHighRisk     = "high_risk"    // 其他高风险：危险化学品、烟花爆竹等
)

// Sectors lists the plan's named sectors; sectorIndustry the section each lies in ("" any).
var (
	Sectors        = []string{SectorCoal, SectorMining, SectorConstruction, SectorFurniture, SectorHighRisk}
	sectorIndustry = map[string]string{SectorCoal: "B", SectorMining: "B", SectorConstruction: "E", SectorFurniture: "C", SectorHighRisk: ""}
)

// OwnershipCodes are the economic types of GB/T 12402-2000 (经济类型分类与代码) a payer may be
// registered with.
var OwnershipCodes = map[string]string{
	"110": "国有全资", "120": "集体全资", "130": "股份合作", "140": "联营", "141": "国有联营", "142": "集体联营",
	"143": "国有与集体联营", "149": "其他联营", "150": "有限责任（公司）", "151": "国有独资（公司）", "159": "其他有限责任（公司）",
	"160": "股份有限（公司）", "170": "私有", "171": "私有独资", "172": "私有合伙", "173": "私营有限责任（公司）",
	"174": "私营股份有限（公司）", "175": "个体经营", "179": "其他私有", "190": "其他内资",
	"200": "港澳台投资", "210": "内地和港澳台合资", "220": "内地和港澳台合作", "230": "港澳台独资", "240": "港澳台投资股份有限（公司）",
	"290": "其他港澳台投资", "300": "国外投资", "310": "中外合资", "320": "中外合作", "330": "外资", "340": "国外投资股份有限（公司）",
	"390": "其他国外投资",
}

// Ownership classes a code falls in: public (国有、集体 and their joint ventures), non-public
// (private, Hong Kong, Macao and Taiwan, foreign: 非公有制), or mixed (shareholding and other
// domestic forms the code does not place).
const (
	OwnershipPublic    = "public"
	OwnershipNonPublic = "non_public"
	OwnershipMixed     = "mixed"
)

// OwnershipClass places a GB/T 12402 code: "" for no code.
func OwnershipClass(code string) string {
	switch {
	case code == "":
		return ""
	case slices.Contains([]string{"110", "120", "141", "142", "143", "151"}, code):
		return OwnershipPublic
	case strings.HasPrefix(code, "17"), strings.HasPrefix(code, "2"), strings.HasPrefix(code, "3"):
		return OwnershipNonPublic
	default:
		return OwnershipMixed
	}
}

// Segment names a group of payers the plan sets a target for (一(一)): the figures of a county can
// be read for one segment alone.
type Segment string

// The segments.
const (
	SegmentPark         Segment = "park"         // employers in an industrial park
	SegmentNonPublic    Segment = "non_public"   // non-public economy, individual businesses included
	SegmentIndividual   Segment = "individual"   // individual businesses (个体工商户)
	SegmentFlexible     Segment = "flexible"     // flexible workers (灵活就业人员)
	SegmentHighRisk     Segment = "high_risk"    // the plan's named sectors, or risk class 3
	SegmentCoal         Segment = "coal"         // coal mines
	SegmentMining       Segment = "mining"       // mines other than coal (非煤矿山)
	SegmentConstruction Segment = "construction" // construction
	SegmentFurniture    Segment = "furniture"    // furniture makers
	SegmentInstitution  Segment = "institution"  // institutions (事业单位)
	SegmentAgency       Segment = "agency"       // labour agencies placing workers (劳务派遣、代理)
)

// Segments lists every segment, in the order the plan names them.
var Segments = []Segment{SegmentPark, SegmentNonPublic, SegmentIndividual, SegmentFlexible, SegmentHighRisk,
	SegmentCoal, SegmentMining, SegmentConstruction, SegmentFurniture, SegmentInstitution, SegmentAgency}

// ParseSegment reads a segment's name.
func ParseSegment(field, s string) (Segment, error) {
	if slices.Contains(Segments, Segment(s)) {
		return Segment(s), nil
	}
	names := make([]string, len(Segments))
	for i, sg := range Segments {
		names[i] = string(sg)
	}
	return "", Invalid(field, "unknown segment %q: want one of %s", Clip(s, 32), strings.Join(names, ", "))
}

// HighRisk reports whether the payer is in a sector the plan names for work injury, or of the
// highest risk class.
func (p *Profile) HighRisk() bool { return p.Sector != "" || p.RiskClass == 3 }

// In reports whether the payer, as registered now, belongs to segment s.
func (p *Profile) In(s Segment) bool {
	switch s {
	case SegmentPark:
		return p.InIndustrialPark
	case SegmentNonPublic:
		return p.Kind == KindIndividualBusiness || OwnershipClass(p.OwnershipCode) == OwnershipNonPublic
	case SegmentIndividual:
		return p.Kind == KindIndividualBusiness
	case SegmentFlexible:
		return p.Kind == KindFlexible
	case SegmentHighRisk:
		return p.HighRisk()
	case SegmentCoal:
		return p.Sector == SectorCoal
	case SegmentMining:
		return p.Sector == SectorMining
	case SegmentConstruction:
		return p.Sector == SectorConstruction
	case SegmentFurniture:
		return p.Sector == SectorFurniture
	case SegmentInstitution:
		return p.Kind == KindInstitution
	case SegmentAgency:
		return p.Agency
	}
	return false
}

// attributes are the registration facts beyond name, kind and risk class, as a registration or a
// change gives them: checked together, since a sector lies in one industry section and a payer
// in a park is an industrial-park employer.
type attributes struct {
	Industry      *string `json:"industry"`
	Sector        *string `json:"sector"`
	OwnershipCode *string `json:"ownership_code"`
	Park          *string `json:"park"`
	Agency        *bool   `json:"agency"`
}

// check validates the attributes given against the profile they change (its current values for
// those not given), applies them to it, and returns them as applied (nil where not given).
func (a attributes) check(c *checker, p *Profile) attributes {
	out := attributes{Agency: a.Agency}
	if a.Industry != nil {
		p.Industry, out.Industry = strings.ToUpper(strings.TrimSpace(*a.Industry)), &p.Industry
		if _, ok := Industries[p.Industry]; !ok && p.Industry != "" {
			c.fail(Invalid("industry", "%q is not a section of GB/T 4754-2002 (A–T)", Clip(*a.Industry, 32)))
		}
	}
	if a.Sector != nil {
		p.Sector, out.Sector = c.oneOf("sector", *a.Sector, append([]string{""}, Sectors...)...), &p.Sector
	}
	if a.OwnershipCode != nil {
		p.OwnershipCode, out.OwnershipCode = strings.TrimSpace(*a.OwnershipCode), &p.OwnershipCode
		if _, ok := OwnershipCodes[p.OwnershipCode]; !ok && p.OwnershipCode != "" {
			c.fail(Invalid("ownership_code", "%q is not an economic type of GB/T 12402-2000 (e.g. 110 国有全资, 173 私营有限责任)", Clip(*a.OwnershipCode, 32)))
		}
	}
	if a.Park != nil {
		p.Park, out.Park = c.text("park", *a.Park, false, 100), &p.Park
	}
	if a.Agency != nil {
		p.Agency = *a.Agency
	}
	if c.err != nil {
		return out
	}
	if want := sectorIndustry[p.Sector]; want != "" && p.Industry != "" && p.Industry != want {
		c.fail(Invalid("sector", "%s lies in industry section %s (%s), not %s", p.Sector, want, Industries[want], p.Industry))
	}
	if p.Park != "" && !p.InIndustrialPark {
		c.fail(Invalid("in_industrial_park", "is false for a payer registered in park %q", p.Park))
	}
	return out
}
