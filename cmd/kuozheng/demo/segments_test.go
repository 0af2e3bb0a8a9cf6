package demo_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
)

// segments counts, on a replayed demo ledger, what issue 18's figures read: payers by sector,
// park, ownership class and agency, migrant workers and retirees, inspections and work injury,
// at the year's end.
type segments struct {
	payers, units, enterprises, institutions int
	noIndustry                               int                       // units without a GB/T 4754 section
	sector                                   map[string]int            // payers by the plan's named sector
	sectorBy                                 map[string]map[string]int // and by the county they registered in
	parkBy, parkNames                        map[string]int            // park payers by county, and by park
	parks, parkRegistered                    int
	ownership                                map[string]int // payers by class of their GB/T 12402 code
	agencies, agencyInstitutions             int

	surveyed, surveyedMigrants         int64    // enterprises' survey workforce, and its migrant workers
	constructionWF, constructionMig    int64    // construction's alone
	otherMigrants                      int64    // migrant workers counted by institutions and individual payers
	enrolled, enrolledMigrants         [5]int64 // units' headcounts and their migrants, by insurance
	medical, retirees                  int64    // the medical headcount, and the retirees beside it
	retireesOf                         map[string]int
	parkWF, parkPension                int64 // park payers' survey workforce and pension insured
	otherWF, otherPension              int64 // the other units'
	parkWithPension, otherWithPension  int   // registered payers enrolled in pension
	otherRegistered                    int
	inspectedParks, inspectedOthers    int // units inspected at least once
	clean, findings, auditFindings     int // inspections by result; audit findings
	findingsBeside                     int // findings inspections with an audit finding of the same day
	inspectedBefore                    int // inspections dated before the campaign's audit stage (1 June)
	highRisk, highRiskWI, joinedWI     int // registered high-risk payers; in work injury; who joined it after registering
	highRiskUninsured                  map[string]int
	parkHighRisk, parkHighRiskInsured  int
	otherHighRisk, otherHighRiskInsure int
}

func (l *ledger) segments() segments {
	s := segments{sector: map[string]int{}, sectorBy: map[string]map[string]int{}, parkBy: map[string]int{}, parkNames: map[string]int{},
		ownership: map[string]int{}, retireesOf: map[string]int{}, highRiskUninsured: map[string]int{}}
	june := domain.MustDate("2006-06-01")
	for _, id := range l.order {
		e := l.employers[id]
		cmds := l.byEmp[id]
		reg := cmds[0].(*domain.RegisterEmployer)
		active := e.Registered && !e.Deregistered
		unit := !e.Kind.Individual()
		s.payers++
		if unit {
			s.units++
			if e.Industry == "" {
				s.noIndustry++
			}
		}
		switch e.Kind {
		case domain.KindEnterprise:
			s.enterprises++
			s.surveyed += e.Workforce
			s.surveyedMigrants += e.Migrants
			if e.Sector == domain.SectorConstruction {
				s.constructionWF += e.Workforce
				s.constructionMig += e.Migrants
			}
		case domain.KindInstitution:
			s.institutions++
			s.otherMigrants += e.Migrants
		default:
			s.otherMigrants += e.Migrants
		}
		if e.Sector != "" {
			s.sector[e.Sector]++
			if s.sectorBy[e.Sector] == nil {
				s.sectorBy[e.Sector] = map[string]int{}
			}
			s.sectorBy[e.Sector][reg.County]++ // where it registered: a few move later
		}
		if e.OwnershipCode != "" {
			s.ownership[domain.OwnershipClass(e.OwnershipCode)]++
		}
		if e.Agency {
			s.agencies++
			if e.Kind == domain.KindInstitution {
				s.agencyInstitutions++
			}
		}
		if unit {
			for k, ins := range domain.Insurances {
				s.enrolled[k] += e.Enrolled[ins]
				s.enrolledMigrants[k] += e.MigrantsEnrolled[ins]
			}
		}
		s.medical += e.Enrolled[domain.Medical]
		if e.Retirees > 0 {
			s.retirees += e.Retirees
			code := ""
			if reg.OwnershipCode != nil {
				code = *reg.OwnershipCode
			}
			s.retireesOf[code]++
		}
		switch {
		case e.InIndustrialPark:
			s.parks++
			s.parkBy[e.County]++
			s.parkNames[e.Park]++
			s.parkWF += e.Workforce
			s.parkPension += e.Enrolled[domain.Pension]
			if active {
				s.parkRegistered++
				if e.Enrolled[domain.Pension] > 0 {
					s.parkWithPension++
				}
			}
			if len(e.Inspected) > 0 {
				s.inspectedParks++
			}
		case unit:
			s.otherWF += e.Workforce
			s.otherPension += e.Enrolled[domain.Pension]
			if active {
				s.otherRegistered++
				if e.Enrolled[domain.Pension] > 0 {
					s.otherWithPension++
				}
			}
			if len(e.Inspected) > 0 {
				s.inspectedOthers++
			}
		}

		audits := map[string]bool{}
		var firstWI string
		for _, c := range cmds {
			switch c := c.(type) {
			case *domain.RecordAuditFinding:
				audits[c.FoundOn] = true
				s.auditFindings++
			case *domain.RecordEnrollment:
				if c.Insurance == string(domain.WorkInjury) && firstWI == "" {
					firstWI = c.EffectiveOn
				}
			}
		}
		for _, c := range cmds {
			if c, ok := c.(*domain.RecordInspection); ok {
				if domain.MustDate(c.On) < june {
					s.inspectedBefore++
				}
				if c.Result == domain.InspectionClean {
					s.clean++
				} else if s.findings++; audits[c.On] {
					s.findingsBeside++
				}
			}
		}
		if active && e.HighRisk() {
			s.highRisk++
			insured := e.Enrolled[domain.WorkInjury] > 0
			if insured {
				s.highRiskWI++
				if firstWI > e.RegisteredOn.String() {
					s.joinedWI++
				}
			} else {
				s.highRiskUninsured[e.County]++
			}
			if e.InIndustrialPark {
				s.parkHighRisk++
				if insured {
					s.parkHighRiskInsured++
				}
			} else {
				s.otherHighRisk++
				if insured {
					s.otherHighRiskInsure++
				}
			}
		}
	}
	return s
}

