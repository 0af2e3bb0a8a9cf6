package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// county is what makes one county's ledger differ from another's. The figures are invented but
// shaped on the 2006 plan: the city core and the development zone are large and disciplined,
// small mountain counties are small and collect worse.
type county struct {
	code  string
	name  string // as the plan names it, used as a name prefix
	short string // in enterprise names, e.g. 信丰
	abbr  string // in document numbers, e.g. 信 in 信劳社字
	// weight is the county's relative share of payers.
	weight float64
	// grade is payment discipline, 0 best to 1 worst: it drives late, partial and missing payments.
	grade float64
	// vigor is the chance that an employer with arrears over 60 days gets a notice at a monthly check.
	vigor float64
	size  float64 // multiplier of unit sizes
	wage  float64 // multiplier of wages
	inst  float64 // multiplier of the institution share
	indiv float64 // multiplier of the individual-payer share
	park  float64 // multiplier of the industrial-park chance
	tilt  map[string]float64
}

// counties lists the 19 county-level units; 360771 is the ledger's local code for the zone.
var counties = []county{
	{code: "360702", name: "章贡区", short: "章贡", abbr: "章", weight: 18, grade: 0.05, vigor: 0.9, size: 1.2, wage: 1.12, inst: 1.6, indiv: 0.9, park: 0.6,
		tilt: map[string]float64{"trade": 2, "service": 2, "estate": 2, "it": 2.5, "culture": 2, "mining": 0.2, "electronics": 1.5, "pharma": 1.5}},
	{code: "360771", name: "赣州经济技术开发区", short: "赣州", abbr: "赣开", weight: 6, grade: 0, vigor: 0.85, size: 1.8, wage: 1.15, inst: 0.3, indiv: 0.5, park: 3,
		tilt: map[string]float64{"electronics": 4, "machinery": 4, "pharma": 4, "food": 2, "mining": 0.1, "construction": 0.5, "materials": 1.5}},
	{code: "360782", name: "南康市", short: "南康", abbr: "康", weight: 13, grade: 0.6, vigor: 0.5, size: 0.9, wage: 0.95, inst: 0.8, indiv: 1.2, park: 1.2,
		tilt: map[string]float64{"furniture": 6, "textile": 1.5, "mining": 0.3}},
	{code: "360721", name: "赣县", short: "赣县", abbr: "赣县", weight: 5, grade: 0.35, vigor: 0.7, size: 1, wage: 0.97, inst: 1, indiv: 1, park: 1,
		tilt: map[string]float64{"materials": 2, "mining": 1.5}},
	{code: "360722", name: "信丰县", short: "信丰", abbr: "信", weight: 6, grade: 0.25, vigor: 0.8, size: 1, wage: 0.97, inst: 1, indiv: 1, park: 1,
		tilt: map[string]float64{"food": 3, "electronics": 1.5}},
	{code: "360723", name: "大余县", short: "大余", abbr: "余", weight: 3.5, grade: 0.45, vigor: 0.6, size: 1.1, wage: 0.95, inst: 1, indiv: 1, park: 0.8,
		tilt: map[string]float64{"mining": 5}},
	{code: "360724", name: "上犹县", short: "上犹", abbr: "犹", weight: 2.5, grade: 0.55, vigor: 0.5, size: 0.8, wage: 0.9, inst: 1, indiv: 1.1, park: 0.8,
		tilt: map[string]float64{"materials": 1.5, "food": 1.5}},
	{code: "360725", name: "崇义县", short: "崇义", abbr: "崇", weight: 2.5, grade: 0.35, vigor: 0.7, size: 0.9, wage: 0.92, inst: 1, indiv: 1, park: 0.8,
		tilt: map[string]float64{"mining": 4, "furniture": 1.5}},
	{code: "360726", name: "安远县", short: "安远", abbr: "安", weight: 3, grade: 0.9, vigor: 0.45, size: 0.75, wage: 0.88, inst: 1, indiv: 1.2, park: 0.7,
		tilt: map[string]float64{"food": 3, "mining": 2}},
	{code: "360727", name: "龙南县", short: "龙南", abbr: "龙", weight: 4, grade: 0.2, vigor: 0.85, size: 1.1, wage: 0.98, inst: 1, indiv: 1, park: 1.3,
		tilt: map[string]float64{"mining": 3, "electronics": 1.5}},
	{code: "360728", name: "定南县", short: "定南", abbr: "定", weight: 2.5, grade: 0.4, vigor: 0.6, size: 0.9, wage: 0.93, inst: 1, indiv: 1, park: 1,
		tilt: map[string]float64{"mining": 3}},
	{code: "360729", name: "全南县", short: "全南", abbr: "全", weight: 1.8, grade: 0.7, vigor: 0.55, size: 0.8, wage: 0.9, inst: 1, indiv: 1.1, park: 0.8,
		tilt: map[string]float64{"mining": 4}},
	{code: "360730", name: "宁都县", short: "宁都", abbr: "宁", weight: 5, grade: 0.8, vigor: 0.5, size: 0.8, wage: 0.88, inst: 1.1, indiv: 1.2, park: 0.7,
		tilt: map[string]float64{"food": 2, "construction": 1.5}},
	{code: "360731", name: "于都县", short: "于都", abbr: "于", weight: 6, grade: 0.6, vigor: 0.65, size: 0.9, wage: 0.9, inst: 1, indiv: 1.2, park: 0.9,
		tilt: map[string]float64{"mining": 2, "textile": 2}},
	{code: "360732", name: "兴国县", short: "兴国", abbr: "兴", weight: 5, grade: 0.5, vigor: 0.7, size: 0.85, wage: 0.9, inst: 1.1, indiv: 1.1, park: 0.8,
		tilt: map[string]float64{"mining": 1.5, "materials": 1.5}},
	{code: "360733", name: "会昌县", short: "会昌", abbr: "会", weight: 3.5, grade: 1, vigor: 0.4, size: 0.8, wage: 0.88, inst: 1, indiv: 1.2, park: 0.7,
		tilt: map[string]float64{"materials": 2, "mining": 1.5}},
	{code: "360734", name: "寻乌县", short: "寻乌", abbr: "寻", weight: 2, grade: 0.95, vigor: 0.5, size: 0.75, wage: 0.88, inst: 1, indiv: 1.2, park: 0.7,
		tilt: map[string]float64{"food": 3, "mining": 3}},
	{code: "360735", name: "石城县", short: "石城", abbr: "石", weight: 1.7, grade: 0.7, vigor: 0.6, size: 0.75, wage: 0.88, inst: 1, indiv: 1.2, park: 0.7,
		tilt: map[string]float64{"mining": 1.5, "food": 1.5}},
	{code: "360781", name: "瑞金市", short: "瑞金", abbr: "瑞", weight: 5, grade: 0.3, vigor: 0.75, size: 0.95, wage: 0.95, inst: 1.2, indiv: 1, park: 1,
		tilt: map[string]float64{"service": 1.5, "food": 1.5}},
}

