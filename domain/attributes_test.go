package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// refuses checks and decides cmd (JSON) against e and wants a refusal naming field.
func refuses(t *testing.T, e *Employer, cmd Command, body, field string) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), cmd); err != nil {
		t.Fatal(err)
	}
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	err := cmd.Check(ctx)
	if err == nil {
		_, err = cmd.Decide(e, ctx)
	}
	var de *Error
	if !errors.As(err, &de) || de.Field != field {
		t.Fatalf("%s: %v, want a refusal naming %s", body, err, field)
	}
}

// accepts checks and decides cmd (JSON) against e and folds what it decides into e.
func accepts(t *testing.T, e *Employer, cmd Command, body string) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), cmd); err != nil {
		t.Fatal(err)
	}
	decide(t, e, cmd)
}

const reg = `"name":"甲","county":"360702","org_code":"12345678-8","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"`

func TestPayerAttributesAreCheckedTogether(t *testing.T) {
	refusals := []struct{ name, body, field string }{
		{"an industry is a section of GB/T 4754-2002", `{` + reg + `,"industry":"Z"}`, "industry"},
		{"a sector is one the plan names", `{` + reg + `,"sector":"textiles"}`, "sector"},
		{"a coal mine is in mining (B), not manufacturing", `{` + reg + `,"industry":"C","sector":"coal"}`, "sector"},
		{"construction is section E", `{` + reg + `,"industry":"B","sector":"construction"}`, "sector"},
		{"an ownership code is one of GB/T 12402-2000", `{` + reg + `,"ownership_code":"999"}`, "ownership_code"},
		{"a payer registered in a named park is not out of parks", `{` + reg + `,"park":"南康家具产业园","in_industrial_park":false}`, "in_industrial_park"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) { refuses(t, &Employer{}, &RegisterEmployer{}, tt.body, tt.field) })
	}
	t.Run("a park makes the payer a park employer; the section is read in either case", func(t *testing.T) {
		e := &Employer{}
		accepts(t, e, &RegisterEmployer{}, `{`+reg+`,"industry":"c","sector":"furniture","ownership_code":"173","park":"南康家具产业园","agency":true}`)
		want := Profile{Name: "甲", County: "360702", OrgCode: "12345678-8", Kind: KindEnterprise, RiskClass: 1, InIndustrialPark: true,
			Industry: "C", Sector: SectorFurniture, OwnershipCode: "173", Park: "南康家具产业园", Agency: true}
		if e.Profile != want {
			t.Fatalf("registered %+v, want %+v", e.Profile, want)
		}
	})
	t.Run("a change is checked against the attributes the payer keeps", func(t *testing.T) {
		e := &Employer{}
		accepts(t, e, &RegisterEmployer{}, `{`+reg+`,"industry":"C","park":"赣州经开区"}`)
		refuses(t, e, &ChangeEmployer{}, `{"on":"2006-05-01","sector":"coal"}`, "sector")
		refuses(t, e, &ChangeEmployer{}, `{"on":"2006-05-01","in_industrial_park":false}`, "in_industrial_park")
		refuses(t, e, &ChangeEmployer{}, `{"on":"2006-05-01","park":"X","in_industrial_park":false}`, "in_industrial_park")
		refuses(t, e, &ChangeEmployer{}, `{"on":"2006-05-01"}`, "name")
		accepts(t, e, &ChangeEmployer{}, `{"on":"2006-05-01","industry":"B","sector":"coal"}`)
		accepts(t, e, &ChangeEmployer{}, `{"on":"2006-05-02","park":"","in_industrial_park":false,"agency":true}`)
		if e.Industry != "B" || e.Sector != SectorCoal || e.Park != "" || e.InIndustrialPark || !e.Agency {
			t.Fatalf("after the changes %+v", e.Profile)
		}
		accepts(t, e, &ChangeEmployer{}, `{"on":"2006-05-03","park":"龙南工业园"}`)
		if e.Park != "龙南工业园" || !e.InIndustrialPark {
			t.Fatalf("joining a park: %+v", e.Profile)
		}
	})
}

