package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The operators' kit: the Grafana dashboard and the Prometheus alert rules with their tests.
const (
	dashboardFile = "../scripts/deploy/grafana/kuozheng.json"
	rulesFile     = "../scripts/deploy/prometheus/kuozheng-rules.yml"
	ruleTestsFile = "../scripts/deploy/prometheus/kuozheng-rules-test.yml"
)

// prometheusOwn are series Prometheus makes itself at each scrape, not the server.
var prometheusOwn = map[string]bool{"up": true}

// promqlKeywords are PromQL's words that are neither metrics nor functions (case does not matter).
var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}

// promqlLabelLists are the keywords whose parenthesised list names labels, not series.
var promqlLabelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// skipPast returns the index after the close that ends the bracket opened at s[i], passing over
// quoted strings, whose text may hold any bracket.
func skipPast(s string, i int, close byte) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case close:
			return i + 1
		case '"', '\'', '`':
			i = skipString(s, i) - 1
		}
	}
	return i
}

// skipString returns the index after the quoted string that starts at s[i].
func skipString(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return i
}

// promqlMetricNames lists the metric names an expression reads: its identifiers that are not
// functions or aggregations (followed by "(", or by "by" or "without"), keywords, label names (in {…} and in the lists of
// by, without, on, ignoring, group_left and group_right), numbers, durations, strings or Grafana
// variables ($name, ${name}).
func promqlMetricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipPast(expr, i, '}')
		case c == '[':
			i = skipPast(expr, i, ']')
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skipPast(expr, i, '}')
			}
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := strings.ToLower(expr[i:j])
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\n' || expr[k] == '\t') {
				k++
			}
			call := k < len(expr) && expr[k] == '('
			if !call {
				// An aggregation may take its by or without list before its argument.
				w := k
				for w < len(expr) && isIdent(expr[w]) {
					w++
				}
				follow := strings.ToLower(expr[k:w])
				call = (follow == "by" || follow == "without") && !promqlKeywords[word]
			}
			switch {
			case promqlLabelLists[word] && call:
				j = skipPast(expr, k, ')')
			case promqlKeywords[word] || call:
			default:
				names = append(names, expr[i:j])
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func TestPromQLMetricNamesAreTheSeriesAnExpressionReads(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string
	}{
		{"a bare selector is its metric", "up", []string{"up"}},
		{"label matchers are not metrics", `kuozheng_ready{job="kuozheng", instance=~"$instance"}`, []string{"kuozheng_ready"}},
		{"functions and aggregations are not metrics, what they read is",
			`histogram_quantile(0.99, sum by (route, le) (rate(x_bucket{job="k"}[5m])))`, []string{"x_bucket"}},
		{"the label lists of by, without, on, ignoring and group_left are not metrics",
			`sum without (kind) (a) / on (instance) group_left (kind) b / ignoring(le) c`, []string{"a", "b", "c"}},
		{"binary keywords, bool, numbers and durations are not metrics, in any case",
			`a > bool 0.5 AND b offset 5m or c unless d > 1e18 < Inf`, []string{"a", "b", "c", "d"}},
		{"Grafana's variables are not metrics", `rate(a[$__rate_interval]) * ${scale} + $offset`, []string{"a"}},
		{"strings are not metrics, whatever they hold", `label_replace(a, "dst", "$1 b} {", "src", "(.*)")`, []string{"a"}},
		{"a range selector's duration is not a metric", `predict_linear(free[6h], 24 * 3600) < 0 and free / size < 0.4`, []string{"free", "free", "size"}},
		{"a selector with a brace in a matcher's value ends at its own brace", `a{route=~"x}y"} + b`, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := promqlMetricNames(tc.expr); !slices.Equal(got, tc.want) {
				t.Errorf("promqlMetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

// dashboardExpressions are the dashboard's PromQL expressions: every target's expr, wherever
// it is nested, and what each label_values variable reads.
func dashboardExpressions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_]\w*\)$`)
	for _, v := range dash.(map[string]any)["templating"].(map[string]any)["list"].([]any) {
		if d, ok := v.(map[string]any)["definition"].(string); ok {
			m := labelValues.FindStringSubmatch(d)
			if m == nil {
				t.Fatalf("dashboard variable query %q: want label_values(<selector>, <label>)", d)
			}
			exprs = append(exprs, m[1])
		}
	}
	return exprs
}

// alertRules is the rules file as Prometheus reads it.
type alertRules struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleTests is the part of promtool's rule tests that names series and alerts.
type ruleTests struct {
	Tests []struct {
		InputSeries []struct {
			Series string `yaml:"series"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Every series the dashboard and the alerts read is one the server exports (or Prometheus's own
// up): a renamed metric would otherwise leave a panel empty and an alert silent.
func TestMonitoringPanelsAndAlertsReadOnlyMetricsTheServerExports(t *testing.T) {
	e := startMonitored(t, "")
	e.register(t, 1) // a request and an append: the series by route and by event type appear
	resp, err := http.Get(e.srv.URL + "/v1/employers?county=360702")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	served := map[string]bool{}
	e.check(t, []bound{atLeast(`kuozheng_http_requests_total{code="200",route="GET /v1/employers"}`, 1)})
	for series := range e.scrape(t) {
		name, _, _ := strings.Cut(series, "{")
		served[name] = true
	}

	var rules alertRules
	readYAML(t, rulesFile, &rules)
	var tests ruleTests
	readYAML(t, ruleTestsFile, &tests)
	var ruleExprs, seriesExprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			ruleExprs = append(ruleExprs, r.Expr)
		}
	}
	for _, tc := range tests.Tests {
		for _, s := range tc.InputSeries {
			seriesExprs = append(seriesExprs, s.Series)
		}
	}
	for _, tc := range []struct {
		name  string
		exprs []string
	}{
		{"the dashboard's panels and variables", dashboardExpressions(t)},
		{"the alert rules", ruleExprs},
		{"the series of the rules' tests", seriesExprs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.exprs) == 0 {
				t.Fatal("no expression found")
			}
			for _, expr := range tc.exprs {
				names := promqlMetricNames(expr)
				if len(names) == 0 {
					t.Errorf("%q reads no metric", expr)
				}
				for _, n := range names {
					if !served[n] && !prometheusOwn[n] {
						t.Errorf("%q reads %s, which /metrics does not serve", expr, n)
					}
				}
			}
		})
	}
}

