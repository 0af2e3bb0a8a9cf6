package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// segmentLedger is the ledger of the segment tests, business date 2007-03-31. Every enterprise
// is registered on 2006-04-03 and enrolled in pension from 2006-05-01; declarations are of
// 2006-11 (due 2006-12-15) on the day given, pension at 28%:
//
//	360702 P1 park, ownership 173 (non-public): survey 20, pension 16; declares 16 on a base of
//	          2,000,000 (due 560000), pays it on 2006-12-10.
//	       P2 park: survey 10, pension 8; declares 8 on 1,000,000 (due 280000), pays 100000 on
//	          2006-12-10 (on time: no recovery).
//	       P3 park: survey 5, pension 5; declares nothing; an opening balance of 30000 for 2005-12
//	          (due 2006-01-15), of which 10000 paid on 2006-11-20 (recovered in 2006).
//	       N1 ownership 310 (foreign, non-public), not in a park: survey 30, pension 30; declares 30
//	          on 3,000,000 (due 840000), pays it on 2006-12-10.
//	       P4 joins park 章贡工业园 on 2007-01-10: survey 7, pension 7; declares 7 on 700000 (due
//	          196000), pays it on 2006-12-10.
//	       F1 a flexible worker: survey 1, pension 1.
//	360721 P5 park: survey 12, no enrollment (an industrial-park employer without pension).
//	360782 P6 joins park 南康家具园 on 2006-06-01, a change recorded last of all: survey 4,
//	          pension 4; declares 4 on 400000 (due 112000), pays nothing.
type segmentLedger struct {
	*env
	ids  map[string]string
	last int64
}

func newSegmentLedger(t *testing.T) *segmentLedger {
	t.Helper()
	l := &segmentLedger{env: serveAssessed(t, storetest.Start(t, eventstore.Config{}), goldenDay), ids: map[string]string{}}
	reg := func(name string, n int, county, extra string) string {
		t.Helper()
		body := fmt.Sprintf(`{"name":%q,"county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"%s}`, "单位"+name, county, orgCode(n), extra)
		id := l.mustWrite(t, "/v1/employers", tokAdmin, body).str("employer_id")
		l.ids[name] = id
		return id
	}
	write := func(id, sub, body string) {
		t.Helper()
		l.last = l.mustWrite(t, empPath(id, sub), tokAdmin, body).num("seq")
	}
	counted := func(id string, workforce, insured int) {
		t.Helper()
		write(id, "surveys", fmt.Sprintf(`{"as_of":"2006-04-20","workforce":%d}`, workforce))
		if insured > 0 {
			write(id, "enrollments", fmt.Sprintf(`{"insurance":"pension","headcount":%d,"effective_on":"2006-05-01"}`, insured))
		}
	}
	declare := func(id string, n int, base int64) {
		t.Helper()
		write(id, "declarations", fmt.Sprintf(`{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d}]}`, n, base))
	}
	p1 := reg("P1", 32000001, "360702", `,"park":"章贡工业园","ownership_code":"173"`)
	counted(p1, 20, 16)
	declare(p1, 16, 2000000)
	write(p1, "payments", allocated("P1-11", 560000, "2006-12-10", "2006-11"))
	p2 := reg("P2", 32000002, "360702", `,"park":"章贡工业园"`)
	counted(p2, 10, 8)
	declare(p2, 8, 1000000)
	write(p2, "payments", allocated("P2-11", 100000, "2006-12-10", "2006-11"))
	p3 := reg("P3", 32000003, "360702", `,"park":"章贡工业园"`)
	counted(p3, 5, 5)
	write(p3, "opening-balances", `{"as_of":"2006-04-03","lines":[{"period":"2005-12","insurance":"pension","outstanding_fen":30000}]}`)
	write(p3, "payments", allocated("P3-1", 10000, "2006-11-20", "2005-12"))
	n1 := reg("N1", 32000004, "360702", `,"ownership_code":"310"`)
	counted(n1, 30, 30)
	declare(n1, 30, 3000000)
	write(n1, "payments", allocated("N1-11", 840000, "2006-12-10", "2006-11"))
	p4 := reg("P4", 32000005, "360702", "")
	counted(p4, 7, 7)
	declare(p4, 7, 700000)
	write(p4, "payments", allocated("P4-11", 196000, "2006-12-10", "2006-11"))
	write(p4, "changes", `{"on":"2007-01-10","park":"章贡工业园"}`)
	f1 := l.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"灵活就业 张三","county":"360702","kind":"flexible","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	l.ids["F1"] = f1
	counted(f1, 1, 1)
	p5 := reg("P5", 32000006, "360721", `,"park":"赣县工业园"`)
	counted(p5, 12, 0)
	p6 := reg("P6", 32000007, "360782", "")
	counted(p6, 4, 4)
	declare(p6, 4, 400000)
	write(p6, "changes", `{"on":"2006-06-01","park":"南康家具园"}`)
	return l
}

