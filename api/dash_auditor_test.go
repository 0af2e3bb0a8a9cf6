package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuozheng/kuozheng/domain"
)

// auditHistory is the part of GET /v1/employers/{id}/history the auditor's test compares.
type auditHistory struct {
	Version  uint64         `json:"version"`
	Events   []auditEvent   `json:"events"`
	Balances map[string]int `json:"balances"`
}

type auditEvent struct {
	Seq        uint64           `json:"seq"`
	OccurredOn string           `json:"occurred_on"`
	RecordedAt string           `json:"recorded_at"`
	Type       string           `json:"type"`
	Payload    json.RawMessage  `json:"payload"`
	Balances   map[string]int64 `json:"balances"`
}

// pageRow is a row of the page's history: its sequence, business date and balance cells.
type pageRow struct {
	Seq        uint64            `json:"seq"`
	OccurredOn string            `json:"occurred_on"`
	Recorded   string            `json:"recorded"`
	Balances   map[string]string `json:"balances"`
}

const readHistoryJS = `Array.from(document.querySelectorAll('#history tbody tr[data-seq]')).map(tr => ({
	seq: Number(tr.dataset.seq), occurred_on: tr.dataset.occurredOn, recorded: tr.querySelector('.recorded').textContent,
	balances: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-field]')).map(td => [td.dataset.field, td.dataset.value]))}))`

// historyBalances are the balances each row of the page shows.
var historyBalances = []string{"due_fen", "paid_fen", "outstanding_fen", "late_fee_fen"}

