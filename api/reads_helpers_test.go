package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// readDay is the business date of the read tests: the ledger below runs from April to August 2006.
var readDay = domain.MustDate("2006-08-31")

// The pension rate of enterprises in 2006, employer + employee, in basis points.
const pensionBP = 2800

// insFigures is InsuranceFigures as a client decodes it; rates are kept raw to tell null apart.
type insFigures struct {
	Insured                  int64           `json:"insured"`
	ShouldInsure             int64           `json:"should_insure"`
	CoverageRate             json.RawMessage `json:"coverage_rate"`
	PaidInsured              int64           `json:"paid_insured"`
	ContributionRate         json.RawMessage `json:"contribution_rate"`
	PeriodDueFen             int64           `json:"period_due_fen"`
	PeriodCollectedFen       int64           `json:"period_collected_fen"`
	PeriodCollectionRate     json.RawMessage `json:"period_collection_rate"`
	CumulativeDueFen         int64           `json:"cumulative_due_fen"`
	CumulativeCollectedFen   int64           `json:"cumulative_collected_fen"`
	CumulativeCollectionRate json.RawMessage `json:"cumulative_collection_rate"`
	ArrearsCurrentYearFen    int64           `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen     int64           `json:"arrears_prior_years_fen"`
	RecoveredFen             int64           `json:"recovered_fen"`
	PriorYearsRecoveredFen   int64           `json:"prior_years_recovered_fen"`
	RecoveryRate             json.RawMessage `json:"recovery_rate"`
}

// sums lists the figures that add up across counties.
func (x *insFigures) sums() []int64 {
	return []int64{x.Insured, x.ShouldInsure, x.PaidInsured, x.PeriodDueFen, x.PeriodCollectedFen, x.CumulativeDueFen,
		x.CumulativeCollectedFen, x.ArrearsCurrentYearFen, x.ArrearsPriorYearsFen, x.RecoveredFen}
}

// figures is Figures as a client decodes it.
type figures struct {
	Code                  string                 `json:"code"`
	Name                  string                 `json:"name"`
	Group                 int                    `json:"group"`
	Employers             int64                  `json:"employers"`
	Insurances            map[string]*insFigures `json:"insurances"`
	ArrearsCurrentYearFen int64                  `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen  int64                  `json:"arrears_prior_years_fen"`
	RecoveredFen          int64                  `json:"recovered_fen"`
	LateFeeFen            int64                  `json:"late_fee_fen"`
	ContractsSigned       int64                  `json:"contracts_signed"`
	Flags                 []json.RawMessage      `json:"flags"`
}

func (f *figures) sums() []int64 {
	out := []int64{f.Employers, f.ArrearsCurrentYearFen, f.ArrearsPriorYearsFen, f.RecoveredFen, f.LateFeeFen, f.ContractsSigned, int64(len(f.Flags))}
	for _, ins := range domain.Insurances {
		if x := f.Insurances[string(ins)]; x != nil {
			out = append(out, x.sums()...)
		}
	}
	return out
}

func (f *figures) pension() *insFigures { return f.Insurances[string(domain.Pension)] }

// sumFigures adds up the additive figures of parts, as the server should for a group or the city.
func sumFigures(parts []*figures) []int64 {
	var out []int64
	for _, p := range parts {
		s := p.sums()
		if out == nil {
			out = make([]int64, len(s))
		}
		for i, v := range s {
			out[i] += v
		}
	}
	return out
}

type countiesAnswer struct {
	Seq      int64      `json:"seq"`
	AsOf     string     `json:"as_of"`
	Period   string     `json:"period"`
	Counties []*figures `json:"counties"`
	City     *figures   `json:"city"`
	Scope    string     `json:"scope"`
}

func (a *countiesAnswer) county(t testing.TB, code string) *figures {
	t.Helper()
	for _, c := range a.Counties {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("no county %s in the answer", code)
	return nil
}

func (a *countiesAnswer) codes() []string {
	var out []string
	for _, c := range a.Counties {
		out = append(out, c.Code)
	}
	slices.Sort(out)
	return out
}

// decode decodes a JSON answer into v, failing the test unless it is a 200.
func decode(t testing.TB, r resp, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("answer %s, want 200", r)
	}
	if err := json.Unmarshal(r.Raw, v); err != nil {
		t.Fatalf("answer does not decode: %v: %s", err, r.Raw)
	}
}

// wantRate checks a rate: null when den is 0, else the number num/den exactly (rates are not rounded).
func wantRate(t testing.TB, what string, raw json.RawMessage, num, den int64) {
	t.Helper()
	if raw == nil {
		t.Errorf("%s is missing", what)
		return
	}
	if den == 0 {
		if string(raw) != "null" {
			t.Errorf("%s = %s, want null (denominator 0)", what, raw)
		}
		return
	}
	got, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		t.Errorf("%s = %s, want the number %d/%d", what, raw, num, den)
		return
	}
	if want := float64(num) / float64(den); got != want {
		t.Errorf("%s = %v, want %d/%d = %v", what, got, num, den, want)
	}
}

// wantRatesConsistent checks the four rates of every insurance against their own parts.
func wantRatesConsistent(t testing.TB, label string, f *figures) {
	t.Helper()
	if len(f.Insurances) != len(domain.Insurances) {
		t.Errorf("%s: insurances %v, want all five", label, f.Insurances)
	}
	for _, ins := range domain.Insurances {
		x := f.Insurances[string(ins)]
		if x == nil {
			t.Errorf("%s: no %s figures", label, ins)
			continue
		}
		w := label + " " + string(ins)
		wantRate(t, w+" coverage_rate", x.CoverageRate, x.Insured, x.ShouldInsure)
		wantRate(t, w+" contribution_rate", x.ContributionRate, x.PaidInsured, x.Insured)
		wantRate(t, w+" period_collection_rate", x.PeriodCollectionRate, x.PeriodCollectedFen, x.PeriodDueFen)
		wantRate(t, w+" cumulative_collection_rate", x.CumulativeCollectionRate, x.CumulativeCollectedFen, x.CumulativeDueFen)
	}
}