func TestMigrantWorkersAndRetireesAreCountedWithinTheirHeadcounts(t *testing.T) {
	e := registered(KindEnterprise, 1)
	refuses(t, e, &RecordSurvey{}, `{"as_of":"2006-05-01","workforce":10,"migrants":11}`, "migrants")
	refuses(t, e, &RecordEnrollment{}, `{"insurance":"pension","headcount":10,"effective_on":"2006-05-01","migrants":11}`, "migrants")
	refuses(t, e, &RecordEnrollment{}, `{"insurance":"pension","headcount":10,"effective_on":"2006-05-01","retirees":3}`, "retirees")
	refuses(t, e, &RecordEnrollment{}, `{"insurance":"medical","headcount":10,"effective_on":"2006-05-01","retirees":-1}`, "retirees")
	accepts(t, e, &RecordSurvey{}, `{"as_of":"2006-05-01","workforce":40,"migrants":15}`)
	accepts(t, e, &RecordEnrollment{}, `{"insurance":"work_injury","headcount":30,"effective_on":"2006-05-01","migrants":12}`)
	accepts(t, e, &RecordEnrollment{}, `{"insurance":"medical","headcount":30,"effective_on":"2006-05-01","retirees":4}`)
	if e.Migrants != 15 || e.MigrantsEnrolled[WorkInjury] != 12 || e.Retirees != 4 || e.Enrolled[Medical] != 30 {
		t.Fatalf("survey migrants %d, work-injury migrants %d, retirees %d", e.Migrants, e.MigrantsEnrolled[WorkInjury], e.Retirees)
	}
	accepts(t, e, &RecordEnrollment{}, `{"insurance":"work_injury","headcount":35,"effective_on":"2006-06-01"}`)
	if e.MigrantsEnrolled[WorkInjury] != 0 {
		t.Fatalf("an enrollment without migrants leaves %d migrant workers", e.MigrantsEnrolled[WorkInjury])
	}
}

func TestAnInspectionIsRecordedWhetherOrNotItFindsAnything(t *testing.T) {
	e := registered(KindEnterprise, 1)
	refuses(t, e, &RecordInspection{}, `{"on":"2006-05-01","team":"市稽核一组","scope":"full","result":"maybe"}`, "result")
	refuses(t, e, &RecordInspection{}, `{"on":"2006-05-01","team":"","scope":"full","result":"clean"}`, "team")
	refuses(t, e, &RecordInspection{}, `{"on":"2006-05-01","team":"一组","scope":"everything","result":"clean"}`, "scope")
	refuses(t, e, &RecordInspection{}, `{"on":"2006-03-01","team":"一组","scope":"full","result":"clean"}`, "on")
	accepts(t, e, &RecordInspection{}, `{"on":"2006-05-01","team":"市稽核一组","scope":"full","result":"clean"}`)
	accepts(t, e, &RecordInspection{}, `{"on":"2006-09-01","team":"跨县交叉稽核组","scope":"wage_base","result":"findings","note":"少报基数"}`)
	if len(e.Inspected) != 2 || e.Inspected[1] != MustDate("2006-09-01") {
		t.Fatalf("inspected on %v", e.Inspected)
	}
}

func TestSegmentsFollowTheRegistration(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		in   []Segment
	}{
		{"a state enterprise in no park is in no segment", Profile{Kind: KindEnterprise, OwnershipCode: "110", RiskClass: 1}, nil},
		{"a private park furniture maker", Profile{Kind: KindEnterprise, OwnershipCode: "173", Sector: SectorFurniture, InIndustrialPark: true, RiskClass: 2},
			[]Segment{SegmentPark, SegmentNonPublic, SegmentHighRisk, SegmentFurniture}},
		{"a shareholding company is not non-public by its code", Profile{Kind: KindEnterprise, OwnershipCode: "160", RiskClass: 1}, nil},
		{"an individual business is non-public", Profile{Kind: KindIndividualBusiness, RiskClass: 1}, []Segment{SegmentNonPublic, SegmentIndividual}},
		{"a flexible worker", Profile{Kind: KindFlexible, RiskClass: 1}, []Segment{SegmentFlexible}},
		{"risk class 3 is high risk", Profile{Kind: KindEnterprise, RiskClass: 3}, []Segment{SegmentHighRisk}},
		{"a foreign-owned coal mine", Profile{Kind: KindEnterprise, OwnershipCode: "330", Sector: SectorCoal, RiskClass: 3},
			[]Segment{SegmentNonPublic, SegmentHighRisk, SegmentCoal}},
		{"an institution", Profile{Kind: KindInstitution, RiskClass: 1}, []Segment{SegmentInstitution}},
		{"a labour agency", Profile{Kind: KindEnterprise, Agency: true, Sector: SectorConstruction, RiskClass: 2},
			[]Segment{SegmentHighRisk, SegmentConstruction, SegmentAgency}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range Segments {
				want := false
				for _, w := range tt.in {
					want = want || w == s
				}
				if got := tt.p.In(s); got != want {
					t.Errorf("in %s: %v, want %v", s, got, want)
				}
			}
		})
	}
	if _, err := ParseSegment("segment", "parks"); err == nil {
		t.Error("an unknown segment read")
	}
}

