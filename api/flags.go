package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// flagRow is one flag of GET /v1/flags: the projection's flag with the county it counts in, the
// employer's name and the days from the day its matter began to the answer's date.
type flagRow struct {
	projections.Flag
	County  string `json:"county"`
	Name    string `json:"name"`
	AgeDays int    `json:"age_days,omitempty"`
}

// flagEmployer is one employer of GET /v1/flags?by=employer: its flags, the money they are
// about (summed) and the day the oldest began.
type flagEmployer struct {
	EmployerID string      `json:"employer_id"`
	Name       string      `json:"name"`
	County     string      `json:"county"`
	AmountFen  domain.Fen  `json:"amount_fen"`
	Since      domain.Date `json:"since,omitempty"`
	AgeDays    int         `json:"age_days,omitempty"`
	Kinds      []string    `json:"kinds"`
	Flags      []flagRow   `json:"flags"`
}

// flagQuery is a parsed GET /v1/flags query.
type flagQuery struct {
	county, kind, text, sort, by, format string
	group, page, limit                   int
}

// flagSorts are the orders GET /v1/flags offers: the report's (county by county), the money
// at stake (largest first), and age (the oldest matter first).
var flagSorts = []string{"county", "amount", "age"}

// parseFlagQuery reads and checks the query against the report's reference data: every bad
// parameter is answered 400 naming it.
func parseFlagQuery(r *http.Request, rep *projections.Report) (flagQuery, error) {
	q := r.URL.Query()
	f := flagQuery{county: q.Get("county"), kind: q.Get("kind"), sort: q.Get("sort"), by: q.Get("by"), format: q.Get("format"), limit: pageSize}
	// Names are stored normalised (NFKC), so the query is too.
	f.text = strings.ToLower(domain.NormalizeText(strings.TrimSpace(q.Get("q"))))
	if f.county != "" {
		if err := countyFilter(rep.Ref, f.county, rep.AsOf); err != nil {
			return f, err
		}
	}
	if f.kind != "" && !slices.Contains(projections.FlagKinds, f.kind) {
		return f, domain.Invalid("kind", "unknown flag kind %q: want one of %s", domain.Clip(f.kind, 32), strings.Join(projections.FlagKinds, ", "))
	}
	if v := q.Get("group"); v != "" {
		groups := rep.Ref.GroupsOn(rep.AsOf)
		n, err := strconv.Atoi(v)
		if err != nil || !slices.ContainsFunc(groups, func(g domain.Group) bool { return g.N == n }) {
			return f, domain.Invalid("group", "%q is not a supervision group: groups are 1–%d", domain.Clip(v, 32), len(groups))
		}
		f.group = n
	}
	if f.sort != "" && !slices.Contains(flagSorts, f.sort) {
		return f, domain.Invalid("sort", "unknown order %q: want one of %s", domain.Clip(f.sort, 32), strings.Join(flagSorts, ", "))
	}
	if f.by != "" && f.by != "flag" && f.by != "employer" {
		return f, domain.Invalid("by", "unknown grouping %q: want flag or employer", domain.Clip(f.by, 32))
	}
	switch f.format {
	case "", "json", "csv", "xlsx":
	default:
		return f, domain.Invalid("format", "unknown format %q: want json, csv or xlsx", domain.Clip(f.format, 32))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return f, domain.Invalid("limit", "%q is not a page size from 1 to %d", domain.Clip(v, 32), maxPageSize)
		}
		f.limit = n
	}
	var err error
	f.page, err = pageOf(q.Get("page"))
	return f, err
}

// flagMatch says whether an employer's name, codes or id hold the search text. Codes match
// with or without their hyphen (70002006-1 or 700020061).
func flagMatch(text, id string, e *domain.Employer) bool {
	if text == "" {
		return true
	}
	bare := strings.ReplaceAll(text, "-", "")
	for _, v := range []string{domain.Stored(e.Name), e.OrgCode, e.CreditCode, e.CertificateNo} {
		v = strings.ToLower(v)
		if v != "" && (strings.Contains(v, text) || (bare != "" && strings.Contains(strings.ReplaceAll(v, "-", ""), bare))) {
			return true
		}
	}
	return strings.HasPrefix(id, text)
}

