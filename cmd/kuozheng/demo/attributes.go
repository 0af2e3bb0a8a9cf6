package demo

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// The attributes of issue 18 (industry, the plan's named sectors, GB/T 12402 economic type,
// industrial park, labour agency, migrant workers, retirees, inspections) are drawn from streams
// of their own, so that every draw the ledger's money and dates come from stays as it was: a
// payer's attributes never move its declarations, payments or arrears, and the figures of a
// ledger generated before them are those of the same ledger with them, but where the plan's
// emphasis acts on them (a high-risk payer pushed into work injury declares work injury from
// then on).

// attrStream is the stream of payer i's attributes, drawn when it enters in year y; fieldStream
// that of its field work (inspections) in year y. Neither meets the payers' own streams
// (seed, i), their later years' (seed, y<<40|i) or pickRare's (seed, MaxUint64).
func (g *generator) attrStream(i, y int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, 1<<62|uint64(y)<<40|uint64(i)))
}

func (g *generator) fieldStream(i, y int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, 1<<61|uint64(y)<<40|uint64(i)))
}

// parks are the industrial parks of each county (工业园区), the first being where most of its park
// employers are. The names are illustrative: a few after parks of about 2006 (the development
// zone, 龙南, 大余's 新世纪工业城, 南康's furniture park), the rest "<county>工业园", without the
// county's rank so that they read the same once 南康 and 赣县 become districts. The ledger takes
// any name.
var parks = map[string][]string{
	"360702": {"章贡区沙河工业园"},
	"360771": {"赣州经济技术开发区"},
	"360782": {"南康工业园", "南康家具产业园"},
	"360721": {"赣县工业园"},
	"360722": {"信丰工业园"},
	"360723": {"大余新世纪工业城"},
	"360724": {"上犹工业园"},
	"360725": {"崇义工业园"},
	"360726": {"安远工业园"},
	"360727": {"龙南经济技术开发区"},
	"360728": {"定南工业园"},
	"360729": {"全南工业园"},
	"360730": {"宁都工业园"},
	"360731": {"于都工业园"},
	"360732": {"兴国工业园"},
	"360733": {"会昌工业园"},
	"360734": {"寻乌工业园"},
	"360735": {"石城工业园"},
	"360781": {"瑞金工业园"},
}

// parkOf names the park a payer of county code in sector sec sits in: Nankang's furniture makers
// in its furniture park.
func parkOf(code string, sec *sector) string {
	ps := parks[code]
	if len(ps) == 0 {
		return ""
	}
	if len(ps) > 1 && sec != nil && sec.key == "furniture" {
		return ps[1]
	}
	return ps[0]
}

// coalShare is, in the counties with small coal mines (illustrative), the share of their mining
// enterprises that mine coal rather than tungsten, rare earths or other ores.
var coalShare = map[string]float64{"360732": 0.6, "360730": 0.6, "360781": 0.5, "360724": 0.4, "360733": 0.35, "360731": 0.3}

// oreOf is the ore a county's mines are known for: tungsten in the west (大余, 崇义, 于都),
// ion-adsorption rare earths in the south (龙南, 定南, 全南, 寻乌, 安远, 赣县).
var oreOf = map[string]string{"360723": "钨业", "360725": "钨业", "360731": "钨业",
	"360727": "稀土", "360728": "稀土", "360729": "稀土", "360734": "稀土", "360726": "稀土", "360721": "稀土"}

// wordSection places a unit whose name says more than its sector in another section of GB/T
// 4754-2002; wordSector names a plan sector by the same word.
var (
	wordSection = map[string]string{"物业管理": "K", "旅行社": "L", "保安服务": "L", "广告": "L", "印务": "C", "果业": "A", "茶业": "A"}
	wordSector  = map[string]string{"化工": domain.SectorHighRisk} // hazardous chemicals: the plan's other high-risk trades
)

// shopSection places an individual business by its shop; institutionSection an institution by
// what its name ends with.
var (
	shopSection = []struct{ suffix, section string }{
		{"小吃店", "I"}, {"餐馆", "I"}, {"茶馆", "I"}, {"摩托车修理部", "O"}, {"理发店", "O"}, {"电器维修部", "O"}, {"货运部", "F"},
	}
	instSection = []struct{ suffix, section string }{
		{"中学", "P"}, {"小学", "P"}, {"学校", "P"}, {"职业中专", "P"}, {"医院", "Q"}, {"卫生院", "Q"}, {"保健院", "Q"},
		{"疾病预防控制中心", "Q"}, {"卫生监督所", "Q"}, {"推广中心", "M"}, {"技术服务站", "M"}, {"林业工作站", "A"},
		{"水利工程管理站", "N"}, {"广播电视台", "R"}, {"图书馆", "R"}, {"文化馆", "R"}, {"会计核算中心", "S"},
	}
	agencyWords = []string{"劳务派遣", "劳务服务", "人力资源"}
	// Public labour agencies: the talent-exchange and job centres the plan names (人才交流中心、职业介绍中心).
	agencyInstitutions = []string{"人才交流服务中心", "职业介绍服务中心", "劳务输出服务中心"}
)