// segFigures are the figures a segment test checks: the pension figures and what they add up
// to, the county's employers and flag counts.
type segFigures struct {
	employers                    int64
	insured, should, paid        int64
	periodDue, periodCollected   int64
	cumDue, cumCollected         int64
	arrearsCurrent, arrearsPrior int64
	recovered, priorRecovered    int64
	flags                        map[string]int64
}

// segAnswer is a county's (group's, city's) figures as a client decodes them.
type segAnswer struct {
	Code       string `json:"code"`
	Employers  int64  `json:"employers"`
	Insurances map[string]struct {
		insFigures
		PriorYearsRecoveredFen int64           `json:"prior_years_recovered_fen"`
		RecoveryRate           json.RawMessage `json:"recovery_rate"`
	} `json:"insurances"`
	Flags []struct {
		Kind  string `json:"kind"`
		Count int64  `json:"count"`
	} `json:"flags"`
}

// check compares a's figures with w, every pension rate with its hand-computed parts.
func (a *segAnswer) check(t *testing.T, what string, w segFigures) {
	t.Helper()
	p := a.Insurances[string(domain.Pension)]
	got := segFigures{a.Employers, p.Insured, p.ShouldInsure, p.PaidInsured, p.PeriodDueFen, p.PeriodCollectedFen,
		p.CumulativeDueFen, p.CumulativeCollectedFen, p.ArrearsCurrentYearFen, p.ArrearsPriorYearsFen, p.RecoveredFen, p.PriorYearsRecoveredFen, map[string]int64{}}
	for _, f := range a.Flags {
		got.flags[f.Kind] = f.Count
	}
	if w.flags == nil {
		w.flags = map[string]int64{}
	}
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
	wantRate(t, what+" coverage_rate", p.CoverageRate, w.insured, w.should)
	wantRate(t, what+" contribution_rate", p.ContributionRate, w.paid, w.insured)
	wantRate(t, what+" period_collection_rate", p.PeriodCollectionRate, w.periodCollected, w.periodDue)
	wantRate(t, what+" cumulative_collection_rate", p.CumulativeCollectionRate, w.cumCollected, w.cumDue)
	wantRate(t, what+" recovery_rate", p.RecoveryRate, w.priorRecovered, w.priorRecovered+w.arrearsPrior)
}

// parkOn20061231 are the park figures of 360702 on 2006-12-31 (period 2006-11): P1, P2 and P3;
// P4 joins the park only in 2007, N1 and F1 never.
//
//	insured 16 + 8 + 5 = 29 of should-insure 20 + 10 + 5 = 35: coverage 29/35
//	paid in full for 2006-11: P1's 16 (P2 owes 180000, P3 has no line): contribution 16/29
//	due 560000 + 280000 = 840000, collected 560000 + 100000 = 660000: collection 660000/840000,
//	  the same cumulatively (2006-01 to 2006-11: no other line of 2006)
//	arrears: P2's 180000 of 2006, P3's 20000 of 2005; recovered: P3's 10000 (paid after
//	  2006-01-15), all of it in 2006: 清欠率 10000 / (10000 + 20000)
//	flags: P3's 20000, more than 90 days past due, no enforcement step
var parkOn20061231 = segFigures{3, 29, 35, 16, 840000, 660000, 840000, 660000, 180000, 20000, 10000, 10000,
	map[string]int64{projections.FlagArrearsWithoutEnforcement: 1}}