// sector is an enterprise's line of business: it sets the work-injury risk class, the usual size
// and wage, and how likely the firm sits in an industrial park.
type sector struct {
	key    string
	words  []string
	risk   int
	weight float64
	median float64 // median headcount before scaling
	wageLo int     // yuan per head and month
	wageHi int
	park   float64
	state  float64 // chance of state ownership (国有)
	// section is the sector's section of GB/T 4754-2002; named the plan's sector it is in, if any.
	section, named string
}

var sectors = []sector{
	{key: "trade", words: []string{"商贸", "贸易", "百货", "超市"}, risk: 1, weight: 0.12, median: 6, wageLo: 800, wageHi: 1500, park: 0.02, state: 0.05, section: "H"},
	{key: "service", words: []string{"酒店", "餐饮", "物业管理", "旅行社", "保安服务"}, risk: 1, weight: 0.08, median: 10, wageLo: 800, wageHi: 1400, park: 0.02, state: 0.05, section: "I"},
	{key: "estate", words: []string{"房地产开发", "置业"}, risk: 1, weight: 0.04, median: 12, wageLo: 1100, wageHi: 2500, park: 0.02, state: 0.05, section: "K"},
	{key: "it", words: []string{"信息技术", "网络科技", "通信工程"}, risk: 1, weight: 0.03, median: 8, wageLo: 1200, wageHi: 2500, park: 0.1, state: 0.1, section: "G"},
	{key: "culture", words: []string{"文化传播", "广告", "印务"}, risk: 1, weight: 0.03, median: 6, wageLo: 900, wageHi: 1800, park: 0.05, state: 0.1, section: "R"},
	{key: "furniture", words: []string{"家具", "家私", "木业"}, risk: 2, weight: 0.10, median: 14, wageLo: 850, wageHi: 1600, park: 0.3, state: 0.01, section: "C", named: domain.SectorFurniture},
	{key: "food", words: []string{"食品", "果业", "酒业", "茶业"}, risk: 2, weight: 0.07, median: 15, wageLo: 800, wageHi: 1400, park: 0.25, state: 0.05, section: "C"},
	{key: "textile", words: []string{"纺织", "服装", "制衣", "针织"}, risk: 2, weight: 0.08, median: 40, wageLo: 800, wageHi: 1300, park: 0.33, state: 0.03, section: "C"},
	{key: "electronics", words: []string{"电子", "电器", "光电"}, risk: 2, weight: 0.06, median: 50, wageLo: 900, wageHi: 1800, park: 0.42, state: 0.03, section: "C"},
	{key: "machinery", words: []string{"机械", "汽车配件", "机电"}, risk: 2, weight: 0.05, median: 30, wageLo: 900, wageHi: 1900, park: 0.38, state: 0.1, section: "C"},
	{key: "transport", words: []string{"运输", "物流", "客运"}, risk: 2, weight: 0.06, median: 20, wageLo: 900, wageHi: 1700, park: 0.05, state: 0.15, section: "F"},
	{key: "pharma", words: []string{"制药", "药业", "生物科技"}, risk: 2, weight: 0.03, median: 40, wageLo: 1000, wageHi: 2200, park: 0.42, state: 0.1, section: "C"},
	{key: "mining", words: []string{"钨业", "稀土", "矿业", "有色金属"}, risk: 3, weight: 0.07, median: 45, wageLo: 1000, wageHi: 2300, park: 0.05, state: 0.35, section: "B", named: domain.SectorMining},
	{key: "construction", words: []string{"建筑工程", "建设", "路桥工程"}, risk: 3, weight: 0.07, median: 30, wageLo: 900, wageHi: 1800, park: 0.02, state: 0.15, section: "E", named: domain.SectorConstruction},
	{key: "materials", words: []string{"化工", "水泥", "建材", "陶瓷"}, risk: 3, weight: 0.05, median: 35, wageLo: 900, wageHi: 1700, park: 0.33, state: 0.15, section: "C"},
}