// pensionDue is what the ledger must compute for a pension line: round_half_up(base × 2800 / 10000).
func pensionDue(wageBaseFen int64) int64 { return (wageBaseFen*pensionBP*2 + 10000) / 20000 }

// bpHalfUp is num/den in basis points, rounded half up (the monthly report's rates).
func bpHalfUp(num, den int64) string {
	if den == 0 {
		return ""
	}
	return strconv.FormatInt((num*10000*2+den)/(2*den), 10)
}

// readLedger is the small ledger the read tests run against, with what the tests need of it.
type readLedger struct {
	*env
	a, b, c, d, e string // employer ids
	lastSeq       int64
}

// The employers of readLedger:
//
//	A 360702 (group 1): survey 10, pension 8;  declares 2006-06 and 2006-07, pays both in full on time.
//	B 360702 (group 1): survey 7, pension 5;   declares both, pays 100000 of 2006-06 late, nothing of 2006-07.
//	C 360721 (group 1): survey 4, pension 4;   declares nothing (a candidate for assessment).
//	D 360782 (group 2): survey 6, pension 6;   declares both, pays nothing; a notice with deadline 2006-08-20.
//	E 360722 (group 3): survey 3, pension 3;   declares both, pays both in full on time.
const (
	baseA, baseB, baseD, baseE = 1234567, 600003, 300000, 200000
	partB                      = 100000
)

func newReadLedger(t *testing.T) *readLedger {
	t.Helper()
	l := &readLedger{env: newReadEnv(t, readDay)}
	write := func(path, body string) {
		t.Helper()
		l.lastSeq = l.mustWrite(t, path, tokAdmin, body).num("seq")
	}
	employer := func(n int, name, county string, workforce, insured int) string {
		t.Helper()
		r := l.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
			`{"name":%q,"county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, name, county, orgCode(n)))
		id := r.str("employer_id")
		write(empPath(id, "surveys"), fmt.Sprintf(`{"as_of":"2006-04-20","workforce":%d}`, workforce))
		write(empPath(id, "enrollments"), fmt.Sprintf(`{"insurance":"pension","headcount":%d,"effective_on":"2006-05-01"}`, insured))
		return id
	}
	declare := func(id, period, declaredOn string, headcount int, base int64) {
		t.Helper()
		write(empPath(id, "declarations"), fmt.Sprintf(
			`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d}]}`, declaredOn, period, headcount, base))
	}
	l.a = employer(20000001, "赣南钨业有限公司", "360702", 10, 8)
	l.b = employer(20000002, "章贡纺织厂", "360702", 7, 5)
	l.c = employer(20000003, "赣县稀土公司", "360721", 4, 4)
	l.d = employer(20000004, "南康家具厂", "360782", 6, 6)
	l.e = employer(20000005, "信丰脐橙公司", "360722", 3, 3)
	for _, x := range []struct {
		id        string
		headcount int
		base      int64
	}{{l.a, 8, baseA}, {l.b, 5, baseB}, {l.d, 6, baseD}, {l.e, 3, baseE}} {
		declare(x.id, "2006-06", "2006-07-05", x.headcount, x.base)
		declare(x.id, "2006-07", "2006-08-05", x.headcount, x.base)
	}
	write(empPath(l.a, "payments"), allocated("A-06", pensionDue(baseA), "2006-07-10", "2006-06"))
	write(empPath(l.a, "payments"), allocated("A-07", pensionDue(baseA), "2006-08-10", "2006-07"))
	write(empPath(l.b, "payments"), allocated("B-06", partB, "2006-07-25", "2006-06"))
	write(empPath(l.e, "payments"), allocated("E-06", pensionDue(baseE), "2006-07-14", "2006-06"))
	write(empPath(l.e, "payments"), allocated("E-07", pensionDue(baseE), "2006-08-14", "2006-07"))
	write(empPath(l.d, "enforcement"), `{"step":"notice","on":"2006-08-01","doc_no":"限改[2006]7号","deadline":"2006-08-20"}`)
	return l
}

// allocated is a payment allocated in full to one pension period.
func allocated(receipt string, fen int64, paidOn, period string) string {
	return fmt.Sprintf(`{"paid_on":%q,"amount_fen":%d,"receipt_no":%q,"allocations":[{"insurance":"pension","period":%q,"amount_fen":%d}]}`,
		paidOn, fen, receipt, period, fen)
}

func (l *readLedger) counties(t testing.TB, query, token string) *countiesAnswer {
	t.Helper()
	var a countiesAnswer
	decode(t, l.get(t, "/v1/counties"+query, token), &a)
	return &a
}

// rawGet is a GET whose answer is not JSON (csv, xlsx).
func (l *readLedger) rawGet(t testing.TB, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := l.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// liveEvent is one server-sent event of /v1/live.
type liveEvent struct {
	ID    string
	Event string
	Data  struct {
		Seq  int64    `json:"seq"`
		City *figures `json:"city"`
	}
	Raw string
}

// sseEvents reads server-sent events from body until it ends.
func sseEvents(body io.Reader) <-chan liveEvent {
	ch := make(chan liveEvent, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var ev liveEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" || ev.Raw != "" {
					_ = json.Unmarshal([]byte(ev.Raw), &ev.Data)
					ch <- ev
				}
				ev = liveEvent{}
			case strings.HasPrefix(line, ":"): // a comment (ping)
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Raw += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func i64s(v int64) string { return strconv.FormatInt(v, 10) }