// flags lists the accountability flags the principal may read, filtered by county, group, kind
// and a search of the employers' names and codes, in the report's order or sorted by amount or
// age; a page of flags, or of employers with their flags (?by=employer), or every match as csv
// or xlsx (?format=). A county or group outside the principal's scope is refused, 403 naming
// the parameter (countyInScope, groupInScope), in every format.
func (s *Server) flags(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.segmentReport(r)
	if err != nil {
		return err
	}
	fq, err := parseFlagQuery(r, rep)
	if err != nil {
		return err
	}
	p := principalOf(r)
	if fq.county != "" {
		if err := countyInScope(p, fq.county, rep.Ref); err != nil {
			return err
		}
	}
	if fq.group != 0 {
		if err := groupInScope(p, fq.group, rep.Ref, rep.AsOf); err != nil {
			return err
		}
	}
	see, now := s.visibleIn(p, rep.Ref), s.readsNow(p)
	cur := s.cfg.Runner.Current() // the payers' names, and the counties they are in now
	// Each flag's payer is looked up where a search or a scope must judge it; otherwise only
	// the payers shown are, for their names (named).
	judged := fq.text != "" || !p.readsAll()
	collect := func() []flagRow {
		n := 0
		for _, c := range rep.Counties {
			n += len(c.EmployerFlags)
		}
		rows := make([]flagRow, 0, n)
		for _, c := range rep.Counties {
			if (fq.county != "" && c.Code != fq.county) || (fq.group != 0 && c.Group != fq.group) || !see(c.Code) {
				continue
			}
			for _, f := range c.EmployerFlags {
				if fq.kind != "" && f.Kind != fq.kind {
					continue
				}
				row := flagRow{Flag: f, County: c.Code}
				if judged {
					if e := cur.Employers.Get(f.EmployerID); e != nil {
						if !now(e) || !flagMatch(fq.text, f.EmployerID, e) {
							continue
						}
						row.Name = e.Name
					} else if fq.text != "" {
						continue
					}
				}
				if f.Since != 0 {
					row.AgeDays = rep.AsOf.DaysSince(f.Since)
				}
				rows = append(rows, row)
			}
		}
		return rows
	}
	named := func(rows []flagRow) {
		if judged {
			return // named as they were judged
		}
		for i := range rows {
			if e := cur.Employers.Get(rows[i].EmployerID); e != nil {
				rows[i].Name = e.Name
			}
		}
	}
	if fq.format == "csv" || fq.format == "xlsx" {
		rows := collect()
		named(rows)
		sortFlags(fq.sort, rows, nil)
		reflects(w, rep.Seq)
		return s.writeTable(w, fq.format, "kuozheng-flags-"+rep.AsOf.String(), "标记 Flags", flagTableRows(rows), func(col int) bool { return col == 6 || col == 8 }, rep.AsOf)
	}
	page := func() any {
		rows := collect()
		// Employers are gathered only for a page of them; a page of flags just counts them.
		var employers []*flagEmployer
		var nEmployers int
		if fq.by == "employer" {
			employers = groupFlags(rows)
			nEmployers = len(employers)
		} else {
			nEmployers = employersIn(rows)
		}
		sortFlags(fq.sort, rows, employers)
		out := withSegment(rep, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "page": fq.page, "page_size": fq.limit,
			"flags_total": len(rows), "employers_total": nEmployers})
		if fq.by == "employer" {
			lo, hi := pageRange(fq.page, fq.limit, len(employers))
			for _, e := range employers[lo:hi] {
				named(e.Flags)
				e.Name = e.Flags[0].Name
			}
			out["total"], out["employers"] = len(employers), employers[lo:hi]
		} else {
			lo, hi := pageRange(fq.page, fq.limit, len(rows))
			named(rows[lo:hi])
			out["total"], out["flags"] = len(rows), rows[lo:hi]
		}
		return out
	}
	if rep.Seq != cur.Seq {
		// Of other views than the names and counties now (closed books, or views moved on
		// since): answered for this reader only.
		reflects(w, rep.Seq)
		writeJSON(w, http.StatusOK, page())
		return nil
	}
	// A dashboard reads its page of flags after each write while it is shown: encoded once for
	// every reader of the same views, query and scope.
	s.writeCached(w, r, rep, page)
	return nil
}