// Every alert tells its severity, what happened and what to do, and has a unit test.
func TestAlertRulesSayHowBadWhatAndWhatToDoAndAreTested(t *testing.T) {
	var rules alertRules
	readYAML(t, rulesFile, &rules)
	var tests ruleTests
	readYAML(t, ruleTestsFile, &tests)
	tested := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			tested[a.Alertname] = true
		}
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			t.Run(r.Alert, func(t *testing.T) {
				if s := r.Labels["severity"]; s != "critical" && s != "warning" {
					t.Errorf("severity %q, want critical or warning", s)
				}
				if r.Annotations["summary"] == "" {
					t.Error("no summary")
				}
				if len(r.Annotations["description"]) < 80 {
					t.Errorf("description %q: too short to say what to do", r.Annotations["description"])
				}
				if !tested[r.Alert] {
					t.Errorf("no test in %s", ruleTestsFile)
				}
			})
		}
	}
	if len(alerts) == 0 {
		t.Fatalf("%s holds no alert", rulesFile)
	}
	sort.Strings(alerts)
	if d := slices.Compact(slices.Clone(alerts)); len(d) != len(alerts) {
		t.Errorf("alert names repeat: %v", alerts)
	}
}

// The dashboard imports into any Grafana: its data source is a variable, not one Grafana's uid,
// and its panels can be told apart.
func TestGrafanaDashboardTakesItsDataSourceAsAVariable(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Type, Name string
				Query      any
			}
		}
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource *struct{ Type, UID string }
			Targets    []struct {
				RefID      string `json:"refId"`
				Datasource *struct{ Type, UID string }
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "datasource" && v.Query != "prometheus" {
			t.Errorf("data source variable %s lists %v, want prometheus", v.Name, v.Query)
		}
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Fatalf("variables %v, want datasource (a data source) and instance (a query)", vars)
	}
	ids := map[int]string{}
	for _, p := range dash.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if other, ok := ids[p.ID]; ok {
			t.Errorf("%s has the id of %q", where, other)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("%s: data source %+v, want the variable ${datasource}", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s has no query", where)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.RefID == "" {
				t.Errorf("%s: target %s with data source %+v, want a refId and the variable ${datasource}", where, tg.RefID, tg.Datasource)
			}
		}
	}
	if dash.UID == "" {
		t.Error("no uid: every import would make another copy")
	}
}
