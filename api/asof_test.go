package api_test

import (
	"fmt"
	"testing"
)

// TestEmployerReadAnswersEveryFieldAsOfItsDate builds one employer whose name, county, risk
// class, workforce, enrollment and enforcement stage all change during 2006, with one survey
// recorded late (dated 06-01, recorded after the 08-01 one), and reads it as of several dates:
// every field must be the one dated by as_of, not today's or the last recorded.
func TestEmployerReadAnswersEveryFieldAsOfItsDate(t *testing.T) {
	e := newAuthEnv(t)
	org := "10000004-0"
	id := e.register(t, tokAdmin, org, "360702") // registered 2006-04-03, risk class 1
	var last resp
	write := func(sub, body string) { last = e.mustWrite(t, empPath(id, sub), tokAdmin, body) }
	write("surveys", `{"as_of":"2006-04-10","workforce":50}`)
	write("enrollments", `{"insurance":"pension","headcount":40,"effective_on":"2006-05-01"}`)
	// 28% of 4,000,000 = 1,120,000 fen due 2006-05-15.
	write("declarations", `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":40,"wage_base_fen":4000000}]}`)
	write("enforcement", `{"step":"notice","on":"2006-06-01","doc_no":"N-1","deadline":"2006-06-16"}`)
	write("changes", `{"on":"2006-07-01","name":"新名称厂","risk_class":3,"in_industrial_park":true,"ownership":"private"}`)
	write("transfer", `{"on":"2006-07-15","county":"360721"}`)
	write("surveys", `{"as_of":"2006-08-01","workforce":60}`)
	write("enrollments", `{"insurance":"pension","headcount":55,"effective_on":"2006-08-01"}`)
	write("enforcement", `{"step":"inspection","on":"2006-08-10","doc_no":"I-1"}`)
	write("payments", paymentBody("R-1", 1120000, "2006-09-01"))
	write("surveys", `{"as_of":"2006-06-01","workforce":45}`) // recorded last, dated before the 08-01 survey
	version := last.num("version")

	oldName, newName := "单位 "+org, "新名称厂"
	tests := []struct {
		name   string
		asOf   string
		fields map[string]string
		// pension is the enrolled pension headcount ("" when no enrollment is dated by as_of).
		pension string
		lines   int
		totals  map[string]string
	}{
		{
			name: "before entry only the identity it entered with", asOf: "2006-04-01",
			fields: map[string]string{"name": oldName, "county": "360702", "risk_class": "1", "in_industrial_park": "false",
				"entered_on": "2006-04-03", "registered": "false", "workforce": "0", "enforcement_stage": "none"},
			totals: map[string]string{"due_fen": "0", "outstanding_fen": "0", "late_fee_fen": "0"},
		},
		{
			// Fee: 5 days (05-16 to 05-20) × 1,120,000 × 20 bp = 11,200 fen.
			name: "after the declaration: first survey and enrollment, no step", asOf: "2006-05-20",
			fields: map[string]string{"name": oldName, "county": "360702", "risk_class": "1", "in_industrial_park": "false",
				"ownership": "<nil>", "registered": "true", "workforce": "50", "enforcement_stage": "none"},
			pension: "40", lines: 1,
			totals: map[string]string{"due_fen": "1120000", "outstanding_fen": "1120000", "late_fee_fen": "11200", "arrears_current_year_fen": "1120000"},
		},
		{
			name: "after the notice: the late-recorded survey dated 06-01 counts", asOf: "2006-06-30",
			fields:  map[string]string{"name": oldName, "county": "360702", "risk_class": "1", "workforce": "45", "enforcement_stage": "notice"},
			pension: "40", lines: 1,
		},
		{
			name: "after the change and the transfer: new name, class, park and county", asOf: "2006-07-20",
			fields: map[string]string{"name": newName, "county": "360721", "risk_class": "3", "in_industrial_park": "true",
				"ownership": "private", "workforce": "45", "enforcement_stage": "notice"},
			pension: "40", lines: 1,
		},
		{
			name: "after the inspection: the 08-01 survey and enrollment, not the later-recorded survey", asOf: "2006-08-31",
			fields:  map[string]string{"name": newName, "county": "360721", "workforce": "60", "enforcement_stage": "inspection"},
			pension: "55", lines: 1,
		},
		{
			// Paid 09-01, which bears no fee: 108 days (16 + 30 + 31 + 31, 05-16 to 08-31) ×
			// 1,120,000 × 20 bp = 241,920 fen of fee, unpaid; no principal in arrears.
			name: "after the payment clears the arrears the case is closed", asOf: "2006-09-30",
			fields:  map[string]string{"name": newName, "county": "360721", "workforce": "60", "enforcement_stage": "closed"},
			pension: "55", lines: 1,
			totals: map[string]string{"paid_fen": "1120000", "outstanding_fen": "0", "late_fee_fen": "241920", "arrears_current_year_fen": "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, empPath(id, "")+"?as_of="+tt.asOf, tokAdmin)
			if r.Status != 200 {
				t.Fatalf("GET employer as of %s: %s", tt.asOf, r)
			}
			if r.str("as_of") != tt.asOf || r.num("version") != version || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, version) {
				t.Errorf("as_of %q, version %d, ETag %s: want %s and the ledger's version %d whatever as_of",
					r.str("as_of"), r.num("version"), r.Header.Get("ETag"), tt.asOf, version)
			}
			for k, want := range tt.fields {
				if got := fmt.Sprint(r.JSON[k]); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			enrolled, _ := r.JSON["enrolled"].(map[string]any)
			if got := fmt.Sprint(enrolled["pension"]); (tt.pension == "" && len(enrolled) != 0) || (tt.pension != "" && got != tt.pension) {
				t.Errorf("enrolled %v, want pension %q", enrolled, tt.pension)
			}
			if lines, _ := r.JSON["lines"].([]any); len(lines) != tt.lines {
				t.Errorf("%d lines, want %d", len(lines), tt.lines)
			}
			totals, _ := r.JSON["totals"].(map[string]any)
			for k, want := range tt.totals {
				if got := fmt.Sprint(totals[k]); got != want {
					t.Errorf("totals.%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

// TestEmployerReadCountsMissedWorkersFromTheFindingDate checks that the enrolled headcount read
// as of a date is the one the county figures count as insured: the latest enrollment, plus the
// workers an audit found missing from the finding's date (DOMAIN: missed_workers adds
// extra_headcount to the enrolled headcount).
func TestEmployerReadCountsMissedWorkersFromTheFindingDate(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokAdmin, "10000018-X", "360702")
	e.mustWrite(t, empPath(id, "enrollments"), tokAdmin, `{"insurance":"pension","headcount":40,"effective_on":"2006-05-01"}`)
	e.mustWrite(t, empPath(id, "audit-findings"), tokAdmin,
		`{"found_on":"2006-08-20","kind":"missed_workers","period":"2006-07","insurance":"pension","extra_headcount":5,"extra_wage_base_fen":500000,"redeclare_by":"2006-09-20"}`)
	tests := []struct {
		name, asOf, pension string
	}{
		{"the day before the finding: the enrollment alone", "2006-08-19", "40"},
		{"on the finding date: 40 enrolled and 5 found missing", "2006-08-20", "45"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, empPath(id, "")+"?as_of="+tt.asOf, tokAdmin)
			enrolled, _ := r.JSON["enrolled"].(map[string]any)
			if r.Status != 200 || fmt.Sprint(enrolled["pension"]) != tt.pension {
				t.Fatalf("as of %s: %s, want pension enrolled %s", tt.asOf, r, tt.pension)
			}
		})
	}
}
