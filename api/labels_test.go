package api_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/build"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// labelsConst is one table of labels.js as the server renders it.
var labelsConst = regexp.MustCompile(`(?s)export const ([A-Z_]+) = Object\.freeze\((\{.*?\})\);`)

// TestDashboardLabelsCoverTheDomain: the dashboard's labels.js names every code the domain and
// the projections define, and nothing else, so a constant added, renamed or removed in Go
// fails here instead of showing as a raw code on the page. The domain's constants are read
// from its exported API with go/types, which finds those no list of the domain holds
// (employer kinds, target measures, enforcement steps).
func TestDashboardLabelsCoverTheDomain(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/assets/labels.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("GET /assets/labels.js: %d %q, want 200 text/javascript", res.StatusCode, ct)
	}
	got := map[string]map[string]string{}
	order := map[string][]string{}
	for _, m := range labelsConst.FindAllSubmatch(body, -1) {
		var table map[string]string
		if err := json.Unmarshal(m[2], &table); err != nil {
			t.Fatalf("labels.js: %s is not a JSON object: %v\n%s", m[1], err, m[2])
		}
		got[string(m[1])] = table
		order[string(m[1])] = keysInOrder(t, m[2])
	}

	pkg := constsOfPackage(t, "github.com/kuozheng/kuozheng/domain", "../domain")
	// consts lists the string values of the domain's exported constants of the named type, or,
	// for an empty type name, of its untyped string constants whose names start with prefix.
	consts := func(typeName, prefix string) []string {
		var out []string
		for _, name := range pkg.Scope().Names() {
			c, ok := pkg.Scope().Lookup(name).(*types.Const)
			if !ok || !c.Exported() || c.Val().Kind() != constant.String || !strings.HasPrefix(name, prefix) {
				continue
			}
			named, _ := c.Type().(*types.Named)
			if (typeName == "" && named == nil) || (named != nil && named.Obj().Name() == typeName) {
				out = append(out, constant.StringVal(c.Val()))
			}
		}
		if len(out) == 0 {
			t.Fatalf("the domain package has no constants of type %q named %s…: update this test", typeName, prefix)
		}
		return out
	}
	// The projections' worklist kinds, which no list of the projections holds.
	proj := constsOfPackage(t, "github.com/kuozheng/kuozheng/projections", "../projections")
	var workKinds []string
	for _, name := range proj.Scope().Names() {
		if c, ok := proj.Scope().Lookup(name).(*types.Const); ok && c.Exported() && strings.HasPrefix(name, "Work") && c.Val().Kind() == constant.String {
			workKinds = append(workKinds, constant.StringVal(c.Val()))
		}
	}
	if len(workKinds) == 0 {
		t.Fatal("the projections package has no constants named Work…: update this test")
	}
	var segments []string
	for _, sg := range domain.Segments {
		segments = append(segments, string(sg))
	}
	insurances := consts("Insurance", "")
	for _, ins := range domain.Insurances {
		insurances = append(insurances, string(ins))
	}
	// The employer read shows the domain's stages besides its steps: none yet, and closed.
	stages := append(consts("", "Stage"), domain.EnforcementSteps...)
	// Every domain.Kind's name, then the codes the API answers of its own (api/errors.go).
	errorCodes := []string{"outcome_unknown", "method_not_allowed", "internal"}
	for k := domain.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		errorCodes = append(errorCodes, k.String())
	}
	want := map[string][]string{
		"ERRORS":      errorCodes,
		"INSURANCES":  insurances,
		"FLAG_KINDS":  projections.FlagKinds,
		"MEASURES":    consts("", "Target"),
		"STAGES":      append(stages, consts("", "Step")...),
		"EVENT_TYPES": domain.EventTypes(),
		// The events a clerk may not void, or their recorder if they move money.
		"AUDITOR_VOIDS": domain.AuditorVoids(),
		"KINDS":         consts("EmployerKind", ""),
		// The bases a principal waiver may give (domain's waiver command accepts these two).
		"WAIVER_BASES":    {"bankruptcy", "court_ruling"},
		"FLAG_DETAILS_ZH": flagDetailKeys(),
		"FLAG_DETAILS_EN": flagDetailKeys(),
		"WORK_DETAILS_ZH": workDetailKeys(workKinds),
		// A payer's attributes and its inspections (TestAttributeLabelsAreTheDomainsNames).
		"INDUSTRIES":         slices.Collect(maps.Keys(domain.Industries)),
		"SECTORS":            slices.Clone(domain.Sectors),
		"OWNERSHIP_CODES":    slices.Collect(maps.Keys(domain.OwnershipCodes)),
		"INSPECTION_SCOPES":  consts("", "Scope"),
		"INSPECTION_RESULTS": consts("", "Inspection"),
		// The segments of the figures (the county table's menu) and the worklists' kinds.
		"SEGMENTS":   slices.Clone(segments),
		"WORK_KINDS": workKinds,
	}
	for name, codes := range want {
		slices.Sort(codes)
		codes = slices.Compact(codes)
		table, ok := got[name]
		if !ok {
			t.Errorf("labels.js has no %s", name)
			continue
		}
		for _, code := range codes {
			if strings.TrimSpace(table[code]) == "" {
				t.Errorf("labels.js: %s has no label for %q", name, code)
			}
		}
		for code := range table {
			if !slices.Contains(codes, code) {
				t.Errorf("labels.js: %s labels %q, which Go does not define", name, code)
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("labels.js exports %s, which this test does not check against Go", name)
		}
	}
	// The insurance menu lists the insurances in the domain's order, pension first.
	var wantOrder []string
	for _, ins := range domain.Insurances {
		wantOrder = append(wantOrder, string(ins))
	}
	if !slices.Equal(order["INSURANCES"], wantOrder) {
		t.Errorf("labels.js lists INSURANCES as %v, want the domain's order %v", order["INSURANCES"], wantOrder)
	}
	// The segment menu lists the segments in the plan's order, as domain.Segments does.
	if !slices.Equal(order["SEGMENTS"], segments) {
		t.Errorf("labels.js lists SEGMENTS as %v, want the domain's order %v", order["SEGMENTS"], segments)
	}
}