// migrantShare is the usual share of migrant workers (农民工) in a sector's workforce: most of
// construction's and of the labour-intensive factories', few of the offices'.
var migrantShare = map[string]float64{
	"construction": 0.75, "textile": 0.65, "furniture": 0.6, "electronics": 0.6, "mining": 0.5, "materials": 0.5,
	"food": 0.45, "machinery": 0.45, "transport": 0.35, "service": 0.35, "estate": 0.3, "pharma": 0.3,
	"trade": 0.25, "culture": 0.15, "it": 0.1,
}

// migrantCover is, per insurance, how many of a payer's migrant workers are among its insured
// for each one in its workforce: work injury reaches them first (the plan's 一(一)), unemployment
// and maternity least.
var migrantCover = [5]float64{0.55, 0.35, 0.6, 0.95, 0.4}

// oldIndustries are the sectors of the old state enterprises whose retirees the plan's medical
// insurance is to reach (改制关闭破产的原国有企业退休人员).
var oldIndustries = map[string]bool{"mining": true, "materials": true, "machinery": true, "textile": true, "transport": true}

// drawAttributes draws the payer's attributes once its profile, entry and carried insurances
// are drawn: industry and sector (renaming a mine to what its county digs, and some firms and
// institutions to labour agencies), economic type, park, migrant workers and retirees, and in
// 2006 whether a high-risk payer without work injury is pushed into it during the campaign.
func (g *generator) drawAttributes(p *plan) {
	r := g.attrStream(p.idx, p.enter)
	c := p.county
	switch p.kind {
	case domain.KindEnterprise:
		p.industry, p.named = p.sec.section, p.sec.named
		word := ""
		for _, w := range p.sec.words {
			if strings.Contains(p.name, w) {
				word = w
				break
			}
		}
		if s, ok := wordSection[word]; ok {
			p.industry = s
		}
		if s, ok := wordSector[word]; ok {
			p.named = s
		}
		switch x := r.Float64(); {
		case word == "": // every name of a unit holds its sector's word
		case p.sec.key == "mining" && x < coalShare[c.code]:
			p.named = domain.SectorCoal
			p.name = strings.Replace(p.name, word, pick(r, []string{"煤矿", "煤业", "煤炭"}), 1)
		case p.sec.key == "mining" && oreOf[c.code] != "" && word != oreOf[c.code] && x < 0.75:
			p.name = strings.Replace(p.name, word, oreOf[c.code], 1)
		case (p.sec.key == "service" || p.sec.key == "trade") && x < 0.05:
			p.agency, p.industry = true, "L"
			p.name = strings.Replace(p.name, word, pick(r, agencyWords), 1)
		}
		p.ownCode = enterpriseCode(r, p.ownership)
	case domain.KindInstitution:
		p.ownCode = "110"
		if r.Float64() < 0.03 {
			prefix := c.name
			if strings.HasPrefix(p.name, "赣州市") {
				prefix = "赣州市"
			}
			p.name, p.agency, p.industry = prefix+pick(r, agencyInstitutions), true, "L"
		} else {
			for _, s := range instSection {
				if strings.HasSuffix(p.name, s.suffix) {
					p.industry = s.section
					break
				}
			}
		}
	case domain.KindIndividualBusiness:
		p.ownCode, p.industry = "175", "H"
		for _, s := range shopSection {
			if strings.HasSuffix(p.name, s.suffix) {
				p.industry = s.section
				break
			}
		}
	}

	// The park: the county's and the sector's usual chance, as drawn with the profile, but the
	// parks being where the plan wants full coverage first (逐步实现当地工业园区企业参保全覆盖),
	// the units found unregistered or without pension are seldom in one.
	p.park = false
	if p.kind == domain.KindEnterprise {
		f := 1.1
		switch {
		case p.unregistered:
			f = 0.2
		case p.found:
			f = 0.6
		case !p.carry[0]:
			f = 0.5
		}
		p.park = r.Float64() < min(0.95, p.sec.park*c.park*f)
	}
	if p.park {
		p.parkName = parkOf(c.code, p.sec)
	}

	if p.kind == domain.KindEnterprise {
		share := migrantShare[p.sec.key] * (0.6 + 0.8*r.Float64())
		if p.ownership == "国有" || p.ownership == "集体" {
			share *= 0.5
		}
		p.migrants = min(share, 0.95)
		if (p.ownership == "国有" || p.ownership == "集体") && p.carry[2] {
			chance, lo, hi := 0.4, 0.1, 0.4
			if p.ownership == "国有" {
				chance, lo, hi = 0.5, 0.15, 0.5
				if oldIndustries[p.sec.key] {
					chance, lo, hi = 0.8, 0.3, 0.9
				}
			}
			if r.Float64() < chance {
				p.retirees = lo + (hi-lo)*r.Float64()
			}
		}
	}

	// The plan wants every coal, construction, furniture and high-risk payer in work injury within
	// 2006: most of those without it join during the campaign's months, more of those in a park,
	// some not yet. One registering after its push joins on registration.
	if p.enter == FirstYear && p.unit() && (p.named != "" || p.risk == 3) && !p.carry[3] {
		chance := 0.6
		if p.park {
			chance = 0.85
		}
		if r.Float64() < chance {
			p.carry[3], p.ratio[3] = true, 0.85+0.15*r.Float64()
			p.wiFrom = workday(between(r, day(6, 1), day(11, 20)), day(6, 1), day(11, 22))
			if p.regOn == 0 || p.regOn >= p.wiFrom {
				p.wiFrom = 0
			}
		}
	}
}

