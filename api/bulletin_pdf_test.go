package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// apiRanking is a row of GET /v1/rankings.
type apiRanking struct {
	Rank     int     `json:"rank"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Score    float64 `json:"score"`
	Measures []struct {
		Measure string `json:"measure"`
		Target  int64  `json:"target"`
		Actual  int64  `json:"actual"`
	} `json:"measures"`
}

// bulletinMeasures are the target measures in the order the bulletin prints them.
var bulletinMeasures = []string{"pension_insured", "pension_collected_fen", "unemployment_insured", "unemployment_collected_fen",
	"medical_insured", "work_injury_insured", "maternity_insured", "contracts_signed"}

// TestBulletinPrintsTheFreezesRankingAndJudgesByItsRule makes a freeze with targets near the
// ledger's figures (so that some counties are praised, some criticised, others neither) and checks the bulletin
// against the API: the freeze's (S, D) and digest, each county's frozen pension arrears and
// recoveries, each rank, score and completion recomputed from GET /v1/rankings's integers, the
// counties praised and criticised by the printed rule; the same bytes twice; a clerk's bulletin
// holds its county only; an unknown freeze is 404.
func TestBulletinPrintsTheFreezesRankingAndJudgesByItsRule(t *testing.T) {
	e := newFreezeEnv(t, 300)
	e.waitViews(t, e.count())
	first := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	var r0 struct {
		Rankings []apiRanking `json:"rankings"`
	}
	decode(t, e.get(t, "/v1/rankings?freeze="+first.ID, tokAdmin), &r0)
	sums := map[string]int64{}
	for _, rk := range r0.Rankings {
		for _, m := range rk.Measures {
			sums[m.Measure] += m.Actual
		}
	}
	city := map[string]int64{}
	for _, m := range bulletinMeasures {
		city[m] = max(sums[m]/2, 1) // half the ledger's figures: a county of average share meets them twice over
	}
	b, _ := json.Marshal(map[string]any{"effective_from": "2006-12-01", "year": 2006, "city": city})
	e.mustWrite(t, "/v1/reference/targets", tokAdmin, string(b))
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)

	var rk struct {
		Weighting string       `json:"weighting"`
		Rankings  []apiRanking `json:"rankings"`
	}
	decode(t, e.get(t, "/v1/rankings?freeze="+f.ID, tokAdmin), &rk)
	if len(rk.Rankings) != 19 {
		t.Fatalf("%d counties ranked, want 19", len(rk.Rankings))
	}
	path := "/v1/freezes/" + f.ID + "/bulletin.pdf"
	a := e.raw(t, http.MethodGet, path, tokAdmin, "")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		t.Fatalf("GET %s: %d %s %.300s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	wantFilename(t, a, "bulletin-"+f.ID+".pdf")
	// Every line begins with a space: a row at the page's left edge reads as one indented.
	text := " " + strings.ReplaceAll(pdfText(t, a.body), "\n", "\n ")
	flat := strings.Join(strings.Fields(text), "")
	for _, w := range []string{"通报", fmt.Sprintf("S=%d", f.ThroughSeq), "D=" + f.ValidThrough, f.Digest, f.ID, "养老保险主要指标", "范围：全市",
		projections.RankingWeightingZH, strings.Join(strings.Fields(documents.BulletinRule), "")} {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), "")) {
			t.Errorf("the bulletin does not print %q:\n%s", w, text)
		}
	}
	// An official document in Chinese: the API's English words for the weighting stay the API's.
	if english := strings.Join(strings.Fields(rk.Weighting), ""); rk.Weighting == "" || strings.Contains(flat, english[:40]) {
		t.Errorf("the bulletin prints the API's English weighting %q", rk.Weighting)
	}

	// The county table: each county's frozen pension arrears and recoveries.
	var fz struct {
		Figures struct {
			Counties []struct {
				Code       string `json:"code"`
				Insurances map[string]struct {
					ArrearsCurrentYearFen domain.Fen `json:"arrears_current_year_fen"`
					ArrearsPriorYearsFen  domain.Fen `json:"arrears_prior_years_fen"`
					RecoveredFen          domain.Fen `json:"recovered_fen"`
				} `json:"insurances"`
			} `json:"counties"`
		} `json:"figures"`
	}
	decode(t, e.get(t, "/v1/freezes/"+f.ID, tokAdmin), &fz)
	for _, c := range fz.Figures.Counties {
		p := c.Insurances["pension"]
		head := " " + c.Code + " "
		tail := " " + strings.Join([]string{documents.Yuan(p.ArrearsCurrentYearFen), documents.Yuan(p.ArrearsPriorYearsFen), documents.Yuan(p.RecoveredFen)}, " ") + "\n"
		if i := strings.Index(text, head); i < 0 || !strings.Contains(text[i:], tail) {
			t.Errorf("county %s: the table does not print its pension arrears and recoveries %q", c.Code, tail)
		}
	}

	// The ranking, recomputed from the API's integers as the weighting states it.
	n := len(rk.Rankings)
	var praised, criticised []string
	type verdict struct {
		name           string
		score          projections.Ratio
		allMet, anyLow bool
	}
	var verdicts []verdict
	noTarget := 0
	for _, r := range rk.Rankings {
		var sum int64
		cells := []string{}
		allMet, anyLow := true, false
		for _, code := range bulletinMeasures {
			cell := "－" // no target
			for _, m := range r.Measures {
				if m.Measure != code || m.Target <= 0 {
					continue
				}
				v, err := domain.MulDivHalfUp(m.Actual, 1_000_000, m.Target)
				if err != nil {
					t.Fatal(err)
				}
				sum += min(v, 1_200_000)
				cell = documents.Percent(projections.Ratio{Num: m.Actual, Den: m.Target})
				allMet = allMet && m.Actual >= m.Target
				anyLow = anyLow || m.Actual*100 < m.Target*60
			}
			cells = append(cells, cell)
		}
		score := projections.Ratio{Num: sum, Den: int64(len(r.Measures)) * 1_000_000}
		if got := float64(score.Num) / float64(score.Den); math.Abs(got-r.Score) > 1e-9 {
			t.Errorf("county %s: score %v recomputed, the API says %v", r.Code, got, r.Score)
		}
		place := 1 // counties of one score share a place
		for _, o := range rk.Rankings {
			if o.Score > r.Score {
				place++
			}
		}
		targeted := slices.ContainsFunc(cells, func(c string) bool { return c != "－" })
		head := fmt.Sprintf(" %d %s ", place, r.Code)
		tail := " " + documents.Percent(score) + " " + strings.Join(cells, " ") + "\n"
		if !targeted { // a county with no target is neither placed nor scored as 0%
			head, tail = " － "+r.Code+" ", " 无目标 "+strings.Join(cells, " ")+"\n"
			noTarget++
		}
		if i := strings.Index(text, head); i < 0 || !strings.Contains(text[i:], tail) {
			t.Errorf("rank %d (%s): the bulletin does not print %q after %q", r.Rank, r.Code, tail, head)
		}
		if targeted { // a county with no target is not judged
			verdicts = append(verdicts, verdict{r.Name + "（" + r.Code + "）", score, allMet, anyLow})
		}
	}
	// Places by score: counties of one score are judged alike.
	for _, v := range verdicts {
		higher, lower := 0, 0
		for _, o := range verdicts {
			switch {
			case o.score.Num*v.score.Den > v.score.Num*o.score.Den:
				higher++
			case o.score.Num*v.score.Den < v.score.Num*o.score.Den:
				lower++
			}
		}
		switch {
		case higher < 3 && v.allMet:
			praised = append(praised, v.name)
		case lower < 3 || v.anyLow:
			criticised = append(criticised, v.name)
		}
	}
	if len(praised) == 0 || len(criticised) == 0 || len(criticised) == n {
		t.Errorf("praised %v, criticised %v: the targets do not tell counties apart as meant", praised, criticised)
	}
	judged := func(label string, names []string) string {
		if len(names) == 0 {
			return label + "：无"
		}
		return label + "：" + strings.Join(names, "、")
	}
	for _, w := range []string{judged("表扬", praised), judged("通报批评", criticised)} {
		if !strings.Contains(flat, w+"赣州市") && !strings.Contains(flat, w+"通报批评") {
			t.Errorf("the bulletin does not print %q:\n%s", w, text)
		}
	}

	// The same bytes again; a clerk of 360702 sees its county only.
	if again := e.raw(t, http.MethodGet, path, tokAssessor, ""); !bytes.Equal(again.body, a.body) {
		t.Errorf("the same bulletin asked twice: %d and %d bytes", len(a.body), len(again.body))
	}
	clerk := e.raw(t, http.MethodGet, path, tokClerkA, "")
	if clerk.status != http.StatusOK {
		t.Fatalf("a clerk's bulletin: %d %s", clerk.status, clerk.body)
	}
	ct := pdfText(t, clerk.body)
	if !strings.Contains(ct, " 360702 ") || strings.Contains(ct, "范围：全市") {
		t.Errorf("a clerk of 360702's bulletin does not print its county, or claims the city:\n%s", ct)
	}
	for _, r := range rk.Rankings {
		if r.Code != "360702" && strings.Contains(strings.Join(strings.Fields(ct), ""), r.Code) {
			t.Errorf("a clerk of 360702's bulletin prints %s (%s):\n%s", r.Code, r.Name, ct)
		}
	}
	if g := e.raw(t, http.MethodGet, "/v1/freezes/no-such-freeze/bulletin.pdf", tokAdmin, ""); g.status != http.StatusNotFound {
		t.Errorf("an unknown freeze's bulletin: %d, want 404", g.status)
	}
}
