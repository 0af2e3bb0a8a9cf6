package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// EmployerSummary is one row of the employer list. Arrears and the enforcement stage are as of
// today (the server's business date).
type EmployerSummary struct {
	EmployerID       string              `json:"employer_id"`
	Name             string              `json:"name"`
	County           string              `json:"county"`
	Kind             domain.EmployerKind `json:"kind"`
	OrgCode          string              `json:"org_code,omitempty"`
	CreditCode       string              `json:"credit_code,omitempty"`
	CertificateNo    string              `json:"certificate_no,omitempty"`
	InIndustrialPark bool                `json:"in_industrial_park"`
	Registered       bool                `json:"registered"`
	DeregisteredOn   domain.Date         `json:"deregistered_on,omitempty"`
	ArrearsFen       domain.Fen          `json:"arrears_fen"`
	EnforcementStage string              `json:"enforcement_stage"`
	Version          uint64              `json:"version"`
}

// search is a parsed GET /v1/employers query.
type search struct {
	county, text, kind, stage, flag, format string
	inPark                                  *bool
	arrearsAbove                            domain.Fen // -1: no filter
	page, limit                             int
	cursor                                  string
}

const maxPageSize = 1000

// searchStages are the enforcement stages the stage filter accepts.
var searchStages = append([]string{domain.StageNone}, append(slices.Clone(domain.EnforcementSteps), domain.StageClosed)...)

// parseSearch reads and checks the query: every bad parameter is answered 400 naming it.
func parseSearch(q map[string][]string, ref *domain.Reference) (search, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	s := search{county: get("county"), kind: get("kind"), stage: get("stage"), flag: get("flag"), format: get("format"), arrearsAbove: -1, limit: pageSize, cursor: get("cursor")}
	// Names are stored normalised (NFKC, no format characters), so the query is too.
	s.text = strings.ToLower(domain.NormalizeText(get("q")))
	if s.county != "" {
		if err := ref.CheckCounty("county", s.county); err != nil {
			return s, err
		}
	}
	if s.kind != "" && !slices.Contains(domain.EmployerKinds, s.kind) {
		return s, domain.Invalid("kind", "unknown kind %q: want one of %s", domain.Clip(s.kind, 32), strings.Join(domain.EmployerKinds, ", "))
	}
	if s.stage != "" && !slices.Contains(searchStages, s.stage) {
		return s, domain.Invalid("stage", "unknown enforcement stage %q: want one of %s", domain.Clip(s.stage, 32), strings.Join(searchStages, ", "))
	}
	if s.flag != "" && s.flag != "any" && !slices.Contains(projections.FlagKinds, s.flag) {
		return s, domain.Invalid("flag", "unknown flag kind %q: want any or one of %s", domain.Clip(s.flag, 32), strings.Join(projections.FlagKinds, ", "))
	}
	if v := get("in_park"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, domain.Invalid("in_park", "%q is not true or false", domain.Clip(v, 32))
		}
		s.inPark = &b
	}
	if v := get("arrears_above_fen"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > domain.MaxFen {
			return s, domain.Invalid("arrears_above_fen", "%q is not a whole number of fen from 0 to %d", domain.Clip(v, 32), domain.MaxFen)
		}
		s.arrearsAbove = domain.Fen(n)
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return s, domain.Invalid("limit", "%q is not a page size from 1 to %d", domain.Clip(v, 32), maxPageSize)
		}
		s.limit = n
	}
	switch s.format {
	case "", "json", "csv", "xlsx":
	default:
		return s, domain.Invalid("format", "unknown format %q: want json, csv or xlsx", domain.Clip(s.format, 32))
	}
	var err error
	if s.page, err = pageOf(get("page")); err != nil {
		return s, err
	}
	if s.cursor != "" && get("page") != "" {
		return s, domain.Invalid("page", "give either page or cursor, not both")
	}
	return s, nil
}

// Cursors are opaque to clients: the id of the employer just before the page, which the next
// page goes on from in the ledger's entry order. It carries no position: a reader of some
// counties would learn from one how many employers of others entered the ledger before its own.
func encodeCursor(prev string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("e2:" + prev))
}