// pageRange is the slice of n rows that page shows, size rows a page.
func pageRange(page, size, n int) (lo, hi int) {
	if page-1 > n/size {
		return n, n // past the end (and no overflow for absurd page numbers)
	}
	lo = min((page-1)*size, n)
	return lo, min(lo+size, n)
}

// employersIn counts the employers the rows are of.
func employersIn(rows []flagRow) int {
	ids := make(map[string]struct{}, len(rows))
	for _, f := range rows {
		ids[f.EmployerID] = struct{}{}
	}
	return len(ids)
}

// groupFlags gathers the rows by employer, in the order the employers first appear.
func groupFlags(rows []flagRow) []*flagEmployer {
	out := []*flagEmployer{}
	byID := map[string]*flagEmployer{}
	for _, f := range rows {
		e := byID[f.EmployerID]
		if e == nil {
			e = &flagEmployer{EmployerID: f.EmployerID, Name: f.Name, County: f.County, Kinds: []string{}}
			byID[f.EmployerID] = e
			out = append(out, e)
		}
		e.AmountFen += f.AmountFen
		if f.Since != 0 && (e.Since == 0 || f.Since < e.Since) {
			e.Since, e.AgeDays = f.Since, f.AgeDays
		}
		if !slices.Contains(e.Kinds, f.Kind) {
			e.Kinds = append(e.Kinds, f.Kind)
		}
		e.Flags = append(e.Flags, f)
	}
	return out
}

// sortFlags orders the rows and the employers, if any (and each employer's flags), as asked;
// ties keep the report's order. Flags without an amount or a date go last.
func sortFlags(order string, rows []flagRow, employers []*flagEmployer) {
	byAmount := func(a, b domain.Fen) int { return cmp.Compare(b, a) }
	byAge := func(a, b domain.Date) int {
		switch {
		case a == b:
			return 0
		case a == 0:
			return 1
		case b == 0:
			return -1
		}
		return cmp.Compare(a, b)
	}
	var rowCmp func(a, b flagRow) int
	var empCmp func(a, b *flagEmployer) int
	switch order {
	case "amount":
		rowCmp = func(a, b flagRow) int { return byAmount(a.AmountFen, b.AmountFen) }
		empCmp = func(a, b *flagEmployer) int { return byAmount(a.AmountFen, b.AmountFen) }
	case "age":
		rowCmp = func(a, b flagRow) int { return byAge(a.Since, b.Since) }
		empCmp = func(a, b *flagEmployer) int { return byAge(a.Since, b.Since) }
	default:
		return
	}
	slices.SortStableFunc(rows, rowCmp)
	slices.SortStableFunc(employers, empCmp)
	for _, e := range employers {
		slices.SortStableFunc(e.Flags, rowCmp)
	}
}

// flagTableRows lays the flags out for csv and xlsx: a bilingual header, then one row a flag
// with its bilingual detail. Amounts are in fen, as every export's are.
func flagTableRows(rows []flagRow) [][]string {
	out := [][]string{{"区县 county", "单位编号 employer id", "名称 name", "类型 kind", "类型名 kind name", "说明 detail",
		"金额（分） amount (fen)", "起始日 since", "天数 days", "原文 detail (as recorded)"}}
	for _, f := range rows {
		since, days := "", ""
		if f.Since != 0 {
			since, days = f.Since.String(), strconv.Itoa(f.AgeDays)
		}
		out = append(out, []string{f.County, f.EmployerID, f.Name, f.Kind, labelOf("FLAG_KINDS", f.Kind), flagDetail(f.Flag),
			strconv.FormatInt(int64(f.AmountFen), 10), since, days, f.Detail})
	}
	return out
}