var (
	surnames = []rune("刘陈李黄王张钟曾谢赖罗肖温郭杨朱邱何廖吴胡邓彭宋叶蔡徐周赵孙")
	given    = []rune("建国华明平春秀英红军林文强伟芳玲海东福生金荣桂兰勇辉志光德新小丽清远宏斌峰萍霞燕")
	brands   = []rune("华鑫宏兴达恒金盛源隆富康泰瑞丰安昌荣佳嘉新永赣虔通顺联天宇博正诚信和润汇中东南龙江山长远利发祥")
	towns    = []string{"城关", "东山", "西江", "南塘", "北岭", "龙口", "梅林", "长岗", "高田", "石门", "新田", "大塘", "黄坑",
		"桃江", "樟溪", "坪山", "古城", "沙地", "杨村", "江口", "车头", "青塘", "大田", "小溪", "龙岭"}
	shops = []string{"小吃店", "五金店", "服装店", "建材经营部", "摩托车修理部", "粮油店", "理发店", "家具店", "百货店", "餐馆",
		"农资店", "电器维修部", "副食品店", "茶馆", "药店", "货运部"}
	institutions = []string{"第一中学", "第二中学", "第三中学", "实验小学", "人民医院", "中医院", "妇幼保健院", "疾病预防控制中心",
		"卫生监督所", "职业中专", "农业技术推广中心", "林业工作站", "水利工程管理站", "广播电视台", "图书馆", "文化馆", "会计核算中心"}
	townInstitutions = []string{"镇中心小学", "镇卫生院", "乡中心学校", "乡卫生院", "镇农业技术服务站"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func personName(r *rand.Rand) string {
	var b strings.Builder
	b.WriteRune(pick(r, surnames))
	b.WriteRune(pick(r, given))
	if r.IntN(10) < 7 {
		b.WriteRune(pick(r, given))
	}
	return b.String()
}

// unitName names an enterprise or institution the way 2006 registrations read.
func unitName(r *rand.Rand, c *county, kind domain.EmployerKind, sec *sector, ownership string) string {
	if kind == domain.KindInstitution {
		prefix := c.name
		if c.code == "360702" && r.IntN(10) < 6 {
			prefix = "赣州市" // city-level institutions sit in the city core
		}
		if r.IntN(10) < 3 {
			return prefix + pick(r, towns) + pick(r, townInstitutions)
		}
		return prefix + pick(r, institutions)
	}
	brand := string([]rune{pick(r, brands), pick(r, brands)})
	word := pick(r, sec.words)
	place := c.short
	if r.IntN(10) < 4 {
		place = "赣州"
	}
	switch ownership {
	case "外资", "港澳台":
		return brand + "（" + place + "）" + word + "有限公司"
	case "国有":
		if r.IntN(2) == 0 {
			return place + "市" + word + "总公司"
		}
		return place + brand + word + "公司"
	case "集体":
		return place + brand + word + "厂"
	case "股份制":
		return place + brand + word + "股份有限公司"
	}
	return place + brand + word + "有限公司"
}

// payerName names an individual payer: a shop for an individual business, a person for a
// flexible worker.
func payerName(r *rand.Rand, c *county, kind domain.EmployerKind) string {
	if kind == domain.KindFlexible {
		return personName(r)
	}
	if r.IntN(2) == 0 {
		return c.name + string(pick(r, surnames)) + "记" + pick(r, shops)
	}
	return c.name + personName(r) + pick(r, shops)
}

// docNo formats a county document number of a year, such as 信劳社字〔2006〕45号.
func docNo(c *county, kind string, year, n int) string {
	return fmt.Sprintf("%s%s〔%d〕%d号", c.abbr, kind, year, n)
}

var (
	lateFeeReasons = []string{
		"因银行划款延误造成逾期，经核实减免滞纳金",
		"企业改制期间经营困难，经批准减免滞纳金",
		"受自然灾害影响生产经营困难，经批准减免滞纳金",
		"主动补缴欠费，经批准减免部分滞纳金",
	}
	bounceReasons = []string{"银行退票：付款账户余额不足", "银行退票：付款账户已冻结", "银行退票：收款信息有误"}
	leaveReasons  = map[domain.EmployerKind][]string{
		domain.KindEnterprise:         {"企业歇业，办理注销登记", "企业迁出本市，转移社会保险关系", "企业被兼并，职工并入新单位参保"},
		domain.KindInstitution:        {"单位撤并，人员划入其他单位", "机构改革撤销"},
		domain.KindIndividualBusiness: {"个体工商户注销营业执照", "经营者到单位就业，转入单位参保"},
		domain.KindFlexible:           {"灵活就业人员到单位就业，转入单位参保", "迁往外地，转移养老保险关系"},
	}
)
