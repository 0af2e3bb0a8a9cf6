package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// TestRankingsFromAFreeze: the 19 counties ranked 1..19 on a freeze, best first, with the
// weighting stated; a later backdated payment does not move them.
func TestRankingsFromAFreeze(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	x, due := e.freezeEmployer(t, 99000005, "360781", 2500000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	r := e.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor)
	var a struct {
		Weighting string `json:"weighting"`
		Rankings  []struct {
			Rank     int             `json:"rank"`
			Code     string          `json:"code"`
			Name     string          `json:"name"`
			Score    json.Number     `json:"score"`
			Measures json.RawMessage `json:"measures"`
		} `json:"rankings"`
	}
	decode(t, r, &a)
	if len(strings.TrimSpace(a.Weighting)) < 20 {
		t.Errorf("weighting %q does not state how the score is made", a.Weighting)
	}
	if len(a.Rankings) != 19 {
		t.Fatalf("%d counties ranked, want 19: %s", len(a.Rankings), r.Raw)
	}
	codes := map[string]bool{}
	prev := 2.0
	for i, k := range a.Rankings {
		score, err := k.Score.Float64()
		if k.Rank != i+1 || err != nil || score > prev || score < 0 || score > 1.2 || k.Name == "" || codes[k.Code] ||
			len(k.Measures) < 3 || k.Measures[0] != '[' {
			t.Errorf("ranking %d: rank %d code %s name %q score %s (previous %v) measures %.40s", i, k.Rank, k.Code, k.Name, k.Score, prev, k.Measures)
		}
		if _, ok := e.l.Store.Reference().County(k.Code); !ok {
			t.Errorf("ranking %d: unknown county %q", i, k.Code)
		}
		codes[k.Code] = true
		prev = score
	}
	if score, _ := a.Rankings[0].Score.Float64(); score <= 0 {
		t.Errorf("the best county scores %v: the demo's targets are not being measured", score)
	}

	p := e.pay(t, x, "R-LATE", due, "2006-11-10", "2006-10")
	e.waitViews(t, p)
	if again := e.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor); !bytes.Equal(again.Raw, r.Raw) {
		t.Errorf("rankings of a freeze moved after a backdated payment:\n%s\nthen\n%s", r.Raw, again.Raw)
	}
}

// TestMonthlyBulletinFromAFreeze: the November bulletin served from a freeze valid through
// 2006-11-30 is the live report of that day, the same in csv and xlsx, and never moves.
func TestMonthlyBulletinFromAFreeze(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	x, due := e.freezeEmployer(t, 99000006, "360733", 2000000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	q := "&freeze=" + f.ID
	csvF, xlsxF := e.monthlyRows(t, "2006-11", q)
	if len(csvF) != 1+20*len(domain.Insurances) {
		t.Fatalf("the bulletin has %d rows, want a header, 19×5 and the city's 5", len(csvF))
	}
	if !reflect.DeepEqual(csvF, xlsxF) {
		t.Errorf("the bulletin's csv and xlsx rows differ:\n%q\n%q", csvF[:3], xlsxF[:3])
	}
	liveCSV, liveXLSX := e.monthlyRows(t, "2006-11", "")
	if !reflect.DeepEqual(csvF, liveCSV) || !reflect.DeepEqual(xlsxF, liveXLSX) {
		t.Errorf("the bulletin from a freeze at the head differs from the live report of 2006-11")
	}
	var j struct {
		Month  string `json:"month"`
		Seq    uint64 `json:"seq"`
		AsOf   string `json:"as_of"`
		Period string `json:"period"`
	}
	decode(t, e.get(t, "/v1/reports/monthly/2006-11?format=json"+q, tokAssessor), &j)
	if j.Month != "2006-11" || j.Seq != f.ThroughSeq || j.AsOf != "2006-11-30" || j.Period != "2006-10" {
		t.Errorf("json bulletin: %+v, want month 2006-11, seq %d, as_of 2006-11-30, period 2006-10", j, f.ThroughSeq)
	}

	e.pay(t, x, "M-LATE", due, "2006-11-10", "2006-10")
	p2 := e.pay(t, x, "M-LATE-2", 1, "2006-11-29", "2006-11")
	e.waitViews(t, p2)
	csv2, xlsx2 := e.monthlyRows(t, "2006-11", q)
	if !reflect.DeepEqual(csv2, csvF) || !reflect.DeepEqual(xlsx2, xlsxF) {
		t.Errorf("the bulletin from a freeze moved after backdated payments")
	}
	if live2, _ := e.monthlyRows(t, "2006-11", ""); reflect.DeepEqual(live2, liveCSV) {
		t.Errorf("the live November report did not move after a payment dated 2006-11-10: the test proves nothing")
	}
}

// TestMonthEndBulletins: a freeze for each month end from April to November, all listed.
func TestMonthEndBulletins(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 60)
	var want []manifest
	for m := domain.MustPeriod("2006-04"); m <= domain.MustPeriod("2006-11"); m = m.Next() {
		want = append(want, e.freeze(t, tokAssessor, m.LastDay().String(), 0))
	}
	var list struct {
		Freezes []manifest `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokAssessor), &list)
	if len(list.Freezes) != 8 {
		t.Fatalf("GET /v1/freezes lists %d freezes, want 8", len(list.Freezes))
	}
	ref := e.l.Store.Reference()
	for i, w := range want {
		got := list.Freezes[i]
		if got.ID != w.ID || got.ValidThrough != w.ValidThrough || got.Digest != w.Digest || got.ThroughSeq != w.ThroughSeq || got.Seq != w.Seq {
			t.Errorf("freeze %d listed as %+v, want %+v", i, got, w)
		}
		d := domain.MustDate(w.ValidThrough)
		fig := e.getFreeze(t, tokAssessor, w.ID).figures(t)
		if fig.AsOf != w.ValidThrough || fig.Period != projections.DefaultPeriod(ref, d).String() {
			t.Errorf("bulletin %s: as_of %s period %s", w.ValidThrough, fig.AsOf, fig.Period)
		}
	}
}
