package api_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuozheng/kuozheng/domain"
)

// attributesRead is the part of GET /v1/employers/{id} the attributes' test compares.
type attributesRead struct {
	Industry         string                     `json:"industry"`
	Sector           string                     `json:"sector"`
	OwnershipCode    string                     `json:"ownership_code"`
	Park             string                     `json:"park"`
	InIndustrialPark bool                       `json:"in_industrial_park"`
	Agency           bool                       `json:"agency"`
	Migrants         int64                      `json:"migrants"`
	MigrantsEnrolled map[domain.Insurance]int64 `json:"migrants_enrolled"`
	Retirees         int64                      `json:"retirees"`
	Inspected        []string                   `json:"inspected"`
}

// factsJS reads the employer page's facts that carry a value: data-field → data-value.
const factsJS = `Object.fromEntries(Array.from(document.querySelectorAll('#employer-facts [data-field]')).map(d => [d.dataset.field, d.dataset.value]))`

// factTextJS is the text a fact of the employer page shows.
func factTextJS(field string) string {
	return `document.querySelector('#employer-facts [data-field="` + field + `"] dd').textContent`
}

// submitJS clicks a desk form's submit button.
func submitJS(form string) string {
	return `document.querySelector('form[data-form="` + form + `"] button[type=submit]').click()`
}