func share[T int | int64](a, b T) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TestTheDemoLedgerShowsEverySegmentOfThePlan: a small demo ledger (3,000 payers, the default
// seed) holds every segment issue 18 reads, each in the proportion the plan and Ganzhou's 2006
// economy make plausible. Each band below says why it is what it is; they are wide enough for
// any seed's chance, narrow enough that a generator losing the plan's emphasis fails them.
func TestTheDemoLedgerShowsEverySegmentOfThePlan(t *testing.T) {
	checkSegments(t, demo.Config{Employers: 3000})
}

func checkSegments(t *testing.T, cfg demo.Config) {
	start := time.Now()
	l := replay(t, demo.Generate(cfg))
	s := l.segments()
	t.Logf("generated and replayed %d payers in %v", cfg.Employers, time.Since(start).Round(time.Millisecond))
	logSegments(t, s)
	band := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s: %.3f, want %.2f to %.2f", what, got, lo, hi)
		}
	}

	t.Run("sectors and industries", func(t *testing.T) {
		// 一(一) names coal mines, (other) mines, construction, furniture makers and other
		// high-risk firms: each is in the ledger. Furniture is Nankang's trade (南康家具): most
		// furniture makers are there. Coal is dug in a few counties only, none of them the
		// city core or the development zone. Mines are a few percent of the enterprises, the
		// named sectors together a quarter to a half of them (furniture alone is a tenth).
		for _, sec := range domain.Sectors {
			if s.sector[sec] == 0 {
				t.Errorf("no %s payer", sec)
			}
		}
		furniture := s.sectorBy[domain.SectorFurniture]
		for c, k := range furniture {
			if c != "360782" && k >= furniture["360782"] {
				t.Errorf("%d furniture makers in %s, %d in 南康", k, c, furniture["360782"])
			}
		}
		band("furniture makers in 南康", share(furniture["360782"], s.sector[domain.SectorFurniture]), 0.3, 0.8)
		// The tungsten and rare-earth counties (大余, 崇义, 龙南, 定南, 全南, 寻乌), a sixth of the
		// payers, hold a good part of the other mines.
		ore := 0
		for _, c := range []string{"360723", "360725", "360727", "360728", "360729", "360734"} {
			ore += s.sectorBy[domain.SectorMining][c]
		}
		band("mines in the tungsten and rare-earth counties", share(ore, s.sector[domain.SectorMining]), 0.35, 0.8)
		coal := s.sectorBy[domain.SectorCoal]
		if len(coal) < 2 || coal["360702"] > 0 || coal["360771"] > 0 {
			t.Errorf("coal mines by county %v: want some counties, not the city core nor the zone", coal)
		}
		band("mines (coal and other) among enterprises", share(s.sector[domain.SectorCoal]+s.sector[domain.SectorMining], s.enterprises), 0.04, 0.15)
		named := 0
		for _, v := range s.sector {
			named += v
		}
		band("enterprises in the plan's named sectors", share(named, s.enterprises), 0.25, 0.5)
		// Every unit has a GB/T 4754 section (a person working flexibly has none).
		if s.noIndustry > 0 {
			t.Errorf("%d units without an industry section", s.noIndustry)
		}
	})

	t.Run("parks", func(t *testing.T) {
		// The parks are the plan's first target (重点是县(市、区)的工业园区用人单位), but a minority
		// of the payers: about a fifth of the enterprises (as the demo has always drawn them),
		// well under a fifth of all payers. Every county-level unit had its industrial park in 2006
		// (the zone is one), so each has park payers, under its own park's name.
		band("park payers among all payers", share(s.parks, s.payers), 0.05, 0.18)
		band("park payers among enterprises", share(s.parks, s.enterprises), 0.14, 0.26)
		for _, c := range domain.DefaultCounties {
			if s.parkBy[c.Code] == 0 {
				t.Errorf("no park payer in %s %s", c.Code, c.Name)
			}
		}
		if len(s.parkNames) < len(domain.DefaultCounties) {
			t.Errorf("%d parks named, want one a county at least: %v", len(s.parkNames), s.parkNames)
		}
		// 逐步实现当地工业园区企业参保全覆盖: nearly every park payer is registered and in pension,
		// more of them than of the other units, and the parks' workforce is better covered.
		band("park payers registered at the year's end", share(s.parkRegistered, s.parks), 0.95, 1)
		band("registered park payers in pension", share(s.parkWithPension, s.parkRegistered), 0.95, 1)
		if p, o := share(s.parkPension, s.parkWF), share(s.otherPension, s.otherWF); p <= o {
			t.Errorf("pension coverage of the park payers' workforce %.3f, not above the other units' %.3f", p, o)
		}
	})

	t.Run("ownership and agencies", func(t *testing.T) {
		// The non-public economy (private, individual, Hong Kong, Macao, Taiwan and foreign) is
		// most payers; state and collective units (institutions among them) a fifth or so;
		// shareholding firms (mixed) a few percent.
		coded := 0
		for _, v := range s.ownership {
			coded += v
		}
		band("non-public among payers with an economic type", share(s.ownership[domain.OwnershipNonPublic], coded), 0.6, 0.85)
		band("public", share(s.ownership[domain.OwnershipPublic], coded), 0.1, 0.3)
		band("mixed", share(s.ownership[domain.OwnershipMixed], coded), 0.01, 0.1)
		// Labour agencies (劳务派遣、代理, the unemployment target's placements): a handful of private
		// dispatch firms and of the public talent-exchange and job centres, about 1% of the units.
		band("agencies among units", share(s.agencies, s.units), 0.003, 0.03)
		if s.agencyInstitutions == 0 || s.agencyInstitutions == s.agencies {
			t.Errorf("%d agencies, %d of them institutions: want both public centres and private firms", s.agencies, s.agencyInstitutions)
		}
	})

	t.Run("migrant workers and retirees", func(t *testing.T) {
		// Migrant workers (农民工) are about half of the enterprises' workforce in a region whose
		// factories and sites hire from its own countryside, three quarters and more of
		// construction's; institutions and individual payers count none. Work injury reaches
		// them first (一(一)), so their share of the work-injury insured is above their share of
		// the pension insured.
		band("migrant workers in the enterprises' survey workforce", share(s.surveyedMigrants, s.surveyed), 0.3, 0.65)
		band("migrant workers in construction's workforce", share(s.constructionMig, s.constructionWF), 0.6, 0.95)
		if s.otherMigrants != 0 {
			t.Errorf("institutions and individual payers count %d migrant workers, want none", s.otherMigrants)
		}
		wi, pension := share(s.enrolledMigrants[domain.WorkInjury.Rank()], s.enrolled[domain.WorkInjury.Rank()]),
			share(s.enrolledMigrants[domain.Pension.Rank()], s.enrolled[domain.Pension.Rank()])
		if wi <= pension || pension == 0 {
			t.Errorf("migrant workers are %.3f of the work-injury insured and %.3f of the pension insured: want more in work injury", wi, pension)
		}
		// Retirees beside the medical headcount are those of the old state and collective
		// enterprises the plan names (改制关闭破产的原国有企业退休人员) and no one else's: a few percent of
		// the medical insured.
		if len(s.retireesOf) == 0 {
			t.Error("no retirees in any medical enrollment")
		}
		for code, k := range s.retireesOf {
			if code != "110" && code != "120" {
				t.Errorf("%d payers registered with economic type %q carry retirees", k, code)
			}
		}
		band("retirees beside the medical insured", share(s.retirees, s.medical), 0.01, 0.15)
	})

	t.Run("inspections", func(t *testing.T) {
		// 三(三): June to November the city's inspectors cross-inspect every park: most park
		// payers are inspected in 2006, few others. An inspection that finds something stands
		// beside its audit finding, on the same day, and every finding has one; most find
		// nothing. None precedes the audit stage.
		band("park payers inspected", share(s.inspectedParks, s.parks), 0.6, 1)
		band("other units inspected", share(s.inspectedOthers, s.units-s.parks), 0.01, 0.2)
		if s.findings != s.auditFindings || s.findingsBeside != s.findings {
			t.Errorf("%d inspections with findings, %d of them beside an audit finding of the day; %d audit findings", s.findings, s.findingsBeside, s.auditFindings)
		}
		if s.clean <= s.findings {
			t.Errorf("%d clean inspections, %d with findings: want most to find nothing", s.clean, s.findings)
		}
		if s.inspectedBefore > 0 {
			t.Errorf("%d inspections before 1 June", s.inspectedBefore)
		}
	})

	t.Run("work injury of the high-risk payers", func(t *testing.T) {
		// 今年内所有煤矿、建筑、家俱制造和高风险企业要全部参加工伤保险: by the year's end nearly every
		// registered high-risk payer is in work injury, some having joined during the year; some
		// are not yet, in several counties (the plan's check has something to list).
		band("registered high-risk payers in work injury", share(s.highRiskWI, s.highRisk), 0.85, 0.995)
		// Those who joined are the ones without it at first (about one in eight), most of them.
		band("of those, joined after registering", share(s.joinedWI, s.highRiskWI), 0.03, 0.3)
		if len(s.highRiskUninsured) < 3 {
			t.Errorf("high-risk payers without work injury by county %v: want some in several counties", s.highRiskUninsured)
		}
	})
}

