package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// fieldWorkLedger is the ledger of the field-work tests (business date 2007-03-31). Enterprises
// are registered on 2006-04-03 unless found; enrollments are effective 2006-05-01; every
// inspection is a clean full one by 市稽核一组:
//
//	360702 A park 章贡工业园: pension 10; inspected 2006-07-10 and 2007-02-01.
//	       B park: pension 8; inspected 2006-08-01.
//	       C park: pension 5, then 0 from 2006-10-01; inspected 2006-12-20.
//	       D park, found by the survey on 2006-04-10 and registered on 2006-09-01; no
//	         enrollment; inspected 2006-06-01, while still unregistered.
//	       E not in a park: work injury 3 (insured, though not in pension); inspected 2006-07-01.
//	       F park: pension 4; inspected 2006-07-01; deregistered on 2006-10-31.
//	360721 H park 赣县工业园: pension 6; inspected 2006-12-15, recorded last of all.
//	       I found on 2006-05-01, never registered.
//	360782 no payer.
func fieldWorkLedger(t *testing.T) (*env, int64) {
	t.Helper()
	e := serveAssessed(t, storetest.Start(t, eventstore.Config{}), goldenDay)
	var last int64
	write := func(id, sub, body string) {
		t.Helper()
		last = e.mustWrite(t, empPath(id, sub), tokAdmin, body).num("seq")
	}
	enter := func(n int, county, extra string) string {
		t.Helper()
		return e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
			`{"name":"单位%d","county":%q,"org_code":%q,"kind":"enterprise","risk_class":1%s}`, n, county, orgCode(n), extra)).str("employer_id")
	}
	registered := func(n int, county, extra string) string {
		return enter(n, county, `,"registered_on":"2006-04-03"`+extra)
	}
	enroll := func(id, ins string, n int, on string) {
		write(id, "enrollments", fmt.Sprintf(`{"insurance":%q,"headcount":%d,"effective_on":%q}`, ins, n, on))
	}
	inspect := func(id, on string) {
		write(id, "inspections", fmt.Sprintf(`{"on":%q,"team":"市稽核一组","scope":"full","result":"clean"}`, on))
	}
	const park = `,"park":"章贡工业园"`
	a := registered(33000001, "360702", park)
	enroll(a, "pension", 10, "2006-05-01")
	inspect(a, "2006-07-10")
	inspect(a, "2007-02-01")
	b := registered(33000002, "360702", park)
	enroll(b, "pension", 8, "2006-05-01")
	inspect(b, "2006-08-01")
	c := registered(33000003, "360702", park)
	enroll(c, "pension", 5, "2006-05-01")
	enroll(c, "pension", 0, "2006-10-01")
	inspect(c, "2006-12-20")
	d := enter(33000004, "360702", `,"found_on":"2006-04-10"`+park)
	inspect(d, "2006-06-01")
	write(d, "registration", `{"registered_on":"2006-09-01"}`)
	x := registered(33000005, "360702", "")
	enroll(x, "work_injury", 3, "2006-05-01")
	inspect(x, "2006-07-01")
	f := registered(33000006, "360702", park)
	enroll(f, "pension", 4, "2006-05-01")
	inspect(f, "2006-07-01")
	write(f, "deregistration", `{"on":"2006-10-31","reason":"歇业"}`)
	h := registered(33000007, "360721", `,"park":"赣县工业园"`)
	enroll(h, "pension", 6, "2006-05-01")
	enter(33000008, "360721", `,"found_on":"2006-05-01"`)
	inspect(h, "2006-12-15")
	return e, last
}

// fieldWork is a county's (group's, city's) field work as a client decodes it.
type fieldWork struct {
	ParkPayers           int64           `json:"park_payers"`
	ParkPayersInspected  int64           `json:"park_payers_inspected"`
	ParkAuditCoverage    json.RawMessage `json:"park_audit_coverage_rate"`
	RegisteredInsured    int64           `json:"registered_insured"`
	RegisteredNotInsured int64           `json:"registered_not_insured"`
	FoundNotRegistered   int64           `json:"found_not_registered"`
	Closed               int64           `json:"closed"`
}

// fw are the hand-computed field-work counts: park payers, of them inspected; registered and
// insured, registered not insured, found not registered, closed.
type fw struct{ park, inspected, insured, notInsured, found, closed int64 }

func (w *fieldWork) check(t *testing.T, what string, want fw) {
	t.Helper()
	got := fw{w.ParkPayers, w.ParkPayersInspected, w.RegisteredInsured, w.RegisteredNotInsured, w.FoundNotRegistered, w.Closed}
	if got != want {
		t.Errorf("%s: field work %+v, want %+v", what, got, want)
	}
	wantRate(t, what+" park_audit_coverage_rate", w.ParkAuditCoverage, want.inspected, want.park)
}

// fieldWorkAnswer decodes the field work of every county, group and the city of an answer.
type fieldWorkAnswer struct {
	Code      string     `json:"code"`
	Group     int        `json:"group"`
	FieldWork *fieldWork `json:"field_work"`
}

