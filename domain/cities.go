package domain

import (
	"maps"
	"strings"
)

// Province is the province whose cities keep ledgers: Jiangxi (江西省), GB/T 2260 code 360000.
const Province = "360000"

// City is a prefecture-level city (设区市) of the province, whose ledger is its own.
type City struct {
	Code   string
	Name   string
	NameEN string
	// Illustrative marks a city whose counties the seed does not give: its counties are GB/T 2260's
	// of 2006 and its targets made up (a share of Ganzhou's), for trying a province out.
	Illustrative bool
	counties     []County
	// share scales Ganzhou's 2006 targets, in percent, for an illustrative city.
	share int64
}

// Cities are the province's cities this build knows the reference data of: Ganzhou's from the
// 2006 plan, and a few others' illustrative (City.Illustrative).
var Cities = []City{
	{Code: "360200", Name: "景德镇市", NameEN: "Jingdezhen", Illustrative: true, share: 20, counties: []County{
		{Code: "360202", Name: "昌江区", NameEN: "Changjiang"}, {Code: "360203", Name: "珠山区", NameEN: "Zhushan"},
		{Code: "360222", Name: "浮梁县", NameEN: "Fuliang"}, {Code: "360281", Name: "乐平市", NameEN: "Leping"}}},
	{Code: "360300", Name: "萍乡市", NameEN: "Pingxiang", Illustrative: true, share: 22, counties: []County{
		{Code: "360302", Name: "安源区", NameEN: "Anyuan"}, {Code: "360313", Name: "湘东区", NameEN: "Xiangdong"},
		{Code: "360321", Name: "莲花县", NameEN: "Lianhua"}, {Code: "360322", Name: "上栗县", NameEN: "Shangli"},
		{Code: "360323", Name: "芦溪县", NameEN: "Luxi"}}},
	{Code: "360500", Name: "新余市", NameEN: "Xinyu", Illustrative: true, share: 14, counties: []County{
		{Code: "360502", Name: "渝水区", NameEN: "Yushui"}, {Code: "360521", Name: "分宜县", NameEN: "Fenyi"}}},
	{Code: "360600", Name: "鹰潭市", NameEN: "Yingtan", Illustrative: true, share: 13, counties: []County{
		{Code: "360602", Name: "月湖区", NameEN: "Yuehu"}, {Code: "360622", Name: "余江县", NameEN: "Yujiang"},
		{Code: "360681", Name: "贵溪市", NameEN: "Guixi"}}},
	{Code: "360700", Name: "赣州市", NameEN: "Ganzhou"},
}

// CityOf returns the city with code, if this build knows it.
func CityOf(code string) (City, bool) {
	for _, c := range Cities {
		if c.Code == code {
			return c, true
		}
	}
	return City{}, false
}

// CityCodes lists the codes of Cities, for messages.
func CityCodes() string {
	var codes []string
	for _, c := range Cities {
		codes = append(codes, c.Code)
	}
	return strings.Join(codes, ", ")
}

// ReferenceEvents are the reference-data events written at the first start of the city's ledger:
// Ganzhou's are DefaultReferenceEvents; an illustrative city's have its own counties in one
// supervision group, its targets a share of Ganzhou's, and the province's rates, late fees,
// settings and average wage.
func (c City) ReferenceEvents() []Payload {
	if !c.Illustrative {
		return DefaultReferenceEvents()
	}
	g := Group{N: 1, Lead: c.Name + "劳动和社会保障局"}
	counties := make([]County, len(c.counties))
	for i, cty := range c.counties {
		cty.Group = 1
		counties[i] = cty
		g.Counties = append(g.Counties, cty.Code)
	}
	t := Targets{EffectiveFrom: DefaultTargets.EffectiveFrom, Year: DefaultTargets.Year, City: maps.Clone(DefaultTargets.City)}
	for k, v := range t.City {
		t.City[k] = v * c.share / 100
	}
	return []Payload{
		CountiesDefined{Counties: counties, Groups: []Group{g}},
		RatesSet{Table: DefaultRates},
		LateFeeRatesSet{Rate: DefaultLateFees[0]},
		LateFeeRatesSet{Rate: DefaultLateFees[1]},
		SettingsSet{Settings: DefaultSettings},
		TargetsSet{Targets: t},
		AverageWageSet{Wage: DefaultAverageWage},
	}
}

// CityOfCounty is the city a county code belongs to (its first four digits), if known.
func CityOfCounty(county string) (City, bool) {
	if len(county) != 6 {
		return City{}, false
	}
	return CityOf(county[:4] + "00")
}

// City is the city whose counties the reference data defines: Ganzhou unless its counties say
// otherwise.
func (r *Reference) City() City {
	for _, c := range r.Counties {
		if city, ok := CityOfCounty(c.Code); ok {
			return city
		}
	}
	ganzhou, _ := CityOf("360700")
	return ganzhou
}

// CheckCity refuses a city this build has no reference data for, naming the ones it has.
func CheckCity(field, code string) error {
	if _, ok := CityOf(code); !ok {
		return Invalid(field, "no reference data for city %q; this build knows %s", code, CityCodes())
	}
	return nil
}

// CheckProvince refuses a code that is not a province's (six digits ending in 0000), naming field.
func CheckProvince(field, code string) error {
	if len(code) != 6 || !strings.HasSuffix(code, "0000") || strings.Trim(code, "0123456789") != "" {
		return Invalid(field, "%q is not a province's code (six digits ending in 0000, such as %s)", code, Province)
	}
	return nil
}

// CheckCityIn refuses a city that is not one of province's (its code starts with the province's
// first two digits), naming field.
func CheckCityIn(field, city, province string) error {
	if len(city) < 2 || city[:2] != province[:2] {
		return Invalid(field, "city %s is not in province %s", city, province)
	}
	return nil
}
