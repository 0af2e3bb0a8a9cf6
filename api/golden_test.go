package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// The golden ledger: a small ledger whose answers were recorded in testdata/golden/ by the code
// before figures by segment (commit d4b63d2, with KUOZHENG_UPDATE_GOLDEN=1). Reads without a
// segment must keep answering them byte for byte (清欠率 aside), and the freeze made then must
// still reproduce its digest. They are not written again: they stand for that code.

// goldenDay is the golden ledger's business date: the spring after the 2006 campaign, so that
// 2006's arrears are prior years' and paying them in 2007 recovers them.
var goldenDay = domain.MustDate("2007-03-31")

// goldenLedger writes the golden ledger's employers (none of them an individual payer: those
// have no organisation code, so their ids would differ from run to run):
//
//	G1 360702 park 章贡工业园, non-public (173): survey 20, pension 16; declares 2006-11 and
//	   2006-12 and pays both on time (2006-12 on 2007-01-10).
//	G2 360702 construction (E), public (110), risk 3: survey 30, pension 25, work injury 25;
//	   declares 2006-11, pays nothing in 2006 and 300000 on 2007-02-20.
//	G3 360721 mining (B): survey 9, pension 8, work injury 8; an opening balance of 50000 for
//	   2005-12 pension, of which 20000 paid on 2006-09-10 and 10000 on 2007-03-01.
//	G4 360721 park 赣县工业园: survey 12, no pension enrollment.
//	G5 360782 furniture (C), risk 2: survey 10, pension 10, work injury 10; declares 2006-11,
//	   pays it late on 2007-01-20.
//	G6 360722 institution: survey 5, pension 5; declares 2006-11, pays on time.
//	G7 360702 enterprise: survey 6, pension 6; joins park 章贡工业园 on 2007-03-01.
//
// It returns the employers' ids and the sequence of the last event.
func goldenLedger(t testing.TB, e *env) ([]string, uint64) {
	t.Helper()
	var last int64
	reg := func(n int, name, county, extra string) string {
		t.Helper()
		r := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
			`{"name":%q,"county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"%s}`, name, county, orgCode(n), extra))
		return r.str("employer_id")
	}
	write := func(id, sub, body string) {
		t.Helper()
		last = e.mustWrite(t, empPath(id, sub), tokAdmin, body).num("seq")
	}
	survey := func(id string, n int) { write(id, "surveys", fmt.Sprintf(`{"as_of":"2006-04-20","workforce":%d}`, n)) }
	enroll := func(id, ins string, n int) {
		write(id, "enrollments", fmt.Sprintf(`{"insurance":%q,"headcount":%d,"effective_on":"2006-05-01"}`, ins, n))
	}
	declare := func(id, period, on string, n int, base int64) {
		write(id, "declarations", fmt.Sprintf(`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d}]}`, on, period, n, base))
	}
	g1 := reg(30000001, "章贡工业园甲厂", "360702", `,"industry":"C","ownership_code":"173","park":"章贡工业园","in_industrial_park":true`)
	g2 := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"章贡建筑公司","county":"360702","org_code":%q,"kind":"enterprise","risk_class":3,"registered_on":"2006-04-03","industry":"E","sector":"construction","ownership_code":"110"}`, orgCode(30000002))).str("employer_id")
	g3 := reg(30000003, "赣县矿业公司", "360721", `,"industry":"B","sector":"mining"`)
	g4 := reg(30000004, "赣县园区服装厂", "360721", `,"park":"赣县工业园","in_industrial_park":true`)
	g5 := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"南康家具厂","county":"360782","org_code":%q,"kind":"enterprise","risk_class":2,"registered_on":"2006-04-03","industry":"C","sector":"furniture"}`, orgCode(30000005))).str("employer_id")
	g6 := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"信丰职业学校","county":"360722","org_code":%q,"kind":"institution","risk_class":1,"registered_on":"2006-04-03"}`, orgCode(30000006))).str("employer_id")
	g7 := reg(30000007, "章贡商贸公司", "360702", "")

	survey(g1, 20)
	enroll(g1, "pension", 16)
	declare(g1, "2006-11", "2006-12-05", 16, 2000000)
	declare(g1, "2006-12", "2007-01-05", 16, 2000000)
	write(g1, "payments", allocated("G1-11", pensionDue(2000000), "2006-12-10", "2006-11"))
	write(g1, "payments", allocated("G1-12", pensionDue(2000000), "2007-01-10", "2006-12"))

	survey(g2, 30)
	enroll(g2, "pension", 25)
	enroll(g2, "work_injury", 25)
	declare(g2, "2006-11", "2006-12-05", 25, 3000000)
	write(g2, "payments", allocated("G2-1", 300000, "2007-02-20", "2006-11"))

	survey(g3, 9)
	enroll(g3, "pension", 8)
	enroll(g3, "work_injury", 8)
	write(g3, "opening-balances", `{"as_of":"2006-04-03","lines":[{"period":"2005-12","insurance":"pension","outstanding_fen":50000}]}`)
	write(g3, "payments", allocated("G3-1", 20000, "2006-09-10", "2005-12"))
	write(g3, "payments", allocated("G3-2", 10000, "2007-03-01", "2005-12"))

	survey(g4, 12)

	survey(g5, 10)
	enroll(g5, "pension", 10)
	enroll(g5, "work_injury", 10)
	declare(g5, "2006-11", "2006-12-05", 10, 1500000)
	write(g5, "payments", allocated("G5-11", pensionDue(1500000), "2007-01-20", "2006-11"))

	survey(g6, 5)
	enroll(g6, "pension", 5)
	declare(g6, "2006-11", "2006-12-05", 5, 1000000)
	write(g6, "payments", allocated("G6-11", pensionDue(1000000), "2006-12-12", "2006-11"))

	survey(g7, 6)
	enroll(g7, "pension", 6)
	write(g7, "changes", `{"on":"2007-03-01","park":"章贡工业园"}`)
	return []string{g1, g2, g3, g4, g5, g6, g7}, uint64(last)
}

// goldenReads are the reads whose answers the golden ledger recorded, by file name.
var goldenReads = []struct{ name, path string }{
	{"counties-2006-12-31", "/v1/counties?as_of=2006-12-31"},
	{"counties-2007-03-31", "/v1/counties?as_of=2007-03-31"},
	{"counties-2006-11-as-of-2007-03-31", "/v1/counties?as_of=2007-03-31&period=2006-11"},
	{"county-360702", "/v1/counties/360702?as_of=2007-03-31"},
	{"county-360721-2006-12-31", "/v1/counties/360721?as_of=2006-12-31"},
	{"groups", "/v1/groups?as_of=2007-03-31"},
	{"group-1", "/v1/groups/1?as_of=2007-03-31"},
	{"flags", "/v1/flags?as_of=2007-03-31"},
	{"flags-2006-12-31", "/v1/flags?as_of=2006-12-31"},
	{"targets-2006-12-31", "/v1/targets?as_of=2006-12-31"},
	{"monthly-2006-12", "/v1/reports/monthly/2006-12"},
	{"worklists", "/v1/worklists?as_of=2007-03-31"},
}

// goldenFreeze is what the golden ledger's freeze valid through 2006-12-31 stored.
type goldenFreeze struct {
	ThroughSeq   uint64          `json:"through_seq"`
	ValidThrough string          `json:"valid_through"`
	CodeVersion  string          `json:"code_version"`
	Digest       string          `json:"digest"`
	Figures      json.RawMessage `json:"figures"`
}

const goldenDir = "testdata/golden"

// readGolden returns the recorded answer name.
func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(goldenDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// firstDiff shows where two answers part.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-120, 0)
	return fmt.Sprintf("at byte %d:\n got: …%s…\nwant: …%s…", i, a[lo:min(i+120, len(a))], b[lo:min(i+120, len(b))])
}

// addedSinceGolden matches what answers gained after the golden answers were recorded, each by
// its rule: 清欠率 and its part beside recovered_fen; the field work (park audit coverage and
// the survey's categories, a flat object of counts and one rate) after contracts_signed.
// Fields omitted when empty (a baseline's growth: the golden ledger has no baseline) need no
// rule: the answers must not hold them.
var addedSinceGolden = regexp.MustCompile(`,"prior_years_recovered_fen":-?[0-9]+,"recovery_rate":(null|[-+.0-9eE]+)` +
	`|,"field_work":\{"park_payers":[0-9]+,"park_payers_inspected":[0-9]+,"park_audit_coverage_rate":(null|[-+.0-9eE]+),` +
	`"registered_insured":[0-9]+,"registered_not_insured":[0-9]+,"found_not_registered":[0-9]+,"closed":[0-9]+\}`)

// workFactsSinceGolden matches a worklist item's facts, its last field, added after the golden
// answers were recorded.
var workFactsSinceGolden = regexp.MustCompile(`,"facts":\{[^{}]*\}\}`)

func TestReadsWithoutASegmentAnswerWhatTheyAnsweredBeforeSegments(t *testing.T) {
	// As serve on its own embedded server: no fences, the stream as that code wrote it.
	e := serveAssessed(t, storetest.Start(t, eventstore.Config{SoleWriter: true}), goldenDay)
	_, seq := goldenLedger(t, e)
	e.waitViews(t, seq)
	for _, g := range goldenReads {
		t.Run(g.name, func(t *testing.T) {
			r := e.get(t, g.path, tokAdmin)
			if r.Status != 200 {
				t.Fatalf("GET %s: %s", g.path, r)
			}
			got := addedSinceGolden.ReplaceAll(r.Raw, nil)
			if strings.HasPrefix(g.name, "worklists") {
				got = workFactsSinceGolden.ReplaceAll(got, []byte("}"))
			}
			if want := readGolden(t, g.name); !bytes.Equal(got, want) {
				t.Errorf("GET %s no longer answers what it answered before segments (清欠率 aside), %s", g.path, firstDiff(got, want))
			}
		})
	}
	t.Run("a freeze made before segments still verifies", func(t *testing.T) {
		var want goldenFreeze
		if err := json.Unmarshal(readGolden(t, "freeze-2006-12-31"), &want); err != nil {
			t.Fatal(err)
		}
		if want.CodeVersion != "views-9" || want.ThroughSeq != seq {
			t.Fatalf("recorded by %s through %d, want views-9 through %d", want.CodeVersion, want.ThroughSeq, seq)
		}
		views := e.runner.Current() // at seq: nothing was written since
		if views.Seq != seq {
			t.Fatalf("the views are at %d, want %d", views.Seq, seq)
		}
		f := domain.FreezeMade{ID: "golden", ThroughSeq: want.ThroughSeq, ValidThrough: domain.MustDate(want.ValidThrough),
			ChainHead:   projections.ChainHead(views), // this ledger's: its events' hashes are its own
			CodeVersion: want.CodeVersion, Digest: want.Digest, Figures: want.Figures}
		if err := projections.VerifyFreeze(views, f); err != nil {
			t.Error(err)
		}
		// Its monthly spreadsheet leaves 清欠率 and the recovery it is of blank: the freeze holds
		// neither, and a 0 would read as nothing recovered of the prior years' arrears.
		frozen, err := projections.FrozenReport(f)
		if err != nil {
			t.Fatal(err)
		}
		rows := api.MonthlyRows(frozen, frozen.Counties, projections.Sum("total", frozen.Counties))
		if h := rows[0][len(rows[0])-2:]; !strings.HasPrefix(h[0], "本年清欠历年欠费") || !strings.HasPrefix(h[1], "清欠率") {
			t.Fatalf("the last columns are %q", h)
		}
		for _, row := range rows[1:] {
			if got := row[len(row)-2:]; got[0] != "" || got[1] != "" {
				t.Errorf("%s %s: recovery columns %q, want blank", row[1], row[2], got)
			}
		}
		if frozen.City.ArrearsPriorYearsFen == 0 && views.Report(projections.FreezeQuery(&views.Ref, f.ValidThrough)).City.ArrearsPriorYearsFen == 0 {
			t.Error("no prior years' arrears: blank and 0 cannot be told apart")
		}
		// A freeze made now of the same (S, D) is of format 2: 清欠率 is in its figures.
		m := e.getFreeze(t, tokAssessor, e.freeze(t, tokAssessor, "2006-12-31", seq).ID)
		if m.Digest == want.Digest || m.CodeVersion != projections.CodeVersion || !bytes.Contains(m.Figures, []byte(`"recovery_rate"`)) {
			t.Errorf("a freeze made now: %s %s, want today's format", m.CodeVersion, m.Digest)
		}
	})
}