func TestFieldWorkCountsParkAuditsAndTheSurveysCategoriesAsOfTheDate(t *testing.T) {
	e, last := fieldWorkLedger(t)
	tests := []struct {
		name, query string
		want        map[string]fw // by county code, "group:1" or "city"
	}{
		{
			// Park payers of 360702: A, B, C, F (D is not registered yet); inspected in 2006 by
			// then: A, B, F. Registered and insured: A, B, C, F and E (work injury); D found.
			name: "as of 2006-08-31", query: "as_of=2006-08-31",
			want: map[string]fw{"360702": {4, 3, 5, 0, 1, 0}, "360721": {1, 0, 1, 0, 1, 0}, "360782": {}, "group:1": {5, 3, 6, 0, 2, 0}, "city": {5, 3, 6, 0, 2, 0}},
		},
		{
			// F closed on 2006-10-31 and leaves the park payers; D registered on 2006-09-01 and
			// its June inspection counts (in the year, before as_of); C has nobody insured from
			// 2006-10-01. C's inspection of 2006-12-20 and H's of 2006-12-15 are after as_of.
			name: "as of 2006-11-30 an inspection dated later does not count", query: "as_of=2006-11-30",
			want: map[string]fw{"360702": {4, 3, 3, 2, 0, 1}, "360721": {1, 0, 1, 0, 1, 0}, "360782": {}, "group:1": {5, 3, 4, 2, 1, 1}, "city": {5, 3, 4, 2, 1, 1}},
		},
		{
			// C's December inspection counts: 4/4; H's, recorded last of all, counts too: 1/1.
			name: "as of 2006-12-31 every park payer is inspected", query: "as_of=2006-12-31",
			want: map[string]fw{"360702": {4, 4, 3, 2, 0, 1}, "360721": {1, 1, 1, 0, 1, 0}, "360782": {}, "group:1": {5, 5, 4, 2, 1, 1}, "city": {5, 5, 4, 2, 1, 1}},
		},
		{
			// A new year: 2006's inspections no longer count, A's of 2007-02-01 does.
			name: "as of 2007-03-31 only the year's inspections count", query: "as_of=2007-03-31",
			want: map[string]fw{"360702": {4, 1, 3, 2, 0, 1}, "360721": {1, 0, 1, 0, 1, 0}, "360782": {}, "group:1": {5, 1, 4, 2, 1, 1}, "city": {5, 1, 4, 2, 1, 1}},
		},
		{
			// The park segment's payers only: E (not in a park) and I (found, not in a park)
			// drop out; F, a park payer, is closed.
			name: "the park segment as of 2006-12-31", query: "as_of=2006-12-31&segment=park",
			want: map[string]fw{"360702": {4, 4, 2, 2, 0, 1}, "360721": {1, 1, 1, 0, 0, 0}, "360782": {}, "group:1": {5, 5, 3, 2, 0, 1}, "city": {5, 5, 3, 2, 0, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counties struct {
				Counties []fieldWorkAnswer `json:"counties"`
				City     fieldWorkAnswer   `json:"city"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/counties?%s&min_seq=%d", tt.query, last), tokAdmin), &counties)
			var groups struct {
				Groups []fieldWorkAnswer `json:"groups"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/groups?%s&min_seq=%d", tt.query, last), tokAdmin), &groups)
			got := map[string]*fieldWork{"city": counties.City.FieldWork}
			for _, c := range counties.Counties {
				got[c.Code] = c.FieldWork
			}
			for _, g := range groups.Groups {
				got[fmt.Sprint("group:", g.Group)] = g.FieldWork
			}
			for scope, want := range tt.want {
				if got[scope] == nil {
					t.Errorf("%s: no field_work", scope)
					continue
				}
				got[scope].check(t, scope, want)
			}
			var one struct {
				County fieldWorkAnswer `json:"county"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/counties/360702?%s&min_seq=%d", tt.query, last), tokAdmin), &one)
			if one.County.FieldWork == nil {
				t.Fatal("GET /v1/counties/360702: no field_work")
			}
			one.County.FieldWork.check(t, "360702 read alone", tt.want["360702"])
		})
	}
}

// TestAFreezeCarriesTheFieldWorkAndReproducesItsDigest: a freeze valid through 2006-12-31
// holds the field work of that date, of every payer and of each segment, and a fold from
// sequence 1 reproduces it.
func TestAFreezeCarriesTheFieldWorkAndReproducesItsDigest(t *testing.T) {
	e, last := fieldWorkLedger(t)
	e.waitViews(t, uint64(last))
	m := e.freeze(t, tokAssessor, "2006-12-31", uint64(last))
	e.reproduced(t, m.ID)
	var frozen struct {
		Counties []fieldWorkAnswer `json:"counties"`
		City     fieldWorkAnswer   `json:"city"`
		Segments []struct {
			Segment  string            `json:"segment"`
			Counties []fieldWorkAnswer `json:"counties"`
			City     fieldWorkAnswer   `json:"city"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(e.getFreeze(t, tokAssessor, m.ID).Figures, &frozen); err != nil {
		t.Fatal(err)
	}
	byCode := func(list []fieldWorkAnswer, code string) *fieldWork {
		for _, c := range list {
			if c.Code == code {
				return c.FieldWork
			}
		}
		t.Fatalf("no county %s frozen", code)
		return nil
	}
	// As TestFieldWorkCountsParkAuditsAndTheSurveysCategoriesAsOfTheDate computes them.
	byCode(frozen.Counties, "360702").check(t, "frozen 360702", fw{4, 4, 3, 2, 0, 1})
	byCode(frozen.Counties, "360721").check(t, "frozen 360721", fw{1, 1, 1, 0, 1, 0})
	frozen.City.FieldWork.check(t, "frozen city", fw{5, 5, 4, 2, 1, 1})
	if len(frozen.Segments) == 0 || frozen.Segments[0].Segment != "park" {
		t.Fatalf("the freeze holds no park segment first: %d segments", len(frozen.Segments))
	}
	park := frozen.Segments[0]
	byCode(park.Counties, "360702").check(t, "frozen park 360702", fw{4, 4, 2, 2, 0, 1})
	byCode(park.Counties, "360721").check(t, "frozen park 360721", fw{1, 1, 1, 0, 0, 0})
	park.City.FieldWork.check(t, "frozen park city", fw{5, 5, 3, 2, 0, 1})
}