func TestFiguresOfASegmentCountItsPayersOnly(t *testing.T) {
	l := newSegmentLedger(t)
	seq := fmt.Sprintf("&min_seq=%d", l.last)
	tests := []struct {
		name, path, scope string // scope: a county code, "city", or "group:N"
		want              segFigures
	}{
		{"the park payers of 360702 on 2006-12-31", "/v1/counties?segment=park&as_of=2006-12-31", "360702", parkOn20061231},
		{"one county read alone gives the same", "/v1/counties/360702?segment=park&as_of=2006-12-31", "360702", parkOn20061231},
		{
			// P5: should-insure 12, nobody insured: coverage 0/12, contribution null.
			"a park employer of 360721 with nobody insured", "/v1/counties?segment=park&as_of=2006-12-31", "360721",
			segFigures{1, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, map[string]int64{projections.FlagParkEmployerNotEnrolled: 1}},
		},
		{
			// P6 joined on 2006-06-01 (recorded last): 4 of 4 insured, 0 paid of 112000 due.
			"a change recorded late but dated before as_of counts", "/v1/counties?segment=park&as_of=2006-12-31", "360782",
			segFigures{1, 4, 4, 0, 112000, 0, 112000, 0, 112000, 0, 0, 0, nil},
		},
		{
			// The three counties summed: 3 + 1 + 1 payers; 29 + 0 + 4 of 35 + 12 + 4 insured;
			// 840000 + 112000 due, 660000 collected; arrears 180000 + 112000 and 20000.
			"the city sums the segment's counties", "/v1/counties?segment=park&as_of=2006-12-31", "city",
			segFigures{5, 33, 51, 16, 952000, 660000, 952000, 660000, 292000, 20000, 10000, 10000,
				map[string]int64{projections.FlagArrearsWithoutEnforcement: 1, projections.FlagParkEmployerNotEnrolled: 1}},
		},
		{
			// Group 1 holds 360702 and 360721 of these: 3 + 1 payers.
			"a group sums its counties' segment", "/v1/groups/1?segment=park&as_of=2006-12-31", "group:1",
			segFigures{4, 29, 47, 16, 840000, 660000, 840000, 660000, 180000, 20000, 10000, 10000,
				map[string]int64{projections.FlagArrearsWithoutEnforcement: 1, projections.FlagParkEmployerNotEnrolled: 1}},
		},
		{
			// On 2007-03-31 (period 2007-02, no line of 2007) P4 is in the park: 4 payers, 36 of
			// 42 insured, nobody paid for 2007-02 (no line); P2's 180000 and P3's 20000 are prior
			// years' now, nothing of them recovered in 2007: 清欠率 0 / 200000.
			"a payer joins the segment on the date of its change", "/v1/counties/360702?segment=park&as_of=2007-03-31", "360702",
			segFigures{4, 36, 42, 0, 0, 0, 0, 0, 0, 200000, 10000, 0, map[string]int64{projections.FlagArrearsWithoutEnforcement: 2}},
		},
		{
			// P1 (173) and N1 (310): 16 + 30 of 20 + 30, both paid: 560000 + 840000.
			"non-public payers by their ownership code", "/v1/counties?segment=non_public&as_of=2006-12-31", "360702",
			segFigures{2, 46, 50, 46, 1400000, 1400000, 1400000, 1400000, 0, 0, 0, 0, nil},
		},
		{
			"a flexible worker", "/v1/counties?segment=flexible&as_of=2006-12-31", "360702",
			segFigures{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, nil},
		},
		{
			"a segment with no payer in the county", "/v1/counties?segment=coal&as_of=2006-12-31", "360702",
			segFigures{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a struct {
				Segment  string      `json:"segment"`
				Counties []segAnswer `json:"counties"`
				County   *segAnswer  `json:"county"`
				Group    *segAnswer  `json:"group"`
				City     *segAnswer  `json:"city"`
			}
			decode(t, l.get(t, tt.path+seq, tokAdmin), &a)
			if u, _ := url.Parse(tt.path); a.Segment != u.Query().Get("segment") {
				t.Errorf("the answer names segment %q", a.Segment)
			}
			var f *segAnswer
			switch {
			case tt.scope == "city":
				f = a.City
			case tt.scope[0] == 'g':
				f = a.Group
			case a.County != nil:
				f = a.County
			default:
				for i := range a.Counties {
					if a.Counties[i].Code == tt.scope {
						f = &a.Counties[i]
					}
				}
			}
			if f == nil {
				t.Fatalf("no %s in the answer", tt.scope)
			}
			f.check(t, tt.scope, tt.want)
		})
	}
	t.Run("without a segment every payer counts", func(t *testing.T) {
		var a struct{ County segAnswer }
		decode(t, l.get(t, "/v1/counties/360702?as_of=2006-12-31"+seq, tokAdmin), &a)
		// P1, P2, P3, N1, P4, F1: 16 + 8 + 5 + 30 + 7 + 1 insured.
		if p := a.County.Insurances["pension"]; a.County.Employers != 6 || p.Insured != 67 {
			t.Errorf("360702: %d employers, %d insured; want 6 and 67", a.County.Employers, p.Insured)
		}
	})
	t.Run("the live figures of a segment follow a new change", func(t *testing.T) {
		read := func(seq int64) segAnswer {
			var a struct{ County segAnswer }
			decode(t, l.get(t, fmt.Sprintf("/v1/counties/360702?segment=park&min_seq=%d", seq), tokAdmin), &a)
			return a.County
		}
		if got := read(l.last); got.Employers != 4 {
			t.Fatalf("today 360702 has %d park payers, want 4", got.Employers)
		}
		seq := l.mustWrite(t, empPath(l.ids["N1"], "changes"), tokAdmin, `{"on":"2007-03-20","park":"章贡工业园"}`).num("seq")
		if got := read(seq); got.Employers != 5 || got.Insurances["pension"].Insured != 66 {
			t.Errorf("after N1 joined: %d park payers, %d insured; want 5 and 36 + 30", got.Employers, got.Insurances["pension"].Insured)
		}
	})
	t.Run("flags of a segment's payers", func(t *testing.T) {
		var a struct {
			Segment string `json:"segment"`
			Flags   []struct {
				Kind       string `json:"kind"`
				EmployerID string `json:"employer_id"`
			} `json:"flags"`
		}
		decode(t, l.get(t, "/v1/flags?segment=park&as_of=2006-12-31"+seq, tokAdmin), &a)
		got := map[string]string{}
		for _, f := range a.Flags {
			got[f.EmployerID] = f.Kind
		}
		want := map[string]string{l.ids["P3"]: projections.FlagArrearsWithoutEnforcement, l.ids["P5"]: projections.FlagParkEmployerNotEnrolled}
		if a.Segment != "park" || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("park flags %v (segment %q), want %v", got, a.Segment, want)
		}
	})
}

