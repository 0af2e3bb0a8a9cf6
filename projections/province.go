package projections

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/kuozheng/kuozheng/domain"
)

// CityFigures are one city's figures as its ledger gives them to the province: its total row,
// and its targets for the year of AsOf.
type CityFigures struct {
	Ledger string        `json:"ledger"`
	Name   string        `json:"name"`
	Seq    uint64        `json:"seq"`
	AsOf   domain.Date   `json:"as_of"`
	Period domain.Period `json:"period"`
	City   *Figures      `json:"city"`
	// Targets are the city's targets for AsOf's year; nil when none are recorded.
	Targets map[string]int64 `json:"targets"`
}

// CityFiguresOf are a city's figures from its report and the reference data it was computed with.
func CityFiguresOf(ref *domain.Reference, r *Report) CityFigures {
	city := ref.City()
	c := CityFigures{Ledger: city.Code, Name: city.Name, Seq: r.Seq, AsOf: r.AsOf, Period: r.Period, City: r.City}
	if t, ok := TargetsOf(ref, r); ok {
		c.Targets = t.City
	}
	return c
}

// ProvinceReport is the province's figures: each city's, their sum, and the cities ranked by the
// rule counties are ranked by (RankingWeighting), against each city's own targets.
type ProvinceReport struct {
	Province string         `json:"province"`
	AsOf     domain.Date    `json:"as_of"`
	Cities   []*CityFigures `json:"cities"`
	Total    *Figures       `json:"total"`
	Ranking  []Ranking      `json:"ranking"`
	// Unranked are the cities without targets for the year, which no score can be given.
	Unranked  []string `json:"unranked"`
	Weighting string   `json:"weighting"`
}

// CityRankingWeighting states how the province ranks its cities.
const CityRankingWeighting = "each city's score is the mean, over the 8 measures of the year's targets, of actual/target " +
	"capped at 1.2, as counties are scored within a city; a city's targets are its own ledger's; ties are broken by city code"

// Province sums and ranks its cities' figures, given in any order; they are listed by code.
func Province(code string, asOf domain.Date, cities []CityFigures) (*ProvinceReport, error) {
	p := &ProvinceReport{Province: code, AsOf: asOf, Ranking: []Ranking{}, Unranked: []string{}, Weighting: CityRankingWeighting}
	var rows []*Figures
	for i := range cities {
		c := cities[i]
		if c.City == nil {
			return nil, fmt.Errorf("city %s: figures without the city's total", c.Ledger)
		}
		if c.AsOf != asOf {
			return nil, fmt.Errorf("city %s: figures as of %s, want %s", c.Ledger, c.AsOf, asOf)
		}
		p.Cities = append(p.Cities, &c)
	}
	sort.Slice(p.Cities, func(i, j int) bool { return p.Cities[i].Ledger < p.Cities[j].Ledger })
	for i, c := range p.Cities {
		if i > 0 && p.Cities[i-1].Ledger == c.Ledger {
			return nil, fmt.Errorf("city %s given twice", c.Ledger)
		}
		c.City.Code, c.City.Name = c.Ledger, c.Name
		// Province freezes have always counted a city freeze made before 清欠率 as recovering
		// nothing of its prior years' arrears, and their digests must stay.
		c.City.recoveryUnheld = false
		c.City.rates() // rates travel as numbers; their exact parts come back from the counts
		rows = append(rows, c.City)
		if c.Targets == nil {
			p.Unranked = append(p.Unranked, c.Ledger)
			continue
		}
		var ms []Progress
		for _, m := range measures {
			target, actual := c.Targets[m.name], m.actual(c.City)
			ms = append(ms, Progress{m.name, target, actual, Ratio{actual, target}})
		}
		p.Ranking = append(p.Ranking, Ranking{Code: c.Ledger, Name: c.Name, Score: score(ms), Measures: ms})
	}
	name := "江西省"
	if code != domain.Province {
		name = code
	}
	p.Total = Sum(name, rows)
	p.Total.Code = code
	placeByRoundedScore(p.Ranking)
	return p, nil
}

// ProvinceFigures are the bytes a province freeze stores and their SHA-256 (hex).
func ProvinceFigures(p *ProvinceReport) ([]byte, string, error) {
	// The cities' flag counts as their format 2 freezes word them, and the total's so too:
	// province freezes were made so, and their digests must stay.
	q := *p
	q.Cities = make([]*CityFigures, len(p.Cities))
	for i, c := range p.Cities {
		cc := *c
		cc.City = flagsWordedV2([]*Figures{c.City})[0]
		q.Cities[i] = &cc
	}
	q.Total = flagsWordedV2([]*Figures{p.Total})[0]
	b, err := json.Marshal(&q)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}