// decodeCursor is the position in order after the cursor's employer, one the caller may read
// (readable): a cursor naming any other is refused as one this server did not give it.
func decodeCursor(c string, order []string, readable func(id string) bool) (int, error) {
	bad := domain.Invalid("cursor", "%q is not a cursor this server gave (start again without one)", domain.Clip(c, 64))
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	prev, ok := strings.CutPrefix(string(raw), "e2:")
	if !ok || !readable(prev) {
		return 0, bad
	}
	if i := slices.Index(order, prev); i >= 0 {
		return i + 1, nil
	}
	return 0, bad
}

// searchResult is what a search found: the page's rows (every match for an export), the count of
// all matches and the cursor of the next page ("" at the end).
type searchResult struct {
	rows  []EmployerSummary
	total int
	next  string
}

// run finds the employers the principal may read that match s, in the order they entered the
// ledger. flagged, when not nil, holds the employers raising the flag asked for. Statements
// (for arrears and stage) are made for the rows shown, and for every candidate only when a
// filter needs them.
func (s search) run(l *projections.Ledger, p Principal, today domain.Date, flagged map[string]bool, all bool) (searchResult, error) {
	ref := &l.Ref
	start := 0
	if s.cursor != "" {
		pos, err := decodeCursor(s.cursor, l.Order, func(id string) bool {
			e := l.Employers.Get(id)
			return e != nil && p.canReadCounty(e.County, ref)
		})
		if err != nil {
			return searchResult{}, err
		}
		start = pos
	}
	first := 0 // matches to pass over before the page (page mode)
	if s.cursor == "" && !all {
		first = len(l.Order) + 1
		if s.page-1 <= len(l.Order)/s.limit {
			first = (s.page - 1) * s.limit
		}
	}
	needState := s.stage != "" || s.arrearsAbove >= 0
	res := searchResult{rows: []EmployerSummary{}}
	seen, more := 0, false       // matches at or after start; whether one follows the page
	var lines []domain.LineState // one array for every statement: only their totals are kept
	for i, id := range l.Order {
		e := l.Employers.Get(id)
		if e == nil || !s.matches(id, e, p, ref, today, flagged) {
			continue
		}
		var st *domain.Statement
		stage := "" // the employer's stage, once asked
		if needState {
			x := e.Account.StatementInto(lines, today, ref.LateFees)
			st, lines = &x, x.Lines
			if s.stage != "" {
				stage = e.Stage(today, x.Totals, ref.LateFees)
			}
			if (s.stage != "" && stage != s.stage) || (s.arrearsAbove >= 0 && x.Totals.ArrearsFen() <= s.arrearsAbove) {
				continue
			}
		}
		res.total++
		if i < start {
			continue
		}
		seen++
		switch {
		case all:
		case seen <= first:
			continue
		case len(res.rows) == s.limit:
			more = true
			continue
		}
		if st == nil {
			x := e.Account.StatementInto(lines, today, ref.LateFees)
			st, lines = &x, x.Lines
		}
		if stage == "" {
			stage = e.Stage(today, st.Totals, ref.LateFees)
		}
		res.rows = append(res.rows, EmployerSummary{EmployerID: id, Name: e.Name, County: ref.CountyCodeOn(e.CountyOn(today), today), Kind: e.Kind,
			OrgCode: e.OrgCode, CreditCode: e.CreditCode, CertificateNo: e.CertificateNo, InIndustrialPark: e.InIndustrialPark,
			Registered: e.Registered, DeregisteredOn: deregisteredOn(e), ArrearsFen: st.Totals.ArrearsFen(), EnforcementStage: stage, Version: e.Version})
		if !all && len(res.rows) == s.limit {
			res.next = encodeCursor(id)
		}
	}
	if !more {
		res.next = ""
	}
	return res, nil
}