// parkInEveryCounty puts a registered enterprise of each county without a park employer in
// its county's park: every county-level unit had its industrial park in 2006, and a small
// ledger shows each (as pickRare does for the rare events).
func (g *generator) parkInEveryCounty() {
	r := rand.New(rand.NewPCG(g.seed, math.MaxUint64-1))
	pools := map[string][]*plan{}
	parked := map[string]bool{}
	for _, p := range g.plans {
		switch {
		case p.park:
			parked[p.county.code] = true
		case p.kind == domain.KindEnterprise && p.registered() && !p.found && p.carry[0]:
			pools[p.county.code] = append(pools[p.county.code], p)
		}
	}
	for _, c := range counties {
		if pool := pools[c.code]; !parked[c.code] && len(pool) > 0 {
			p := pool[r.IntN(len(pool))]
			p.park, p.parkName = true, parkOf(c.code, p.sec)
		}
	}
}

// enterpriseCode is the GB/T 12402-2000 code of an enterprise of the demo's ownership.
func enterpriseCode(r *rand.Rand, ownership string) string {
	switch ownership {
	case "国有":
		return "110"
	case "集体":
		return "120"
	case "股份制":
		return "160"
	case "外资":
		return pick(r, []string{"310", "310", "330"})
	case "港澳台":
		return pick(r, []string{"210", "230"})
	}
	return "173"
}

// migrantsOf is how many of a headcount of insurance k are migrant workers.
func (p *plan) migrantsOf(k int, h int64) int64 {
	return min(h, int64(math.Round(float64(h)*p.migrants*migrantCover[k])))
}

// retireesBeside is how many retirees a medical headcount h carries besides.
func (p *plan) retireesBeside(h int64) int64 {
	if h == 0 || p.retirees == 0 {
		return 0
	}
	return max(1, int64(math.Round(float64(h)*p.retirees)))
}

// attributes gives a registration the payer's attributes (copies: a plan moves on each year).
func (p *plan) attributes(cmd *domain.RegisterEmployer) {
	text := func(v string) *string { return &v }
	if p.industry != "" {
		cmd.Industry = text(p.industry)
	}
	if p.named != "" {
		cmd.Sector = text(p.named)
	}
	if p.ownCode != "" {
		cmd.OwnershipCode = text(p.ownCode)
	}
	if p.parkName != "" {
		cmd.Park = text(p.parkName)
	}
	if p.agency {
		yes := true
		cmd.Agency = &yes
	}
}

// carriesIn reports whether the payer declares insurance k for period pd: a payer pushed into
// work injury during the year declares it from the month it joined.
func (s *sim) carriesIn(k int, pd domain.Period) bool {
	return s.carry[k] && (k != workInjury || s.wiFrom == 0 || pd >= s.wiFrom.Period())
}

// carriesOn reports whether the payer is enrolled in insurance k on d.
func (s *sim) carriesOn(k int, d domain.Date) bool {
	return s.carry[k] && (k != workInjury || s.wiFrom == 0 || d >= s.wiFrom)
}

// workInjury is work injury's place in domain.Insurances.
var workInjury = domain.WorkInjury.Rank()