func logSegments(t *testing.T, s segments) {
	t.Logf("%d payers, %d units, %d enterprises, %d institutions", s.payers, s.units, s.enterprises, s.institutions)
	t.Logf("sectors %v; coal by county %v; furniture by county %v", s.sector, s.sectorBy[domain.SectorCoal], s.sectorBy[domain.SectorFurniture])
	t.Logf("park payers %d (registered %d, in pension %d, inspected %d) by county %v", s.parks, s.parkRegistered, s.parkWithPension, s.inspectedParks, s.parkBy)
	t.Logf("parks %v", slices.Sorted(maps.Keys(s.parkNames)))
	t.Logf("pension coverage of the workforce: parks %.3f, other units %.3f", share(s.parkPension, s.parkWF), share(s.otherPension, s.otherWF))
	t.Logf("ownership classes %v; agencies %d (%d institutions)", s.ownership, s.agencies, s.agencyInstitutions)
	var mig []string
	for k, ins := range domain.Insurances {
		mig = append(mig, fmt.Sprintf("%s %d/%d", ins, s.enrolledMigrants[k], s.enrolled[k]))
	}
	t.Logf("migrant workers: survey %d of %d (construction %d of %d); enrolled %v", s.surveyedMigrants, s.surveyed, s.constructionMig, s.constructionWF, mig)
	t.Logf("retirees %d beside %d medical insured, by economic type %v", s.retirees, s.medical, s.retireesOf)
	t.Logf("inspections: clean %d, findings %d (audit findings %d); units inspected: parks %d, others %d", s.clean, s.findings, s.auditFindings, s.inspectedParks, s.inspectedOthers)
	t.Logf("high-risk registered %d, in work injury %d (joined during the year %d; parks %d/%d), without it by county %v",
		s.highRisk, s.highRiskWI, s.joinedWI, s.parkHighRiskInsured, s.parkHighRisk, s.highRiskUninsured)
}
