package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// monthly serves the monthly county report of month M: the figures at the end of M (or today,
// if earlier), for the period last due by then (M−1, due on the 15th of M).
func (s *Server) monthly(w http.ResponseWriter, r *http.Request) error {
	m, err := domain.ParsePeriod(r.PathValue("month"))
	if err != nil {
		return domain.Invalid("month", "%v", err)
	}
	if err := domain.CheckPeriodNotBeforeEarliest("month", m); err != nil {
		return err
	}
	asOf := min(m.LastDay(), s.cfg.Today())
	if asOf < m.FirstDay() {
		return domain.Invalid("month", "%s has not begun on %s", m, s.cfg.Today())
	}
	ref := s.viewsRef()
	var rep *projections.Report
	var freeze domain.FreezeMade
	if id := r.URL.Query().Get("freeze"); id != "" {
		// A month-end bulletin served from a freeze: the figures never move.
		f, frozen, err := s.loadFreeze(r, id)
		if err != nil {
			return err
		}
		if f.ValidThrough.Period() != m {
			return domain.Invalid("freeze", "freeze %s is valid through %s, not a day of %s", id, f.ValidThrough, m)
		}
		rep, freeze = frozen, f
	} else {
		if rep, err = s.cfg.Runner.Report(r.Context(), projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(ref, asOf)}); err != nil {
			return err
		}
		reflects(w, rep.Seq)
	}
	p := principalOf(r)
	rows := visibleCounties(s.visibleIn(p, rep.Ref), rep.Counties)
	format := r.URL.Query().Get("format")
	name := fmt.Sprintf("kuozheng-monthly-%s", m)
	all := len(rows) == len(rep.Counties)
	switch format {
	case "", "json":
		total := rep.Ref.City().Name
		if !all {
			total = "visible counties" // the sum of the reader's counties, not the city's
		}
		writeJSON(w, http.StatusOK, map[string]any{"month": m, "seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "counties": rows, "city": projections.Sum(total, rows)})
	case "csv", "xlsx":
		// Codes and names stay text; figures become numbers.
		totalName := "全市合计 city"
		if !all {
			totalName = "本辖区合计 visible counties"
		}
		return s.writeTable(w, format, name, "月报 Monthly", MonthlyRows(rep, rows, projections.Sum(totalName, rows)), func(col int) bool { return col >= 3 }, rep.AsOf)
	case "pdf":
		// The figures of the csv, and the JSON's total, printed by insurance.
		doc := documents.MonthlyReport{City: rep.Ref.City().Name, Month: m, AsOf: rep.AsOf, Period: rep.Period, Seq: rep.Seq, FreezeID: freeze.ID, Digest: freeze.Digest,
			Scope: "全市", Counties: rows, Total: projections.Sum("全市合计", rows), TotalName: "全市合计", Closed: freeze.ID == "" && rep.Ref.BooksClosed(rep.AsOf)}
		if !all {
			doc.Scope, doc.TotalName = "本辖区（"+p.Name+"）", "本辖区合计"
		}
		pdf, err := doc.Render()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.pdf"`, name))
		writePDF(w, http.StatusOK, "", "", pdf)
	default:
		return domain.Invalid("format", "unknown format %q: want json, csv, xlsx or pdf", domain.Clip(format, 32))
	}
	return nil
}

// MonthlyRows lays the monthly report out as rows: a bilingual header, then one row per county
// and insurance, then total's rows (the counties summed, with no code). Money is in fen, rates
// in basis points of their exact value (rounded half up).
func MonthlyRows(rep *projections.Report, counties []*projections.Figures, total *projections.Figures) [][]string {
	rows := [][]string{{"所属区县 county code", "区县 county", "险种 insurance", "参保人数 insured", "应参保人数 should insure",
		"参保率 coverage (bp)", "足额缴费人数 paid insured", "缴费率 contribution (bp)", "当期应缴 period due (fen)",
		"当期实缴 period collected (fen)", "当期征缴率 period collection (bp)", "累计应缴 cumulative due (fen)",
		"累计实缴 cumulative collected (fen)", "累计征缴率 cumulative collection (bp)", "当年欠费 arrears current year (fen)",
		"历年欠费 arrears prior years (fen)", "清欠 recovered (fen)", "期间 period", "截至 as of",
		"本年清欠历年欠费 prior years recovered this year (fen)", "清欠率 recovery (bp)"}}
	for _, c := range append(slices.Clip(counties), total) {
		for _, ins := range domain.Insurances {
			x := c.Insurances[ins]
			recovered := i64(int64(x.PriorYearsRecoveredFen))
			if !c.HoldsRecovery() {
				recovered = "" // a freeze made before 清欠率 holds no figure for it, not a zero
			}
			rows = append(rows, []string{c.Code, c.Name, string(ins), i64(x.Insured), i64(x.ShouldInsure), basisPoints(x.CoverageRate),
				i64(x.PaidInsured), basisPoints(x.ContributionRate), i64(int64(x.PeriodDueFen)), i64(int64(x.PeriodCollectedFen)),
				basisPoints(x.PeriodCollectionRate), i64(int64(x.CumulativeDueFen)), i64(int64(x.CumulativeCollectedFen)),
				basisPoints(x.CumulativeCollectionRate), i64(int64(x.ArrearsCurrentYearFen)), i64(int64(x.ArrearsPriorYearsFen)),
				i64(int64(x.RecoveredFen)), rep.Period.String(), rep.AsOf.String(),
				recovered, basisPoints(x.RecoveryRate)})
		}
	}
	return rows
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// basisPoints writes a ratio in basis points of its exact value, rounded half up; empty when it
// is undefined (a zero denominator).
func basisPoints(r projections.Ratio) string {
	if r.Den == 0 {
		return ""
	}
	v, err := domain.MulDivHalfUp(r.Num, 10000, r.Den)
	if err != nil {
		return "" // past int64 basis points (over 9×10^14 in the numerator): left undefined, as a zero denominator is
	}
	return strconv.FormatInt(v, 10)
}