// keysInOrder lists a flat JSON object's keys in the order written, which a map forgets.
func keysInOrder(t *testing.T, obj []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	var keys []string
	_, err := dec.Token() // {
	for err == nil && dec.More() {
		var key json.Token
		var value string
		if key, err = dec.Token(); err == nil {
			keys = append(keys, key.(string))
			err = dec.Decode(&value)
		}
	}
	if err != nil {
		t.Fatalf("labels.js: %v", err)
	}
	return keys
}

// flagDetailKeys are the wordings of the flags: one a kind, two for arrears (with or without a
// step before they fell due) and for a waiver (of principal or of late fee).
func flagDetailKeys() []string {
	var keys []string
	for _, k := range projections.FlagKinds {
		switch k {
		case projections.FlagArrearsWithoutEnforcement:
			keys = append(keys, k, k+".after_step")
		case projections.FlagWaiverReview:
			keys = append(keys, k+"."+domain.WaiverPrincipal, k+"."+domain.WaiverLateFee, k+"."+domain.WaiverLateFee+".in_all")
		default:
			keys = append(keys, k)
		}
	}
	return keys
}

// workDetailKeys are the wordings of the worklists' items: one a kind, one a finding's kind for a
// finding past re-declaration, two for a period not declared (with or without a due before it).
func workDetailKeys(kinds []string) []string {
	var keys []string
	for _, k := range kinds {
		switch k {
		case projections.WorkFindingPastDeadline:
			keys = append(keys, k+"."+domain.FindingUnderReportedBase, k+"."+domain.FindingMissedWorkers)
		case projections.WorkAssessmentCandidate:
			keys = append(keys, k, k+".basis")
		default:
			keys = append(keys, k)
		}
	}
	return keys
}

// flagPlaceholders are the facts flags.js and api/labels.go fill into a flag's wording.
var flagPlaceholders = []string{"amount", "accrued_fee", "waived_in_all", "wage_base", "average_wage", "since", "last_step", "period",
	"insurance", "basis", "authority_doc", "grace_days", "headcount"}

