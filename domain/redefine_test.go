package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestCountyCodeOn: a recorded county reads under the code in force on the date asked, through
// every redefinition, and the counties in force keep the successor in its predecessor's place.
func TestCountyCodeOn(t *testing.T) {
	var ref domain.Reference
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	for _, p := range []domain.CountyRedefined{
		{Code: "360703", Name: "南康区", Predecessor: "360782", EffectiveFrom: domain.MustDate("2013-01-01")},
		{Code: "360704", Name: "赣县区", Predecessor: "360721", EffectiveFrom: domain.MustDate("2016-01-01")},
		{Code: "360799", Name: "赣县新区", Predecessor: "360704", EffectiveFrom: domain.MustDate("2020-01-01")},
	} {
		if err := domain.CheckReference(p, &ref); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		ref.Apply(p)
	}
	for _, c := range []struct {
		name, code, on, want string
	}{
		{"the predecessor reads as itself before the change", "360782", "2012-12-31", "360782"},
		{"the predecessor reads as the successor from the change", "360782", "2013-01-01", "360703"},
		{"the successor reads as the predecessor before the change", "360703", "2012-12-31", "360782"},
		{"a chain of changes is followed forward", "360721", "2020-06-30", "360799"},
		{"a chain of changes is followed back", "360799", "2015-12-31", "360721"},
		{"a chain stops at the change in force", "360799", "2017-01-01", "360704"},
		{"a county never changed reads as itself", "360702", "2020-01-01", "360702"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ref.CountyCodeOn(c.code, domain.MustDate(c.on)); got != c.want {
				t.Errorf("CountyCodeOn(%s, %s) = %s, want %s", c.code, c.on, got, c.want)
			}
		})
	}
	on := ref.CountiesOn(domain.MustDate("2013-01-01"))
	if len(on) != len(ref.Counties) {
		t.Fatalf("%d counties in force, want %d", len(on), len(ref.Counties))
	}
	for i, c := range ref.Counties {
		if c.Code == "360782" && (on[i].Code != "360703" || on[i].Group != c.Group) {
			t.Errorf("in 360782's place on 2013-01-01: %+v, want 360703 in group %d", on[i], c.Group)
		}
	}
	if !ref.SameCounty("360721", "360799") || ref.SameCounty("360782", "360721") {
		t.Errorf("SameCounty: 360721 and 360799 are one county, 360782 and 360721 are not")
	}
}

// TestGroupsOfCounty: a county moved to another group by its redefinition has been in both, under
// either code; a county never moved only in its own; an unknown code in none.
func TestGroupsOfCounty(t *testing.T) {
	var ref domain.Reference
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	if got := ref.GroupsOfCounty("360782"); !slices.Equal(got, []int{2}) {
		t.Errorf("without redefinitions 360782 has been in groups %v, want [2]", got)
	}
	p := domain.CountyRedefined{Code: "360703", Name: "南康区", Predecessor: "360782", EffectiveFrom: domain.MustDate("2013-01-01"), Group: 3}
	if err := domain.CheckReference(p, &ref); err != nil {
		t.Fatal(err)
	}
	ref.Apply(p)
	for _, c := range []struct {
		code string
		want []int
	}{{"360782", []int{2, 3}}, {"360703", []int{2, 3}}, {"360723", []int{2}}, {"360722", []int{3}}, {"999999", nil}} {
		if got := ref.GroupsOfCounty(c.code); !slices.Equal(got, c.want) {
			t.Errorf("GroupsOfCounty(%s) = %v, want %v", c.code, got, c.want)
		}
	}
}

// TestTargetsNameACountyUnderOneCode: targets that give one county under its code before and
// after a change are refused, naming the second (one of them would silently win); two counties'
// codes are not.
func TestTargetsNameACountyUnderOneCode(t *testing.T) {
	var ref domain.Reference
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	ref.Apply(domain.CountyRedefined{Code: "360703", Name: "南康区", Predecessor: "360782", EffectiveFrom: domain.MustDate("2013-11-18")})
	targets := func(counties ...string) domain.TargetsSet {
		m := map[string]map[string]int64{}
		for i, c := range counties {
			m[c] = map[string]int64{"pension_insured": int64(i + 1)}
		}
		return domain.TargetsSet{Targets: domain.Targets{EffectiveFrom: domain.MustDate("2014-01-01"), Year: 2014, City: map[string]int64{"pension_insured": 50}, Counties: m}}
	}
	err := domain.CheckReference(targets("360782", "360703"), &ref)
	var de *domain.Error
	if !errors.As(err, &de) || de.Field != "counties.360782" || !strings.Contains(de.Detail, "360703") {
		t.Errorf("targets naming 南康 under both codes: %v; want a refusal of counties.360782 naming 360703", err)
	}
	if err := domain.CheckReference(targets("360782", "360702"), &ref); err != nil {
		t.Errorf("targets of two counties: %v", err)
	}
}