func TestAnUnknownSegmentIsRefusedNamingIt(t *testing.T) {
	l := newReadEnv(t, readDay)
	for _, path := range []string{"/v1/counties?segment=parks", "/v1/counties/360702?segment=Park", "/v1/groups?segment=coal,park",
		"/v1/groups/1?segment=%E5%9B%AD%E5%8C%BA", "/v1/flags?segment=x"} {
		wantError(t, l.get(t, path, tokAdmin), http.StatusBadRequest, "invalid", "segment")
	}
}

func TestAFreezeCarriesTheSegmentsFiguresAndReproducesItsDigest(t *testing.T) {
	l := newSegmentLedger(t)
	through := uint64(l.last)
	l.waitViews(t, through)
	m := l.freeze(t, tokAssessor, "2006-12-31", through)
	stored := l.reproduced(t, m.ID)
	if sum := sha256.Sum256(stored.Figures); hex.EncodeToString(sum[:]) != m.Digest {
		t.Errorf("the digest %s is not the SHA-256 of the figures stored", m.Digest)
	}
	if again := l.freeze(t, tokAssessor, "2006-12-31", through); again.Digest != m.Digest {
		t.Errorf("(%d, 2006-12-31) frozen again: digest %s, want %s", through, again.Digest, m.Digest)
	}

	type frozen struct {
		Segments []struct {
			Segment  string            `json:"segment"`
			Counties []json.RawMessage `json:"counties"`
			Groups   []json.RawMessage `json:"groups"`
			City     json.RawMessage   `json:"city"`
		} `json:"segments"`
	}
	var all frozen
	if err := json.Unmarshal(l.getFreeze(t, tokAssessor, m.ID).Figures, &all); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sg := range all.Segments {
		names = append(names, sg.Segment)
	}
	if fmt.Sprint(names) != fmt.Sprint(domain.Segments) {
		t.Fatalf("the freeze holds the segments %v, want %v", names, domain.Segments)
	}
	t.Run("the frozen park figures are the live ones of the same date", func(t *testing.T) {
		park := all.Segments[0]
		var live struct {
			Counties []json.RawMessage `json:"counties"`
			City     json.RawMessage   `json:"city"`
		}
		decode(t, l.get(t, "/v1/counties?segment=park&as_of=2006-12-31", tokAdmin), &live)
		if len(live.Counties) != len(park.Counties) || len(park.Groups) != 6 {
			t.Fatalf("%d counties and %d groups frozen, %d live", len(park.Counties), len(park.Groups), len(live.Counties))
		}
		for i := range park.Counties {
			if !bytes.Equal(park.Counties[i], live.Counties[i]) {
				t.Errorf("county %d frozen %s\nlive %s", i, park.Counties[i], live.Counties[i])
			}
		}
		if !bytes.Equal(park.City, live.City) {
			t.Errorf("city frozen %s\nlive %s", park.City, live.City)
		}
		var c segAnswer
		if err := json.Unmarshal(park.Counties[0], &c); err != nil || c.Code != "360702" {
			t.Fatalf("first county %s: %v", park.Counties[0], err)
		}
		c.check(t, "frozen park 360702", parkOn20061231)
	})
	t.Run("a clerk reads the segments of its own county", func(t *testing.T) {
		var mine frozen
		if err := json.Unmarshal(l.getFreeze(t, tokClerkA, m.ID).Figures, &mine); err != nil {
			t.Fatal(err)
		}
		for _, sg := range mine.Segments {
			var codes []string
			for _, c := range sg.Counties {
				var x segAnswer
				_ = json.Unmarshal(c, &x)
				codes = append(codes, x.Code)
			}
			if fmt.Sprint(codes) != "[360702]" || sg.Groups != nil {
				t.Errorf("segment %s: counties %v and %d groups, want 360702 alone", sg.Segment, codes, len(sg.Groups))
			}
		}
	})
}