// TestFlagDetailsSayTheSameInBothLanguages: each wording of a flag names the same facts in
// Chinese and in English, only facts the page and the exports fill in, the Chinese in Chinese
// and the English without it; a worklist item's Chinese wording (its English is the server's)
// names only facts worklist.js fills in, its date among them.
func TestFlagDetailsSayTheSameInBothLanguages(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/assets/labels.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tables := map[string]map[string]string{}
	for _, m := range labelsConst.FindAllSubmatch(body, -1) {
		var table map[string]string
		if err := json.Unmarshal(m[2], &table); err != nil {
			t.Fatalf("labels.js: %s: %v", m[1], err)
		}
		tables[string(m[1])] = table
	}
	placeholder := regexp.MustCompile(`\{(\w+)\}`)
	names := func(s string) []string {
		var out []string
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	han := regexp.MustCompile(`\p{Han}`)
	for _, key := range flagDetailKeys() {
		zh, en := tables["FLAG_DETAILS_ZH"][key], tables["FLAG_DETAILS_EN"][key]
		if !slices.Equal(names(zh), names(en)) {
			t.Errorf("flag wording %s names %v in Chinese, %v in English", key, names(zh), names(en))
		}
		for _, n := range names(zh) {
			if !slices.Contains(flagPlaceholders, n) {
				t.Errorf("flag wording %s names {%s}, which flags.js does not fill in", key, n)
			}
		}
		if !han.MatchString(zh) || han.MatchString(en) {
			t.Errorf("flag wording %s: Chinese %q, English %q", key, zh, en)
		}
		// Money placeholders carry their unit (元 or 万元 by the amount): none follows them.
		if regexp.MustCompile(`\{(amount|accrued_fee|waived_in_all)\} ?(万元|元|×10k yuan|yuan)`).MatchString(zh + en) {
			t.Errorf("flag wording %s gives a unit after a money placeholder, which has its own: %q / %q", key, zh, en)
		}
	}
	// The worklists' items, as worklist.js fills them in.
	// Facts other than these are filled in as they are (worklist.js detail's default): risk_class.
	workPlaceholders := []string{"since", "doc_no", "arrears", "found_on", "insurance", "period", "risk_class"}
	if len(tables["WORK_DETAILS_ZH"]) == 0 {
		t.Fatal("labels.js has no wordings of the worklists' items")
	}
	for key, zh := range tables["WORK_DETAILS_ZH"] {
		for _, n := range names(zh) {
			if !slices.Contains(workPlaceholders, n) {
				t.Errorf("work wording %s names {%s}, which worklist.js does not fill in", key, n)
			}
		}
		if !han.MatchString(zh) || !strings.Contains(zh, "{since}") {
			t.Errorf("work wording %s: %q, want Chinese naming {since}", key, zh)
		}
	}
}

// servedLabels reads the tables of labels.js as the server renders it: each table's labels and
// its codes in the order written.
func servedLabels(t *testing.T) (tables map[string]map[string]string, order map[string][]string) {
	t.Helper()
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/assets/labels.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tables, order = map[string]map[string]string{}, map[string][]string{}
	for _, m := range labelsConst.FindAllSubmatch(body, -1) {
		var table map[string]string
		if err := json.Unmarshal(m[2], &table); err != nil {
			t.Fatalf("labels.js: %s: %v", m[1], err)
		}
		tables[string(m[1])], order[string(m[1])] = table, keysInOrder(t, m[2])
	}
	return tables, order
}

// TestAttributeLabelsAreTheDomainsNames: the desk's menus of industries (GB/T 4754-2002) and
// ownership codes (GB/T 12402-2000) name each code by the domain's Chinese name, then an English
// one, in the codes' order; the sectors, the inspections' scopes and results, the segments and
// the worklists' kinds read Chinese then English too.
func TestAttributeLabelsAreTheDomainsNames(t *testing.T) {
	tables, order := servedLabels(t)
	han := regexp.MustCompile(`\p{Han}`)
	for name, domainNames := range map[string]map[string]string{"INDUSTRIES": domain.Industries, "OWNERSHIP_CODES": domain.OwnershipCodes,
		"SECTORS": nil, "INSPECTION_SCOPES": nil, "INSPECTION_RESULTS": nil, "SEGMENTS": nil, "WORK_KINDS": nil, "ERRORS": nil} {
		for code, l := range tables[name] {
			zh, en, _ := strings.Cut(l, " ")
			if domainNames != nil && zh != domainNames[code] {
				t.Errorf("labels.js: %s names %q %q in Chinese, the domain %q", name, code, zh, domainNames[code])
			}
			if !han.MatchString(zh) || strings.TrimSpace(en) == "" || han.MatchString(en) {
				t.Errorf("labels.js: %s labels %q %q: want the Chinese, a space, then the English", name, code, l)
			}
		}
		if domainNames != nil && !slices.IsSorted(order[name]) {
			t.Errorf("labels.js lists %s as %v, want the codes in order", name, order[name])
		}
	}
	if !slices.Equal(order["SECTORS"], domain.Sectors) {
		t.Errorf("labels.js lists SECTORS as %v, want the domain's order %v", order["SECTORS"], domain.Sectors)
	}
}

// constsOfPackage type-checks the package importPath in dir (its files of this build) on its own: the
// packages it imports stand in empty and the errors that makes are ignored. The constants it
// declares are computed all the same, in a fraction of the time a type-check of every dependency
// from source took (tens of seconds under the race detector: the projections import nats-server).
func constsOfPackage(t *testing.T, importPath, dir string) *types.Package {
	t.Helper()
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		t.Fatalf("read the package in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: emptyImporter{}, Error: func(error) {}}
	pkg, _ := conf.Check(importPath, fset, files, nil)
	return pkg
}

// emptyImporter imports every package as an empty one.
type emptyImporter struct{}

func (emptyImporter) Import(p string) (*types.Package, error) {
	pkg := types.NewPackage(p, path.Base(p))
	pkg.MarkComplete()
	return pkg, nil
}
