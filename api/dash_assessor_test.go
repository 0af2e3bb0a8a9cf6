package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// assessorRankings is GET /v1/rankings.
type assessorRankings struct {
	Freeze       string `json:"freeze"`
	ValidThrough string `json:"valid_through"`
	ThroughSeq   uint64 `json:"through_seq"`
	Year         int    `json:"year"`
	Weighting    string `json:"weighting"`
	Note         string `json:"note"`
	Rankings     []struct {
		Rank     int     `json:"rank"`
		Code     string  `json:"code"`
		Name     string  `json:"name"`
		Score    float64 `json:"score"`
		Measures []struct {
			Measure string `json:"measure"`
			Target  int64  `json:"target"`
			Actual  int64  `json:"actual"`
		} `json:"measures"`
	} `json:"rankings"`
}

func (e *env) assessorRankings(t testing.TB, token, id string) assessorRankings {
	t.Helper()
	var a assessorRankings
	decode(t, e.get(t, "/v1/rankings?freeze="+id, token), &a)
	return a
}

// download fetches path as token and returns its rows, csv or xlsx as its extension says.
func (e *env) assessorRows(t testing.TB, path, token string) [][]string {
	t.Helper()
	status, body, err := e.rawDo(path, token)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v %.300s", path, status, err, body)
	}
	if strings.Contains(path, "format=csv") {
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("GET %s: not CSV: %v", path, err)
		}
		return rows
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("GET %s: the xlsx does not open: %v", path, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("GET %s: sheets %v, want one", path, sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// assessorRankingColumns are the columns of a ranking download: rank, code, name, score, three per
// measure, then the freeze's valid_through, through_seq and id.
const assessorRankingColumns = 4 + 8*3 + 3

// TestRankingsDownload: GET /v1/rankings?format=csv|xlsx holds the rankings the JSON answer
// gives, row for row (rank, code, name, score and each measure's target, actual and completion
// in basis points), with the freeze's (S, D) and id; a scoped reader's file holds its counties
// only, with their city-wide rank; an unknown format is refused naming format.
func TestRankingsDownload(t *testing.T) {
	e := newFreezeEnv(t, 60)
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	want := e.assessorRankings(t, tokAssessor, f.ID)
	if len(want.Rankings) != 19 {
		t.Fatalf("rankings of %s: %d counties, want 19 (note %q)", f.ID, len(want.Rankings), want.Note)
	}
	for _, format := range []string{"csv", "xlsx"} {
		path := "/v1/rankings?freeze=" + f.ID + "&format=" + format
		status, _, err := e.rawDo(path, tokAssessor)
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, err)
		}
		rows := e.assessorRows(t, path, tokAssessor)
		if len(rows) != 1+len(want.Rankings) {
			t.Fatalf("%s: %d rows, want a header and %d counties", format, len(rows), len(want.Rankings))
		}
		if len(rows[0]) != assessorRankingColumns || rows[0][0] != "名次 rank" || !strings.Contains(rows[0][4], "养老参保") || !strings.Contains(rows[0][4], "target") {
			t.Errorf("%s: header %q", format, rows[0])
		}
		for i, rk := range want.Rankings {
			row := rows[i+1]
			if len(row) != assessorRankingColumns {
				t.Errorf("%s row %d: %d columns, want %d: %q", format, i+1, len(row), assessorRankingColumns, row)
				continue
			}
			if row[0] != strconv.Itoa(rk.Rank) || row[1] != rk.Code || row[2] != rk.Name {
				t.Errorf("%s row %d: %q %q %q, want rank %d %s %s", format, i+1, row[0], row[1], row[2], rk.Rank, rk.Code, rk.Name)
			}
			// The score: the mean of the measures' completions in ppm, capped at 1.2 each.
			var sum int64
			for j, m := range rk.Measures {
				if m.Target > 0 {
					sum += min((m.Actual*1_000_000*2+m.Target)/(2*m.Target), 1_200_000)
				}
				got := row[4+3*j : 7+3*j]
				if wantCells := []string{i64s(m.Target), i64s(m.Actual), bpHalfUp(m.Actual, m.Target)}; !slices.Equal(got, wantCells) {
					t.Errorf("%s %s %s: %q, want target, actual, bp %q", format, rk.Code, m.Measure, got, wantCells)
				}
			}
			if got, w := row[3], bpHalfUp(sum, int64(len(rk.Measures))*1_000_000); got != w {
				t.Errorf("%s %s: score %s bp, want %s (JSON %v)", format, rk.Code, got, w, rk.Score)
			}
			if tail := row[assessorRankingColumns-3:]; !slices.Equal(tail, []string{f.ValidThrough, strconv.FormatUint(f.ThroughSeq, 10), f.ID}) {
				t.Errorf("%s %s: tail %q, want the freeze's D, S and id", format, rk.Code, tail)
			}
		}
	}
	res, err := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/rankings?freeze="+f.ID+"&format=xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+tokAssessor)
	ans, err := e.srv.Client().Do(res)
	if err != nil {
		t.Fatal(err)
	}
	ans.Body.Close()
	wantName := fmt.Sprintf(`attachment; filename="kuozheng-ranking-%s-seq%d.xlsx"`, f.ValidThrough, f.ThroughSeq)
	if cd := ans.Header.Get("Content-Disposition"); cd != wantName {
		t.Errorf("Content-Disposition %q, want %q", cd, wantName)
	}

	// The clerk of 360702 gets its county's row, ranked among all 19.
	rows := e.assessorRows(t, "/v1/rankings?freeze="+f.ID+"&format=csv", tokClerkA)
	var rank string
	for _, rk := range want.Rankings {
		if rk.Code == "360702" {
			rank = strconv.Itoa(rk.Rank)
		}
	}
	if len(rows) != 2 || rows[1][1] != "360702" || rows[1][0] != rank {
		t.Errorf("the clerk of 360702 downloads %q, want the header and 360702 at rank %s", rows, rank)
	}
	wantError(t, e.get(t, "/v1/rankings?freeze="+f.ID+"&format=pdf", tokAssessor), http.StatusBadRequest, "invalid", "format")
	wantError(t, e.get(t, "/v1/rankings?format=csv", tokAssessor), http.StatusBadRequest, "invalid", "freeze")
}