// TestAttributesAreDatedFacts folds one payer's registration and changes (one recorded after a
// later-dated one) and reads its attributes on dates around them: a change counts from its date
// on, whenever it was recorded, and never before; a void leaves a change out; a compaction keeps
// every later date's answer.
func TestAttributesAreDatedFacts(t *testing.T) {
	d := MustDate
	ptr := func(s string) *string { return &s }
	yes, three := true, 3
	evs := []Event{
		{Envelope: Envelope{EmployerID: "p", Seq: 1}, Body: EmployerRegistered{
			Profile: Profile{Name: "甲", County: "360702", Kind: KindEnterprise, RiskClass: 1, Industry: "C"}, RegisteredOn: d("2006-04-03")}},
		{Envelope: Envelope{EmployerID: "p", Seq: 2}, Body: EmployerChanged{On: d("2006-06-01"), Park: ptr("章贡工业园"), InIndustrialPark: &yes}},
		{Envelope: Envelope{EmployerID: "p", Seq: 3}, Body: EmployerTransferred{On: d("2006-07-01"), To: "360721"}},
		{Envelope: Envelope{EmployerID: "p", Seq: 4}, Body: EmployerChanged{On: d("2007-01-01"), RiskClass: &three}},
		// Recorded last, dated before the park: furniture from May on.
		{Envelope: Envelope{EmployerID: "p", Seq: 5}, Body: EmployerChanged{On: d("2006-05-01"), Sector: ptr(SectorFurniture)}},
	}
	type want struct {
		park             bool
		sector           string
		risk             int
		county           string
		highRisk, inPark bool
	}
	tests := []struct {
		on   string
		want want
	}{
		{"2006-04-03", want{false, "", 1, "360702", false, false}},
		{"2006-04-30", want{false, "", 1, "360702", false, false}},
		{"2006-05-01", want{false, SectorFurniture, 1, "360702", true, false}},
		{"2006-05-31", want{false, SectorFurniture, 1, "360702", true, false}},
		{"2006-06-01", want{true, SectorFurniture, 1, "360702", true, true}},
		{"2006-07-01", want{true, SectorFurniture, 1, "360721", true, true}},
		{"2006-12-31", want{true, SectorFurniture, 1, "360721", true, true}},
		{"2007-01-01", want{true, SectorFurniture, 3, "360721", true, true}},
	}
	check := func(t *testing.T, e *Employer, from Date) {
		t.Helper()
		for _, tt := range tests {
			if d(tt.on) < from {
				continue
			}
			p := e.ProfileOn(d(tt.on))
			got := want{p.InIndustrialPark, p.Sector, p.RiskClass, p.County, p.In(SegmentHighRisk), p.In(SegmentPark)}
			if got != tt.want {
				t.Errorf("on %s: %+v, want %+v", tt.on, got, tt.want)
			}
		}
	}
	t.Run("every change counts from its date on, whenever it was recorded", func(t *testing.T) {
		e := &Employer{}
		e.Fold(evs)
		check(t, e, 0)
		if e.Sector != SectorFurniture || !e.InIndustrialPark || e.RiskClass != 3 {
			t.Errorf("the profile as it stands: %+v", e.Profile)
		}
	})
	t.Run("a payer never changed reads its profile on every date", func(t *testing.T) {
		e := &Employer{}
		e.Fold(evs[:1])
		if p := e.ProfileOn(d("2006-12-31")); p != e.Profile || e.History.Entered != nil {
			t.Errorf("%+v, want %+v and no history kept", p, e.Profile)
		}
	})
	t.Run("a voided change never counts", func(t *testing.T) {
		e := &Employer{}
		e.Fold(append(slices.Clone(evs), Event{Envelope: Envelope{EmployerID: "p", Seq: 6}, Body: EventVoided{TargetSeq: 5, VoidedOn: d("2007-01-05")}}))
		if p := e.ProfileOn(d("2006-12-31")); p.Sector != "" || !p.InIndustrialPark {
			t.Errorf("with the furniture change voided, on 2006-12-31: %+v", p)
		}
	})
	t.Run("a compaction keeps the answers after its boundary", func(t *testing.T) {
		e := &Employer{}
		e.Fold(evs)
		e.History.compact(d("2006-12-31"), d("2006-12-31"), MustPeriod("2006-12"))
		if len(e.History.Changes) != 1 || e.History.Changes[0].On != d("2007-01-01") {
			t.Errorf("compacted through 2006-12-31, the changes kept are %+v", e.History.Changes)
		}
		check(t, e, d("2006-12-31"))
	})
	t.Run("a copy changed leaves the original as it was", func(t *testing.T) {
		e := &Employer{}
		e.Fold(evs[:2])
		c := e.Clone()
		c.Fold(evs[3:4])
		if p := e.ProfileOn(d("2007-06-30")); p.RiskClass != 1 {
			t.Errorf("the original reads risk class %d after its copy changed", p.RiskClass)
		}
	})
}