// matches applies the filters that need no statement. A county filter takes the payers in the
// county on the date read (a payer transferred since is listed where it was then); who may read
// a payer goes by its county now.
func (s search) matches(id string, e *domain.Employer, p Principal, ref *domain.Reference, on domain.Date, flagged map[string]bool) bool {
	if (s.county != "" && !ref.SameCounty(e.CountyOn(on), s.county)) || !p.canReadCounty(e.County, ref) {
		return false
	}
	if s.kind != "" && string(e.Kind) != s.kind {
		return false
	}
	if s.inPark != nil && e.InIndustrialPark != *s.inPark {
		return false
	}
	if flagged != nil && !flagged[id] {
		return false
	}
	if s.text == "" {
		return true
	}
	for _, v := range []string{domain.Stored(e.Name), e.OrgCode, e.CreditCode, e.CertificateNo} {
		if v != "" && strings.Contains(strings.ToLower(v), s.text) {
			return true
		}
	}
	// A code is often typed without its hyphen (12345678X for 12345678-X).
	if bare := strings.ReplaceAll(s.text, "-", ""); bare != "" {
		for _, v := range []string{e.OrgCode, e.CertificateNo} {
			if v != "" && strings.Contains(strings.ReplaceAll(strings.ToLower(v), "-", ""), bare) {
				return true
			}
		}
	}
	return strings.HasPrefix(id, s.text)
}

// flaggedEmployers are the employers raising flag (any kind for "any") in the live report, and
// the sequence of that report.
func (s *Server) flaggedEmployers(ctx context.Context, flag string) (map[string]bool, uint64, error) {
	rep, err := s.cfg.Runner.Report(ctx, s.liveQuery())
	if err != nil {
		return nil, 0, err
	}
	out := map[string]bool{}
	for _, c := range rep.Counties {
		for _, f := range c.EmployerFlags {
			if flag == "any" || f.Kind == flag {
				out[f.EmployerID] = true
			}
		}
	}
	return out, rep.Seq, nil
}

// principalView tells the page who it acts for and which families of writes it may make
// ("employer": a clerk's, in its counties; "audit": an auditor's).
type principalView struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Counties []string `json:"counties,omitempty"`
	Groups   []int    `json:"groups,omitempty"`
	Writes   []string `json:"writes"`
}

func viewOf(p Principal) principalView {
	v := principalView{Name: p.Name, Role: p.Role, Counties: p.Counties, Groups: p.Groups, Writes: []string{}}
	if p.Role == RoleClerk || p.Role == RoleAdmin {
		v.Writes = append(v.Writes, "employer")
	}
	if p.Role == RoleAuditor || p.Role == RoleAdmin {
		v.Writes = append(v.Writes, "audit")
	}
	if p.Role == RoleClerk || p.Role == RoleAuditor || p.Role == RoleAdmin {
		v.Writes = append(v.Writes, "void") // which events, the server decides (four eyes on money)
	}
	return v
}

// searchRows lays the rows out for csv and xlsx: a bilingual header, then one row an employer.
func searchRows(rows []EmployerSummary) [][]string {
	out := [][]string{{"单位编号 employer id", "名称 name", "区县 county", "类型 kind", "组织机构代码 org code", "统一社会信用代码 credit code",
		"登记证号 certificate no", "园区 in park", "已登记 registered", "欠费 arrears (fen)", "执法阶段 enforcement stage", "版本 version"}}
	for _, r := range rows {
		out = append(out, []string{r.EmployerID, r.Name, r.County, string(r.Kind), r.OrgCode, r.CreditCode, r.CertificateNo,
			strconv.FormatBool(r.InIndustrialPark), strconv.FormatBool(r.Registered), strconv.FormatInt(int64(r.ArrearsFen), 10),
			r.EnforcementStage, strconv.FormatUint(r.Version, 10)})
	}
	return out
}

// writeExport answers every match as csv or xlsx.
func (s *Server) writeExport(w http.ResponseWriter, format string, rows []EmployerSummary, today domain.Date) error {
	// Arrears and version are numbers; codes stay text (leading zeros).
	return s.writeTable(w, format, "kuozheng-employers-"+today.String(), "单位 Employers", searchRows(rows), func(col int) bool { return col == 9 || col == 11 }, today)
}