// TestDeskAttributesAndInspectionsInChromium: in a real browser, a clerk registers a payer with
// an industry, sector, ownership code and park chosen from menus named in Chinese and English
// (a coal sector in manufacturing is refused beside the sector, nothing appended), and the API's
// read of the payer shows what was chosen; the employer page shows the attributes with their
// names; a change of them with a coal sector is refused beside the sector, a change out of the
// park into an agency is recorded and read in the history; the survey counts migrant workers
// and the enrollment form asks for retirees only for medical insurance; the clerk has no
// inspection form, an auditor records an inspection through one, and both the auditor's history
// and the clerk's open page show it; replayed as of an earlier day, the page shows the facts of
// that day.
func TestDeskAttributesAndInspectionsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	click := func(js string) { run(t, ctx, chromedp.Evaluate[chromedp.Void](js)) }
	detailJS := `document.getElementById('employer-detail')`

	// The clerk's registration form: industries and ownership codes named in both languages.
	signIn(t, ctx, e.srv.URL+"/#/employer", tokClerkA)
	poll(t, ctx, 15*time.Second, `document.querySelector('#desk-register form[data-form="register"]') !== null`)
	menu := func(field string) []string {
		return eval[[]string](t, ctx, `Array.from(document.querySelectorAll('form[data-form="register"] [data-path="`+field+`"] option')).filter(o => o.value).map(o => o.textContent)`)
	}
	if got := menu("industry"); len(got) != len(domain.Industries) || !slices.Contains(got, "C 制造业 manufacturing") || !slices.Contains(got, "B 采矿业 mining") {
		t.Errorf("the industry menu offers %d choices %q, want the %d sections of GB/T 4754-2002 named in Chinese and English", len(got), got, len(domain.Industries))
	}
	if got := menu("ownership_code"); len(got) != len(domain.OwnershipCodes) || !slices.Contains(got, "173 私营有限责任（公司） private limited liability company") {
		t.Errorf("the ownership menu offers %d choices %q, want the %d codes of GB/T 12402-2000 named in Chinese and English", len(got), got, len(domain.OwnershipCodes))
	}
	if got := menu("sector"); len(got) != len(domain.Sectors) || !slices.Contains(got, "煤矿 coal mining") {
		t.Errorf("the sector menu offers %q, want the plan's %d sectors", got, len(domain.Sectors))
	}

	// A coal mine in manufacturing: refused beside the sector, which gets the focus; nothing appended.
	org := orgCode(18001)
	park := "南康家具产业园"
	fill(t, ctx, "register", map[string]string{"name": "南康 测试家具厂", "kind": "enterprise", "org_code": org, "risk_class": "2", "registered_on": "2006-04-03",
		"industry": "C", "sector": "coal", "ownership_code": "173", "park": park, "agency": "false"})
	before := e.count()
	click(submitJS("register"))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="register"]').dataset.errorStatus === '400' && document.querySelector('form[data-form="register"] [data-error-for="sector"]').textContent !== ''`)
	if got := eval[string](t, ctx, `document.activeElement.dataset.path || ''`); got != "sector" {
		t.Errorf("after the refusal the focus is on %q, want sector", got)
	}
	e.wantUnchanged(t, before)
	if got := eval[int](t, ctx, `window.kz.desk.written.length`); got != 0 {
		t.Errorf("the page counts %d writes after a refusal, want 0", got)
	}

	// A furniture maker: recorded, the page opens it, the API reads what the form chose.
	fill(t, ctx, "register", map[string]string{"sector": "furniture"})
	click(submitJS("register"))
	waitWritten(t, ctx, 1)
	poll(t, ctx, 15*time.Second, `/^#\/employer\/[^?]+/.test(location.hash) && `+detailJS+`.dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	id := eval[string](t, ctx, detailJS+`.dataset.employer`)
	// readPayer reads the payer afresh (a field the answer omits is not left from an earlier read).
	readPayer := func(token string, minSeq int64) (a attributesRead) {
		decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, ""), minSeq), token), &a)
		return a
	}
	read := readPayer(tokClerkA, 0)
	if read.Industry != "C" || read.Sector != "furniture" || read.OwnershipCode != "173" || read.Park != park || !read.InIndustrialPark || read.Agency {
		t.Errorf("the payer registered through the form reads %+v, want industry C, sector furniture, ownership 173, in park %s, no agency", read, park)
	}

	// The employer page shows the attributes with their names.
	facts := eval[map[string]string](t, ctx, factsJS)
	if facts["industry"] != "C" || facts["sector"] != "furniture" || facts["ownership_code"] != "173" || facts["park"] != park || facts["agency"] != "false" {
		t.Errorf("the page's facts read %v, want industry C, sector furniture, ownership 173, park %s, no agency", facts, park)
	}
	for field, want := range map[string]string{"industry": "C 制造业 manufacturing", "sector": "家具制造 furniture making",
		"ownership_code": "173 私营有限责任（公司） private limited liability company", "park": park, "agency": "否 no"} {
		if got := eval[string](t, ctx, factTextJS(field)); got != want {
			t.Errorf("the page shows %s as %q, want %q", field, got, want)
		}
	}

	// The clerk's desk has no inspection form; the clerk's change form opens from the facts.
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#desk-employer .desk-tabs button')).map(b => b.dataset.form)`); slices.Contains(got, "inspection") || slices.Contains(got, "change") {
		t.Errorf("a clerk's desk menu offers %v: no inspection form, and the change form is opened from the facts", got)
	}
	if got := eval[int](t, ctx, `document.querySelectorAll('[data-form="inspection"]').length`); got != 0 {
		t.Errorf("a clerk's page holds %d inspection forms, want none", got)
	}
	click(`document.getElementById('employer-change').click()`)
	poll(t, ctx, 5*time.Second, `document.querySelector('#desk-employer form[data-form="change"]') !== null`)
	if got := eval[string](t, ctx, `document.activeElement.dataset.path + '|' + document.activeElement.value`); got != "on|2006-12-31" {
		t.Errorf("the change form opens focused on %q, want its date, today's business date (on|2006-12-31)", got)
	}

	// A coal mine in the payer's manufacturing section: refused beside the sector, nothing appended.
	fill(t, ctx, "change", map[string]string{"sector": "coal"})
	before = e.count()
	click(submitJS("change"))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="change"]').dataset.errorStatus === '400' && document.querySelector('form[data-form="change"] [data-error-for="sector"]').textContent !== ''`)
	if got := eval[string](t, ctx, `document.activeElement.dataset.path || ''`); got != "sector" {
		t.Errorf("after the refusal of the change the focus is on %q, want sector", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="change"] [data-error-for="sector"]').textContent`); !strings.Contains(got, "B") {
		t.Errorf("the refusal beside the sector reads %q, want the server's word naming section B", got)
	}
	e.wantUnchanged(t, before)
	shot(t, ctx, "kuozheng-desk-change-refused.png")

	// Out of the park, a labour agency: one change, its row in the history names both.
	fill(t, ctx, "change", map[string]string{"sector": "", "in_industrial_park": "false", "agency": "true"})
	click(submitJS("change"))
	changeSeq := waitWritten(t, ctx, 2)
	row := fmt.Sprintf(`#history tr[data-seq="%d"]`, changeSeq)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.querySelector('%s') !== null && %s.dataset.version === '%d'`, row, detailJS, changeSeq))
	line := eval[string](t, ctx, `document.querySelector('`+row+` .ev-line').textContent`)
	for _, want := range []string{"变更 changed", "园区内 in a park → 否 no", "园区 park → 无 none", "劳务派遣 labour agency → 是 yes"} {
		if !strings.Contains(line, want) {
			t.Errorf("the change #%d reads %q, want it to say %q", changeSeq, line, want)
		}
	}
	if strings.Contains(line, "sector") {
		t.Errorf("the change #%d reads %q: the sector was left unchanged", changeSeq, line)
	}
	read = readPayer(tokClerkA, changeSeq)
	if read.Park != "" || read.InIndustrialPark || !read.Agency || read.Sector != "furniture" {
		t.Errorf("after the change the payer reads %+v, want out of the park, an agency, still furniture", read)
	}
	if got := eval[map[string]string](t, ctx, factsJS); got["park"] != "" || got["agency"] != "true" || got["sector"] != "furniture" {
		t.Errorf("after the change the page's facts read %v, want no park, an agency, furniture", got)
	}

	// The survey's migrant workers; the enrollment asks for retirees for medical insurance only.
	openForm(t, ctx, "survey")
	fill(t, ctx, "survey", map[string]string{"as_of": "2006-04-10", "workforce": "120", "migrants": "80"})
	click(submitJS("survey"))
	waitWritten(t, ctx, 3)
	openForm(t, ctx, "enrollment")
	retireesShown := `!document.querySelector('form[data-form="enrollment"] [data-path="retirees"]').closest('.field').hidden`
	if eval[bool](t, ctx, retireesShown) {
		t.Errorf("the enrollment form asks for retirees for %s", eval[string](t, ctx, `document.querySelector('form[data-form="enrollment"] [data-path="insurance"]').value`))
	}
	fill(t, ctx, "enrollment", map[string]string{"insurance": "medical"})
	poll(t, ctx, 5*time.Second, retireesShown)
	fill(t, ctx, "enrollment", map[string]string{"headcount": "100", "effective_on": "2006-04-10", "migrants": "70", "retirees": "6"})
	click(submitJS("enrollment"))
	enrolSeq := waitWritten(t, ctx, 4)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`%s.dataset.version === '%d'`, detailJS, enrolSeq))
	read = readPayer(tokClerkA, enrolSeq)
	if read.Migrants != 80 || read.MigrantsEnrolled[domain.Medical] != 70 || read.Retirees != 6 {
		t.Errorf("after the survey and enrollment the payer reads %+v, want 80 migrant workers, 70 enrolled for medical, 6 retirees", read)
	}
	if got := eval[map[string]string](t, ctx, factsJS); got["migrants"] != "80" || got["retirees"] != "6" || eval[string](t, ctx, factTextJS("migrants_enrolled")) != "医疗 70" {
		t.Errorf("the page's facts read %v (migrants enrolled %q), want 80 migrant workers, 医疗 70 enrolled, 6 retirees", got, eval[string](t, ctx, factTextJS("migrants_enrolled")))
	}
	// Pension chosen again: the retirees are neither asked for nor sent.
	fill(t, ctx, "enrollment", map[string]string{"insurance": "pension", "retirees": "5"})
	poll(t, ctx, 5*time.Second, `!(`+retireesShown+`)`)
	click(submitJS("enrollment"))
	waitWritten(t, ctx, 5)
	var hist auditHistory
	decode(t, e.get(t, empPath(id, "history"), tokClerkA), &hist)
	if last := hist.Events[len(hist.Events)-1]; last.Type != "enrollment.recorded" || strings.Contains(string(last.Payload), "retirees") {
		t.Errorf("the pension enrollment recorded %s %s, want no retirees", last.Type, last.Payload)
	}
	shot(t, ctx, "kuozheng-desk-attributes.png")

	// The auditor, in a tab of its own: the inspection form, no change of the registration.
	aud, cancelAud := chromedp.NewContext(ctx)
	defer cancelAud()
	signIn(t, aud, e.srv.URL+"/#/employer/"+id, tokAuditor)
	poll(t, aud, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="inspection"]') !== null`)
	if !eval[bool](t, aud, `document.getElementById('employer-actions').hidden`) {
		t.Errorf("an auditor is offered the change of the registration's details")
	}
	openForm(t, aud, "inspection")
	if got := eval[[]string](t, aud, `Array.from(document.querySelectorAll('form[data-form="inspection"] [data-path]')).map(c => c.dataset.path)`); !slices.Equal(got, []string{"on", "team", "scope", "result", "note"}) {
		t.Errorf("the inspection form asks for %v, want on, team, scope, result, note", got)
	}
	fill(t, aud, "inspection", map[string]string{"on": "2006-11-20", "team": "跨县交叉稽核组", "scope": "full", "result": "clean", "note": "园区专项"})
	before = e.count()
	run(t, aud, chromedp.Evaluate[chromedp.Void](submitJS("inspection")))
	inspSeq := waitWritten(t, aud, 1)
	if got := e.count(); got != before+1 {
		t.Errorf("the inspection appended %d messages, want 1", got-before)
	}
	row = fmt.Sprintf(`#history tr[data-seq="%d"]`, inspSeq)
	poll(t, aud, 10*time.Second, fmt.Sprintf(`document.querySelector('%s[data-type="inspection.recorded"]') !== null`, row))
	line = eval[string](t, aud, `document.querySelector('`+row+` .ev-line').textContent`)
	for _, want := range []string{"检查 inspection 未发现问题 nothing found", "检查组 team 跨县交叉稽核组", "范围 scope 全面 full", "园区专项"} {
		if !strings.Contains(line, want) {
			t.Errorf("the inspection #%d reads %q, want it to say %q", inspSeq, line, want)
		}
	}
	if got := eval[string](t, aud, `document.querySelector('`+row+`').dataset.occurredOn`); got != "2006-11-20" {
		t.Errorf("the inspection #%d is dated %q, want 2006-11-20", inspSeq, got)
	}
	read = readPayer(tokAuditor, inspSeq)
	if !slices.Equal(read.Inspected, []string{"2006-11-20"}) {
		t.Errorf("the API reads the payer inspected on %v, want [2006-11-20]", read.Inspected)
	}
	poll(t, aud, 10*time.Second, `document.querySelector('#employer-facts [data-field="inspected"]').dataset.value === '2006-11-20'`)
	// The clerk's page, open all along, shows the inspection's date without a reload.
	poll(t, ctx, 15*time.Second, `document.querySelector('#employer-facts [data-field="inspected"]').dataset.value === '2006-11-20'`)
	// Replayed as of a day before the change and the inspection: in its park, not an agency, not
	// inspected; the survey already counted.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/employer/`+id+`?as_of=2006-06-30'`))
	poll(t, ctx, 10*time.Second, detailJS+`.dataset.asOf === '2006-06-30' && document.querySelector('#employer-facts [data-field="as_of"]').dataset.value === '2006-06-30'`)
	if got := eval[map[string]string](t, ctx, factsJS); got["park"] != park || got["agency"] != "false" || got["inspected"] != "" || got["migrants"] != "80" || got["sector"] != "furniture" {
		t.Errorf("as of 2006-06-30 the page's facts read %v, want park %s, no agency, no inspection, 80 migrant workers, furniture", got, park)
	}
	// The clerk may not record one through the API either.
	before = e.count()
	wantError(t, e.post(t, empPath(id, "inspections"), tokClerkA, `{"on":"2006-12-01","team":"一组","scope":"full","result":"clean"}`), http.StatusForbidden, "forbidden", "")
	e.wantUnchanged(t, before)
	run(t, aud, chromedp.EmulateViewport(1280, 900))
	shot(t, aud, "kuozheng-desk-inspection.png")
}