// yuanText is fen as the page writes it: yuan with two decimals and thousands separators.
func yuanText(fen int64) string {
	s := strconv.FormatInt(fen/100, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return fmt.Sprintf("%s.%02d", s, fen%100)
}

// sameRows reports how the page's rows differ from the API's history (nothing: the same events
// in the same order with the same balances).
func sameRows(rows []pageRow, h auditHistory) []string {
	var diffs []string
	if len(rows) != len(h.Events) {
		diffs = append(diffs, fmt.Sprintf("%d rows, the API %d events", len(rows), len(h.Events)))
	}
	for i := range min(len(rows), len(h.Events)) {
		r, ev := rows[i], h.Events[i]
		if r.Seq != ev.Seq || r.OccurredOn != ev.OccurredOn {
			diffs = append(diffs, fmt.Sprintf("row %d: #%d on %s, the API #%d on %s", i, r.Seq, r.OccurredOn, ev.Seq, ev.OccurredOn))
			continue
		}
		for _, f := range historyBalances {
			if r.Balances[f] != strconv.FormatInt(ev.Balances[f], 10) {
				diffs = append(diffs, fmt.Sprintf("#%d %s: %s, the API %d", r.Seq, f, r.Balances[f], ev.Balances[f]))
			}
		}
	}
	return diffs
}

// setCut types the replay's date and sequence into the employer page's controls.
func setCut(t *testing.T, ctx context.Context, asOf, throughSeq string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById('cut-as-of').value = %q; document.getElementById('cut-through-seq').value = %q`, asOf, throughSeq)))
}

// employerPayloads is one payload of each type an employer's history holds (domain/codec.go's
// register list but the reference's, freezes' and years' events), with what its line must say.
func employerPayloads() []struct {
	body domain.Payload
	want []string
} {
	d := domain.MustDate
	p := domain.MustPeriod("2006-11")
	name, risk, park := "新名 new name", 3, true
	industry, sector, none, no := "B", domain.SectorCoal, "", false
	prof := domain.Profile{Name: "测试厂", County: "360702", OrgCode: "12345678-9", Kind: domain.KindEnterprise, RiskClass: 2,
		Industry: "C", Sector: domain.SectorFurniture, OwnershipCode: "173", Park: "南康家具产业园", Agency: true}
	attributes := []string{"行业 industry C 制造业 manufacturing", "重点行业 sector 家具制造 furniture making",
		"经济类型 ownership 173 私营有限责任（公司） private limited liability company", "园区 park 南康家具产业园", "劳务派遣 labour agency"}
	return []struct {
		body domain.Payload
		want []string
	}{
		{domain.EmployerRegistered{Profile: prof, RegisteredOn: d("2006-04-03"), CertificateNo: "C-1"}, append([]string{"登记 registered", "测试厂", "C-1", "360702"}, attributes...)},
		{domain.EmployerFound{Profile: prof, FoundOn: d("2006-04-03")}, append([]string{"摸底发现 found", "测试厂"}, attributes...)},
		{domain.RegistrationCompleted{RegisteredOn: d("2006-05-03"), CertificateNo: "C-2"}, []string{"补登记 registration completed", "C-2"}},
		{domain.EmployerChanged{On: d("2006-06-01"), Name: &name, RiskClass: &risk, InIndustrialPark: &park}, []string{"变更 changed", "新名 new name", "III", "是 yes"}},
		{domain.EmployerChanged{On: d("2006-06-01"), Industry: &industry, Sector: &sector, OwnershipCode: &none, Park: &none, Agency: &no},
			[]string{"变更 changed", "行业 industry → B 采矿业 mining", "重点行业 sector → 煤矿 coal mining", "经济类型 ownership → 无 none", "园区 park → 无 none", "劳务派遣 labour agency → 否 no"}},
		{domain.SurveyCounted{AsOf: d("2006-04-20"), Workforce: 25, Migrants: 12}, []string{"摸底 survey", "25 人 persons", "其中农民工 migrant workers 12 人"}},
		{domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 10, EffectiveOn: d("2006-05-01")}, []string{"参保 enrollment", "养老 pension", "10 人", "2006-05-01"}},
		{domain.EnrollmentRecorded{Insurance: domain.Medical, Headcount: 10, EffectiveOn: d("2006-05-01"), Migrants: 4, Retirees: 3},
			[]string{"参保 enrollment", "医疗 medical", "其中农民工 migrant workers 4 人", "另有退休人员 retirees besides 3 人"}},
		{domain.DeclarationFiled{DeclaredOn: d("2006-12-05"), Period: p, DueOn: d("2006-12-15"), Lines: []domain.DeclaredLine{
			{Insurance: domain.Pension, Headcount: 10, WageBaseFen: 1000000, RateBP: 2800, DueFen: 280000},
			{Insurance: domain.Medical, Headcount: 10, WageBaseFen: 1000000, RateBP: 850, DueFen: 85000}}},
			[]string{"申报 declaration 2006-11", "养老 pension 10 人 persons 基数 base 10,000.00 元 × 28% → 应缴 due 2,800.00 元", "8.5%", "合计 total 3,650.00 元", "2006-12-15"}},
		{domain.AssessmentMade{AssessedOn: d("2006-12-20"), Period: p, Reason: "未申报 undeclared", DueOn: d("2006-12-15"), Lines: []domain.AssessedLine{{Insurance: domain.Pension, DueFen: 308000}}},
			[]string{"核定 assessment 2006-11", "3,080.00 元", "未申报 undeclared"}},
		{domain.OpeningBalanceRecorded{AsOf: d("2006-01-01"), Lines: []domain.OpeningLine{{Period: domain.MustPeriod("2005-12"), Insurance: domain.Pension, OutstandingFen: 123456, DueOn: d("2006-01-15")}}},
			[]string{"期初欠费 opening balance", "2005-12 养老 pension", "1,234.56 元"}},
		{domain.PaymentReceived{PaidOn: d("2006-12-10"), AmountFen: 123456, ReceiptNo: "R-1", Allocations: []domain.Allocation{{Insurance: domain.Pension, Period: p, AmountFen: 100000}}},
			[]string{"缴费 payment 1,234.56 元", "票据 receipt R-1", "2006-11 养老 pension 1,000.00 元"}},
		{domain.PaymentReversed{ReversedOn: d("2006-12-12"), ReceiptNo: "R-1", Reason: "退票 bounced"}, []string{"退票 payment reversed", "R-1", "退票 bounced"}},
		{domain.AuditFindingRecorded{FoundOn: d("2006-12-01"), Kind: "under_reported_base", Period: p, Insurance: domain.Pension, ExtraWageBaseFen: 500000, RateBP: 2000, DueFen: 100000, DueOn: d("2006-12-15"), RedeclareBy: d("2006-12-31")},
			[]string{"稽核发现 audit finding", "少报基数 under-reported base", "5,000.00 元", "1,000.00 元", "2006-12-31"}},
		{domain.InspectionRecorded{On: d("2006-11-20"), Team: "市稽核一组", Scope: domain.ScopeWageBase, Result: domain.InspectionFindings, Note: "少报基数"},
			[]string{"检查 inspection 发现问题 findings", "检查组 team 市稽核一组", "范围 scope 缴费基数 wage base", "说明 note: 少报基数"}},
		{domain.WaiverGranted{DecidedOn: d("2006-12-01"), Kind: "late_fee", AuthorityDoc: "赣社发[2006]1号", Reason: "困难 hardship", Insurance: domain.Pension, Period: p, AmountFen: 4321},
			[]string{"减免 waiver 滞纳金 late fee 43.21 元", "赣社发[2006]1号", "困难 hardship", "2006-11 养老 pension"}},
		{domain.EnforcementStepRecorded{Step: domain.StepNotice, On: d("2006-07-01"), DocNo: "N-1", Deadline: d("2006-07-15")}, []string{"执法 enforcement 催缴通知 notice", "N-1", "2006-07-15"}},
		{domain.ContractsSigned{SignedOn: d("2006-06-01"), Count: 12}, []string{"劳动合同 contracts", "12 份"}},
		{domain.EmployerTransferred{On: d("2006-08-01"), From: "360702", To: "360721"}, []string{"转移 transfer", "360702", "360721"}},
		{domain.EmployerDeregistered{On: d("2006-09-01"), Reason: "关闭 closed"}, []string{"注销 deregistration", "关闭 closed"}},
		{domain.EmployerReinstated{On: d("2006-10-01"), Reason: "复工 reopened"}, []string{"复业 reinstatement", "复工 reopened"}},
		{domain.EventVoided{TargetID: "x", TargetSeq: 12, TargetType: "payment.received", TargetActor: "clerk:a", TargetOn: d("2006-12-10"), VoidedOn: d("2006-12-20"), Reason: "录入错误 typo"},
			[]string{"冲正 void of #12", "缴费 payment", "录入错误 typo"}},
		{domain.CreditRefunded{RefundedOn: d("2006-12-15"), AmountFen: 20000, ReceiptNo: "T-1"}, []string{"退费 refund 200.00 元", "T-1"}},
	}
}

// TestAuditorInChromium: an auditor finds an employer by name and opens it from the list (the
// employer replaces the list, its top in view; the back link shows the list as it was left),
// replays it as of a date and through a sequence (the rows and balances those of the API's
// history for that cut, the cut in the address, a refused value shown beside its control), reads
// each event as a line in 元, and sees a payment made elsewhere appear without a reload while
// uncut, and announced, not drawn, while cut. Screenshots at 1440, 1024 and 390 px.
func TestAuditorInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the auditor's test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newFreezeEnv(t, 60)

	// The employer: the company with the longest history among those a search for 公司 finds.
	var found struct {
		Total     int `json:"total"`
		Employers []struct {
			ID string `json:"employer_id"`
		} `json:"employers"`
	}
	decode(t, e.get(t, "/v1/employers?q=公司", tokAuditor), &found)
	if found.Total < 20 || len(found.Employers) != found.Total {
		t.Fatalf("a search for 公司 finds %d employers (%d listed), want a list longer than the screen", found.Total, len(found.Employers))
	}
	historyOf := func(id, query string) auditHistory {
		t.Helper()
		var h auditHistory
		decode(t, e.get(t, empPath(id, "history")+query, tokAuditor), &h)
		return h
	}
	var id string
	var full auditHistory
	for _, emp := range found.Employers {
		h := historyOf(emp.ID, "")
		if len(h.Events) > len(full.Events) && slices.ContainsFunc(h.Events, func(ev auditEvent) bool { return ev.Type == "payment.received" }) {
			id, full = emp.ID, h
		}
	}
	if id == "" {
		t.Fatal("no company with a payment")
	}
	row := func(seq uint64) string { return fmt.Sprintf(`#history tr[data-seq="%d"]`, seq) }
	resultLink := `#employer-results tr[data-employer="` + id + `"] a`
	detailJS := `document.getElementById('employer-detail')`

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	signIn(t, ctx, e.srv.URL+"/#/employer", tokAuditor)
	poll(t, ctx, 15*time.Second, `window.kz.searches >= 1`)

	// The arrears threshold is typed in 元, as the publicity list's is: 1,000.5 元 finds those
	// owing more than 100,050 fen; what is not an amount of 元 is said beside the form, unsent.
	var above struct {
		Total int `json:"total"`
	}
	decode(t, e.get(t, "/v1/employers?arrears_above_fen=100050", tokAuditor), &above)
	typed := func(v string) {
		t.Helper()
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('search-arrears-above').value = `+strconv.Quote(v)+`; document.querySelector('#employer-search button[type=submit]').click()`))
	}
	if above.Total == 0 {
		t.Fatal("nobody owes more than 1,000.5 元: the test would not show the threshold read")
	}
	before := eval[int](t, ctx, `window.kz.searches`)
	typed("１,000.5")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.searches > %d && document.getElementById('employer-results').dataset.total === '%d'`, before, above.Total))
	typed("1000.555")
	poll(t, ctx, 10*time.Second, `document.getElementById('employer-results-note').textContent.includes('欠费高于须为元') && document.getElementById('search-arrears-above').getAttribute('aria-invalid') === 'true' && document.getElementById('employer-results').hidden`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('search-arrears-above').value = ''`))

	// Search by name: a list longer than the screen.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('employer-q').value = '公司'; document.querySelector('#employer-search button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-results').dataset.total === '%d' && document.querySelectorAll('#employer-results tbody tr').length === %d`, found.Total, found.Total))
	if !eval[bool](t, ctx, `document.getElementById('employer-results').getBoundingClientRect().bottom > window.innerHeight`) {
		t.Fatalf("the list of %d employers fits the screen: the test would not show that the employer is drawn where the user looks", found.Total)
	}
	// Click a result near the top of the list: the employer replaces it, its top in view and its
	// name focused.
	listY := eval[float64](t, ctx, `window.scrollTo(0, window.scrollY + document.querySelector('`+resultLink+`').getBoundingClientRect().top - 100); window.scrollY`)
	if listY <= 0 {
		t.Fatalf("the list scrolled to %v: the test would not show that the scroll is kept", listY)
	}
	searches := eval[int](t, ctx, `window.kz.searches`)
	run(t, ctx, chromedp.Click(chromedp.CSS(resultLink)))
	poll(t, ctx, 10*time.Second, detailJS+`.dataset.version !== '' && !`+detailJS+`.hidden && document.querySelectorAll('#history tbody tr[data-seq]').length > 0`)
	where := eval[struct {
		Top, Inner   float64
		ListHidden   bool
		Active, Hash string
	}](t, ctx, `({Top: `+detailJS+`.getBoundingClientRect().top, Inner: window.innerHeight, ListHidden: document.getElementById('employer-results').getBoundingClientRect().height === 0,
		Active: document.activeElement.id, Hash: location.hash})`)
	if where.Top < 0 || where.Top >= where.Inner {
		t.Errorf("after the click the employer's top is at %.0f px, outside the window's 0–%.0f", where.Top, where.Inner)
	}
	if !where.ListHidden || where.Active != "employer-name" || where.Hash != "#/employer/"+id {
		t.Errorf("after the click: list hidden %v, focus on %q, address %q; want the list replaced, the name focused, #/employer/%s", where.ListHidden, where.Active, where.Hash, id)
	}
	// Back to the results: the same list, not searched again, scrolled where it was, the focus on
	// the employer's link.
	run(t, ctx, chromedp.Click(chromedp.ID("employer-back")))
	poll(t, ctx, 5*time.Second, `!document.getElementById('employer-finder').hidden && `+detailJS+`.hidden`)
	back := eval[struct {
		Y        float64
		Active   string
		Searches int
		Rows     int
		Q, Hash  string
	}](t, ctx, `({Y: window.scrollY, Active: (a => a.closest('tr') ? a.closest('tr').dataset.employer : a.id)(document.activeElement), Searches: window.kz.searches,
		Rows: document.querySelectorAll('#employer-results tbody tr').length, Q: document.getElementById('employer-q').value, Hash: location.hash})`)
	if back.Y < listY-1 || back.Y > listY+1 || back.Active != id || back.Searches != searches || back.Rows != found.Total || back.Q != "公司" {
		t.Errorf("back to the results: scrolled to %.0f (was %.0f), focus on %q, %d searches (was %d), %d rows, query %q, address %q; want the list as it was left, focused on %s",
			back.Y, listY, back.Active, back.Searches, searches, back.Rows, back.Q, back.Hash, id)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(resultLink)))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`!%s.hidden && document.querySelectorAll('#history tbody tr[data-seq]').length === %d`, detailJS, len(full.Events)))

	// Uncut: every event as the API answers it, with both times, each read as a line in 元.
	if diff := sameRows(eval[[]pageRow](t, ctx, readHistoryJS), full); len(diff) > 0 {
		t.Errorf("the page's history differs from the API's: %s", strings.Join(diff, "; "))
	}
	china := time.FixedZone("China", 8*3600)
	for i, r := range eval[[]pageRow](t, ctx, readHistoryJS) {
		at, err := time.Parse(time.RFC3339Nano, full.Events[i].RecordedAt)
		if want := at.In(china).Format("2006-01-02 15:04:05"); err != nil || r.Recorded != want {
			t.Errorf("#%d recorded at %q on the page, want %q (China time of %s)", r.Seq, r.Recorded, want, full.Events[i].RecordedAt)
			break
		}
	}
	if bad := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#history .ev-line')).map(l => l.textContent).filter(s => /undefined|NaN|null|object|^\S+$/.test(s))`); len(bad) > 0 {
		t.Errorf("lines of the history that do not read: %q", bad)
	}
	var pay auditEvent
	for _, ev := range full.Events {
		if ev.Type == "payment.received" {
			pay = ev
		}
	}
	var paid struct {
		AmountFen int64  `json:"amount_fen"`
		ReceiptNo string `json:"receipt_no"`
	}
	if err := json.Unmarshal(pay.Payload, &paid); err != nil {
		t.Fatal(err)
	}
	line := eval[string](t, ctx, `document.querySelector('`+row(pay.Seq)+` .ev-line').textContent`)
	if want := "缴费 payment " + yuanText(paid.AmountFen) + " 元"; !strings.HasPrefix(line, want) || !strings.Contains(line, "票据 receipt "+paid.ReceiptNo) {
		t.Errorf("the payment #%d reads %q, want it to start %q and name receipt %s", pay.Seq, line, want, paid.ReceiptNo)
	}
	raw := eval[struct {
		Open bool
		Text string
	}](t, ctx, `(d => ({Open: d.open, Text: d.querySelector('pre').textContent}))(document.querySelector('`+row(pay.Seq)+` details'))`)
	var rawPaid struct {
		AmountFen int64 `json:"amount_fen"`
	}
	if err := json.Unmarshal([]byte(raw.Text), &rawPaid); raw.Open || err != nil || rawPaid.AmountFen != paid.AmountFen {
		t.Errorf("the payment's raw payload: open %v, %q (%v); want it folded, the payload in fen", raw.Open, raw.Text, err)
	}
	// One line for each type of an employer's events.
	var samples []map[string]any
	var wants [][]string
	for _, s := range employerPayloads() {
		b, _ := json.Marshal(s.body)
		samples = append(samples, map[string]any{"type": s.body.EventType(), "payload": json.RawMessage(b)})
		wants = append(wants, s.want)
	}
	sb, _ := json.Marshal(samples)
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import('/assets/events.js').then(m => `+string(sb)+`.map(ev => m.describe(ev).textContent))`, chromedp.EvalAwaitPromise))
	if err != nil || len(lines) != len(samples) {
		t.Fatalf("describe the samples: %v (%d lines)", err, len(lines))
	}
	for i, l := range lines {
		for _, w := range wants[i] {
			if !strings.Contains(l, w) || strings.Contains(l, "undefined") {
				t.Errorf("%s reads %q, want it to say %q", samples[i]["type"], l, w)
			}
		}
	}

	// cut replays the employer through the page's controls and waits until the page shows the
	// API's history for that cut: the cut in the address, the rows and balances the API's.
	cut := func(asOf, throughSeq string) auditHistory {
		t.Helper()
		q := ""
		for _, kv := range [][2]string{{"as_of", asOf}, {"through_seq", throughSeq}} {
			if kv[1] != "" {
				q += map[bool]string{true: "?", false: "&"}[q == ""] + kv[0] + "=" + kv[1]
			}
		}
		want := historyOf(id, q)
		shown := eval[int](t, ctx, `window.kz.employerShown`)
		setCut(t, ctx, asOf, throughSeq)
		run(t, ctx, chromedp.Click(chromedp.CSS(`#employer-cut button[type=submit]`)))
		poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.employerShown > %d && location.hash === '#/employer/%s%s'`, shown, id, q))
		if got := eval[map[string]string](t, ctx, `Object.assign({}, `+detailJS+`.dataset)`); got["asOf"] != asOf || got["throughSeq"] != throughSeq || got["cut"] != "true" {
			t.Errorf("cut at %q/%q: the page says as_of %q, through_seq %q, cut %q", asOf, throughSeq, got["asOf"], got["throughSeq"], got["cut"])
		}
		rows := eval[[]pageRow](t, ctx, readHistoryJS)
		if diff := sameRows(rows, want); len(diff) > 0 {
			t.Errorf("cut at %q/%q: the page's history differs from the API's: %s", asOf, throughSeq, strings.Join(diff, "; "))
		}
		last, _ := strconv.ParseUint(throughSeq, 10, 64)
		for _, r := range rows {
			if asOf != "" && r.OccurredOn > asOf || last != 0 && r.Seq > last {
				t.Errorf("cut at %q/%q: the page shows #%d of %s", asOf, throughSeq, r.Seq, r.OccurredOn)
			}
		}
		if len(rows) == 0 || len(rows) >= len(full.Events) {
			t.Errorf("cut at %q/%q: %d rows of %d: the cut should keep some and leave some", asOf, throughSeq, len(rows), len(full.Events))
		}
		return want
	}
	totals := func() map[string]string {
		return eval[map[string]string](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#employer-totals [data-field]')).map(d => [d.dataset.field, d.dataset.value]))`)
	}

	// As of a date: the events dated on or before it, the balances as the API's for that day.
	var days []string
	for _, ev := range full.Events {
		days = append(days, ev.OccurredOn)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	asOf := days[len(days)/2]
	cut(asOf, "")
	var then struct {
		AsOf   string           `json:"as_of"`
		Totals map[string]int64 `json:"totals"`
	}
	decode(t, e.get(t, empPath(id, "")+"?as_of="+asOf, tokAuditor), &then)
	if got := eval[string](t, ctx, `document.querySelector('#employer-facts [data-field="as_of"]').dataset.value`); got != then.AsOf || got != asOf {
		t.Errorf("as of %s the page's facts are as of %q, the API's %q", asOf, got, then.AsOf)
	}
	got := totals()
	for _, f := range []string{"due_fen", "paid_fen", "waived_fen", "outstanding_fen", "late_fee_fen", "credit_fen"} {
		if got[f] != strconv.FormatInt(then.Totals[f], 10) {
			t.Errorf("as of %s the page shows %s %s, the API %d", asOf, f, got[f], then.Totals[f])
		}
	}
	// Through a sequence: the events recorded up to it; the balances are the history's.
	through := full.Events[len(full.Events)/3].Seq
	seqCut := cut("", strconv.FormatUint(through, 10))
	got = totals()
	for _, f := range []string{"due_fen", "paid_fen", "waived_fen", "outstanding_fen", "late_fee_fen", "credit_fen"} {
		if got[f] != strconv.Itoa(seqCut.Balances[f]) {
			t.Errorf("through #%d the page shows %s %s, the API's history %d", through, f, got[f], seqCut.Balances[f])
		}
	}
	if !eval[bool](t, ctx, `!document.getElementById('employer-newer').hidden`) {
		t.Errorf("cut through #%d of an employer at #%d, the page does not say that newer events exist", through, full.Version)
	}
	// A date the server refuses: its error beside the control, which gets the focus; the rows
	// are left as they were.
	rowsBefore := eval[int](t, ctx, `document.querySelectorAll('#history tbody tr[data-seq]').length`)
	setCut(t, ctx, "2006-04-31", strconv.FormatUint(through, 10))
	run(t, ctx, chromedp.Click(chromedp.CSS(`#employer-cut button[type=submit]`)))
	poll(t, ctx, 10*time.Second, `document.getElementById('cut-as-of-error').textContent !== ''`)
	refused := eval[struct {
		Error, Active, Invalid, SeqError string
		Rows                             int
	}](t, ctx, `({Error: document.getElementById('cut-as-of-error').textContent, Active: document.activeElement.id, Invalid: document.getElementById('cut-as-of').getAttribute('aria-invalid'),
		SeqError: document.getElementById('cut-through-seq-error').textContent, Rows: document.querySelectorAll('#history tbody tr[data-seq]').length})`)
	if !strings.Contains(refused.Error, "30 days") || refused.Active != "cut-as-of" || refused.Invalid != "true" || refused.SeqError != "" || refused.Rows != rowsBefore {
		t.Errorf("as of 2006-04-31: error %q, focus on %q, aria-invalid %q, through_seq's error %q, %d rows (were %d); want the server's word beside the date, focused",
			refused.Error, refused.Active, refused.Invalid, refused.SeqError, refused.Rows, rowsBefore)
	}
	shot(t, ctx, "kuozheng-auditor-refused.png")

	// The address replays too: both cuts at once, the controls showing them.
	both := historyOf(id, fmt.Sprintf("?as_of=%s&through_seq=%d", asOf, through))
	shown := eval[int](t, ctx, `window.kz.employerShown`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = '#/employer/%s?as_of=%s&through_seq=%d'`, id, asOf, through)))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.employerShown > %d`, shown))
	if diff := sameRows(eval[[]pageRow](t, ctx, readHistoryJS), both); len(diff) > 0 {
		t.Errorf("as of %s through #%d from the address: %s", asOf, through, strings.Join(diff, "; "))
	}
	if got := eval[string](t, ctx, `document.getElementById('cut-as-of').value + '|' + document.getElementById('cut-through-seq').value + '|' + document.getElementById('cut-as-of-error').textContent`); got != fmt.Sprintf("%s|%d|", asOf, through) {
		t.Errorf("the controls read %q after the address named as_of %s, through_seq %d", got, asOf, through)
	}

	// A payment made elsewhere while cut: announced, not drawn.
	loadID := eval[string](t, ctx, `window.kz.loadId`)
	p1 := e.mustWrite(t, empPath(id, "payments"), tokAdmin, paymentBody("AUD-1", 5000, "2006-12-20")).num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-newer').dataset.version === '%d' && !document.getElementById('employer-newer').hidden`, p1))
	if got := eval[int](t, ctx, `document.querySelectorAll('#history tbody tr[data-seq]').length`); got != len(both.Events) {
		t.Errorf("cut, after a payment elsewhere the page shows %d rows, want the %d it showed", got, len(both.Events))
	}
	// Reset: every event, the payment among them.
	run(t, ctx, chromedp.Click(chromedp.ID("cut-reset")))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`location.hash === '#/employer/%s' && document.querySelector('%s') !== null`, id, row(uint64(p1))))
	if got := eval[string](t, ctx, `document.getElementById('cut-as-of').value + document.getElementById('cut-through-seq').value + `+detailJS+`.dataset.cut`); got != "false" {
		t.Errorf("after the reset the controls and the page's cut read %q, want them empty and uncut", got)
	}
	// Uncut, a payment made elsewhere appears in the open history without a reload.
	checks := eval[int](t, ctx, `window.kz.employerChecks || 0`)
	p2 := e.mustWrite(t, empPath(id, "payments"), tokAdmin, paymentBody("AUD-2", 123456, "2006-12-21")).num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.querySelector('%s') !== null && %s.dataset.version === '%d'`, row(uint64(p2)), detailJS, p2))
	if line := eval[string](t, ctx, `document.querySelector('`+row(uint64(p2))+` .ev-line').textContent`); !strings.HasPrefix(line, "缴费 payment 1,234.56 元") || !strings.Contains(line, "AUD-2") {
		t.Errorf("the payment made elsewhere reads %q, want 缴费 payment 1,234.56 元 with receipt AUD-2", line)
	}
	if diff := sameRows(eval[[]pageRow](t, ctx, readHistoryJS), historyOf(id, fmt.Sprintf("?min_seq=%d", p2))); len(diff) > 0 {
		t.Errorf("after the payment the page's history differs from the API's: %s", strings.Join(diff, "; "))
	}
	if got := eval[string](t, ctx, `window.kz.loadId`); got != loadID {
		t.Errorf("the page was loaded again: the history must follow in place")
	}
	if got := eval[int](t, ctx, `window.kz.employerChecks`); got <= checks {
		t.Errorf("the page drew the payment without checking the employer's version (%d checks, were %d)", got, checks)
	}

	// Screenshots for review; on a phone each event is a card and nothing is wider than the screen.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shot(t, ctx, "kuozheng-auditor-1440.png")
	run(t, ctx, chromedp.EmulateViewport(1024, 768))
	poll(t, ctx, 5*time.Second, `window.innerWidth === 1024`)
	shot(t, ctx, "kuozheng-auditor-1024.png")
	run(t, ctx, chromedp.EmulateViewport(390, 844))
	poll(t, ctx, 5*time.Second, `window.innerWidth === 390`)
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('#history thead')).display + '|' + Array.from(document.querySelectorAll('#history tbody tr')).filter(tr => tr.getBoundingClientRect().right > window.innerWidth).length`); got != "none|0" {
		t.Errorf("at 390 px the history's head display and the rows wider than the screen: %q, want cards (none|0)", got)
	}
	widths := eval[map[string]float64](t, ctx, `({doc: document.documentElement.scrollWidth, inner: window.innerWidth})`)
	if widths["doc"] > widths["inner"]+1 {
		wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#view-employer *')).filter(n => n.getBoundingClientRect().right > window.innerWidth + 1 && !n.closest('.table-wrap:not(:has(#history))')).slice(0, 8).map(n => n.tagName + '#' + n.id + '.' + n.className + ' ' + Math.round(n.getBoundingClientRect().right))`)
		t.Errorf("at 390 px the employer page is %v px wide in a window of %v: %v", widths["doc"], widths["inner"], wide)
	}
	// No card's text is cut: a due date or a recording time wider than its cell.
	if cut := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#history td, #employer-lines td')).filter(td => td.scrollWidth > td.clientWidth + 1).slice(0, 8).map(td => td.className + ': ' + td.textContent.trim().slice(0, 40))`); len(cut) > 0 {
		t.Errorf("at 390 px these cells are cut: %q", cut)
	}
	shot(t, ctx, "kuozheng-auditor-390.png")
}
