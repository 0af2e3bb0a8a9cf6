package projections

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// A freeze's digest is the SHA-256 of its figures as JSON, so the figures' layout is part of
// what a freeze is: the same (S, D) must give the same digest forever. Figures gain fields over
// time; a freeze is reproduced in the layout it was made in, named by its code version, and by
// the rules its figures were counted by then (Query.rules): a rule corrected since shows in the
// freeze's restatement, not as a freeze that no longer reproduces.
const (
	// FreezeFormat1 is the layout of freezes made by views-1 to views-9: counties, groups and
	// the city, the flag kinds of then (flagKindsV1), no 清欠率 (reportV1).
	FreezeFormat1 = 1
	// FreezeFormat2 is the layout from views-10 on (reportV2): the counties, groups and city as
	// Report writes them, with 清欠率 beside recovered_fen and the field work (park audit
	// coverage, the survey's categories), and the figures of every segment as a table of
	// numbers (segmentTable). It was changed in place before any release (issue 18), its
	// recorded digests recorded again each time; from the first release on, a change is a new
	// format.
	FreezeFormat2 = 2
	// freezeFormat is the layout freezes are made in now. A change to what Report writes is a
	// new format: add it here, keep the old ones (TestFreezesOfFormat* record each).
	freezeFormat = FreezeFormat2
)

// viewsNumber is N of code version views-N.
func viewsNumber(codeVersion string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(codeVersion, "views-"))
	if err != nil || !strings.HasPrefix(codeVersion, "views-") || n < 1 {
		return 0, fmt.Errorf("code version %q: not one of this ledger's views", codeVersion)
	}
	return n, nil
}

// FreezeFormatOf is the layout of a freeze made by the views of codeVersion.
func FreezeFormatOf(codeVersion string) (int, error) {
	n, err := viewsNumber(codeVersion)
	switch {
	case err != nil:
		return 0, err
	case n <= 9:
		return FreezeFormat1, nil
	default:
		return FreezeFormat2, nil
	}
}

// FreezeFiguresIn is the canonical form of the figures a freeze valid through d of views l
// holds when made by the views of codeVersion, in its layout and by its rules (Query.rules),
// and their SHA-256 digest.
func FreezeFiguresIn(l *Ledger, d domain.Date, codeVersion string) (*Report, []byte, string, error) {
	rules, err := viewsNumber(codeVersion)
	if err != nil {
		return nil, nil, "", err
	}
	return freezeFiguresBy(l, d, codeVersion, rules)
}

// freezeFiguresBy is FreezeFiguresIn in the layout of codeVersion (its segments too) by the rules
// of views-rules (0: today's).
func freezeFiguresBy(l *Ledger, d domain.Date, codeVersion string, rules int) (*Report, []byte, string, error) {
	format, err := FreezeFormatOf(codeVersion)
	if err != nil {
		return nil, nil, "", err
	}
	q := FreezeQuery(&l.Ref, d)
	q.rules = rules
	q.layout, _ = viewsNumber(codeVersion)
	var rep *Report
	var v any
	switch format {
	case FreezeFormat1:
		rep = l.Report(q)
		v = rep.v1()
	default:
		rep = l.freezeReport(q)
		v = rep.v2()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256(b)
	return rep, b, hex.EncodeToString(sum[:]), nil
}

// VerifyFreeze reproduces the freeze f from views l folded through its sequence: the chain head,
// and the figures in f's layout and by its rules byte for byte, with their digest. It says what
// differs.
func VerifyFreeze(l *Ledger, f domain.FreezeMade) error {
	if l.Seq != f.ThroughSeq {
		return fmt.Errorf("freeze %s: the views are at sequence %d, the freeze at %d", f.ID, l.Seq, f.ThroughSeq)
	}
	_, figures, digest, err := FreezeFiguresIn(l, f.ValidThrough, f.CodeVersion)
	if err != nil {
		return fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	if head := ChainHead(l); head != f.ChainHead {
		return fmt.Errorf("freeze %s: chain head %s, the views give %s", f.ID, f.ChainHead, head)
	}
	if digest != f.Digest || !bytes.Equal(figures, f.Figures) {
		return fmt.Errorf("freeze %s: digest %s, the views give %s by the layout and rules of %s", f.ID, f.Digest, digest, f.CodeVersion)
	}
	return nil
}

// StillCounts reports whether views l, at whatever sequence, count the figures of freeze f as
// f holds them (its sequence aside), in its layout and by its rules: every county's, group's
// and the city's, each segment's and the flag counts. A write dated on or before f's date
// after f was made changes some of them; one dated after changes none.
func StillCounts(l *Ledger, f domain.FreezeMade) (bool, error) {
	own, err := viewsNumber(f.CodeVersion)
	if err != nil {
		return false, err
	}
	return countsBy(l, f, own)
}

// ReadsDeclarationInForce reports whether a freeze made by the views of codeVersion counts the
// bases below the floor from the declaration in force on its date (views-22 on), which a
// declaration dated after it cannot move; false for an unknown version.
func ReadsDeclarationInForce(codeVersion string) bool {
	n, err := viewsNumber(codeVersion)
	return err == nil && n >= rulesDeclarationOn
}

// ReadsProfileAsOf reports whether a freeze made by the views of codeVersion reads the park and
// risk-class flags from the registration facts as of its date (views-14 on), which a change
// dated after it cannot move; false for an unknown version.
func ReadsProfileAsOf(codeVersion string) bool {
	n, err := viewsNumber(codeVersion)
	return err == nil && n >= rulesWhereSigned
}

// CountedAsNow reports whether today's rules count the figures views l hold of freeze f's date
// as f holds them (its sequence aside), in f's layout: where StillCounts holds, false after an
// upgrade that corrects how a figure f holds is counted (views-18's waivers to review), which
// f, verified by its own rules, cannot show.
func CountedAsNow(l *Ledger, f domain.FreezeMade) (bool, error) { return countsBy(l, f, 0) }

// countsBy reports whether views l count f's figures, its sequence aside, in its layout by the
// rules of views-rules (0: today's).
func countsBy(l *Ledger, f domain.FreezeMade, rules int) (bool, error) {
	_, figures, _, err := freezeFiguresBy(l, f.ValidThrough, f.CodeVersion, rules)
	if err != nil {
		return false, err
	}
	var now, then map[string]json.RawMessage
	if err := json.Unmarshal(figures, &now); err != nil {
		return false, err
	}
	if err := json.Unmarshal(f.Figures, &then); err != nil {
		return false, fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	delete(now, "seq")
	delete(then, "seq")
	return maps.EqualFunc(now, then, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }), nil
}

// flagKindsV1 and flagMeaningV1 are the flag kinds format 1 counts, in its order, and its words.
var (
	flagKindsV1   = []string{FlagArrearsWithoutEnforcement, FlagWaiverReview, FlagBaseBelowFloor, FlagParkEmployerNotEnrolled, FlagHighRiskWithoutWorkInjury}
	flagMeaningV1 = map[string]string{
		FlagArrearsWithoutEnforcement: "arrears past the grace period with no enforcement step since they fell due",
		FlagWaiverReview:              "a principal waiver, or a late-fee waiver over half the fee (随意减免 review)",
		FlagBaseBelowFloor:            "declared base per head under 60% of the average wage",
		FlagParkEmployerNotEnrolled:   "industrial-park employer without pension enrollment",
		FlagHighRiskWithoutWorkInjury: "risk class 3 employer without work-injury enrollment",
	}
)

// reportV1 and the types below are format 1's layout, field by field: never change them.
type reportV1 struct {
	Seq      uint64        `json:"seq"`
	AsOf     domain.Date   `json:"as_of"`
	Period   domain.Period `json:"period"`
	Counties []*figuresV1  `json:"counties"`
	Groups   []*figuresV1  `json:"groups"`
	City     *figuresV1    `json:"city"`
}

type figuresV1 struct {
	Code                  string                                   `json:"code,omitempty"`
	Name                  string                                   `json:"name,omitempty"`
	NameEN                string                                   `json:"name_en,omitempty"`
	Group                 int                                      `json:"group,omitempty"`
	Employers             int64                                    `json:"employers"`
	Insurances            map[domain.Insurance]*insuranceFiguresV1 `json:"insurances"`
	ArrearsCurrentYearFen domain.Fen                               `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen  domain.Fen                               `json:"arrears_prior_years_fen"`
	RecoveredFen          domain.Fen                               `json:"recovered_fen"`
	LateFeeFen            domain.Fen                               `json:"late_fee_fen"`
	ContractsSigned       int64                                    `json:"contracts_signed"`
	Flags                 []flagV1                                 `json:"flags"`
}

type insuranceFiguresV1 struct {
	Insured                  int64      `json:"insured"`
	ShouldInsure             int64      `json:"should_insure"`
	CoverageRate             Ratio      `json:"coverage_rate"`
	PaidInsured              int64      `json:"paid_insured"`
	ContributionRate         Ratio      `json:"contribution_rate"`
	PeriodDueFen             domain.Fen `json:"period_due_fen"`
	PeriodCollectedFen       domain.Fen `json:"period_collected_fen"`
	PeriodCollectionRate     Ratio      `json:"period_collection_rate"`
	CumulativeDueFen         domain.Fen `json:"cumulative_due_fen"`
	CumulativeCollectedFen   domain.Fen `json:"cumulative_collected_fen"`
	CumulativeCollectionRate Ratio      `json:"cumulative_collection_rate"`
	ArrearsCurrentYearFen    domain.Fen `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen     domain.Fen `json:"arrears_prior_years_fen"`
	RecoveredFen             domain.Fen `json:"recovered_fen"`
	YearCollectedFen         domain.Fen `json:"year_collected_fen"`
}

// flagV1 is a county's count of one kind of flag.
type flagV1 struct {
	Kind   string `json:"kind"`
	Count  int64  `json:"count,omitempty"`
	Detail string `json:"detail"`
}

// v1 lays the report out in format 1.
func (r *Report) v1() *reportV1 {
	out := &reportV1{Seq: r.Seq, AsOf: r.AsOf, Period: r.Period, City: r.City.v1()}
	for _, c := range r.Counties {
		out.Counties = append(out.Counties, c.v1())
	}
	for _, g := range r.Groups {
		out.Groups = append(out.Groups, g.v1())
	}
	return out
}

func (f *Figures) v1() *figuresV1 {
	out := &figuresV1{Code: f.Code, Name: f.Name, NameEN: f.NameEN, Group: f.Group, Employers: f.Employers,
		Insurances:            make(map[domain.Insurance]*insuranceFiguresV1, len(f.Insurances)),
		ArrearsCurrentYearFen: f.ArrearsCurrentYearFen, ArrearsPriorYearsFen: f.ArrearsPriorYearsFen, RecoveredFen: f.RecoveredFen,
		LateFeeFen: f.LateFeeFen, ContractsSigned: f.ContractsSigned, Flags: []flagV1{}}
	for ins, x := range f.Insurances {
		out.Insurances[ins] = &insuranceFiguresV1{Insured: x.Insured, ShouldInsure: x.ShouldInsure, CoverageRate: x.CoverageRate,
			PaidInsured: x.PaidInsured, ContributionRate: x.ContributionRate, PeriodDueFen: x.PeriodDueFen, PeriodCollectedFen: x.PeriodCollectedFen,
			PeriodCollectionRate: x.PeriodCollectionRate, CumulativeDueFen: x.CumulativeDueFen, CumulativeCollectedFen: x.CumulativeCollectedFen,
			CumulativeCollectionRate: x.CumulativeCollectionRate, ArrearsCurrentYearFen: x.ArrearsCurrentYearFen,
			ArrearsPriorYearsFen: x.ArrearsPriorYearsFen, RecoveredFen: x.RecoveredFen, YearCollectedFen: x.YearCollectedFen}
	}
	counts := map[string]int64{}
	for _, fl := range f.EmployerFlags {
		counts[fl.Kind]++
	}
	for _, kind := range flagKindsV1 {
		if n := counts[kind]; n > 0 {
			out.Flags = append(out.Flags, flagV1{Kind: kind, Count: n, Detail: fmt.Sprintf("%d employers: %s", n, flagMeaningV1[kind])})
		}
	}
	return out
}

// reportV2 is format 2's layout: the figures of every payer as Report writes them, and those of
// the segments as a table.
type reportV2 struct {
	Seq      uint64        `json:"seq"`
	AsOf     domain.Date   `json:"as_of"`
	Period   domain.Period `json:"period"`
	Counties []*Figures    `json:"counties"`
	Groups   []*Figures    `json:"groups"`
	City     *Figures      `json:"city"`
	Segments *segmentTable `json:"segments"`
}

// segmentTable is how format 2 stores the figures of the segments. Written out whole, as
// the counties, groups and city of each (Figures), they took ~750 KB of a ~850 KB freeze, near
// an external nats-server's 1 MiB max_payload, though nearly all of it can be computed from
// the rest: a group and the city are sums of counties, a rate is its parts divided, a county's
// name and group are the report's own, a flag's detail follows from its kind and count, and a
// county with no payer of the segment is all zeros. So each segment keeps, per county whose
// figures are not all zero, one row of the numbers nothing else gives, named once by Columns;
// reading it back (expand) recomputes the rest with the code live reads use (Sum, finish).
// The groups' counties are stored (Groups) rather than taken from the reference data of the
// day it is read.
type segmentTable struct {
	// Columns names the numbers of every row, in order: figures of the county, "field_work.*",
	// "<insurance>.*" of each insurance, and "flags.<kind>" (the count of employers flagged).
	Columns []string `json:"columns"`
	// Groups lists, for each group of the report's groups in order, the codes of the counties
	// it sums.
	Groups [][]string `json:"groups"`
	// Figures are the segments in domain.Segments order (those of the freeze's code version).
	Figures []segmentRows `json:"figures"`
}

// segmentRows are one segment's figures: a row for each county whose figures are not all zero.
type segmentRows struct {
	Segment  domain.Segment     `json:"segment"`
	Counties map[string][]int64 `json:"counties"`
}

// segmentColumn is a number of a segment's county figures, by its place in Figures.
type segmentColumn struct {
	name string
	at   func(f *Figures) *int64
}

// segmentColumns are the numbers a row of segmentTable holds before the flag counts.
var segmentColumns = func() []segmentColumn {
	fen := func(p *domain.Fen) *int64 { return (*int64)(p) }
	cols := []segmentColumn{
		{"employers", func(f *Figures) *int64 { return &f.Employers }},
		{"arrears_current_year_fen", func(f *Figures) *int64 { return fen(&f.ArrearsCurrentYearFen) }},
		{"arrears_prior_years_fen", func(f *Figures) *int64 { return fen(&f.ArrearsPriorYearsFen) }},
		{"recovered_fen", func(f *Figures) *int64 { return fen(&f.RecoveredFen) }},
		{"prior_years_recovered_fen", func(f *Figures) *int64 { return fen(&f.PriorYearsRecoveredFen) }},
		{"late_fee_fen", func(f *Figures) *int64 { return fen(&f.LateFeeFen) }},
		{"contracts_signed", func(f *Figures) *int64 { return &f.ContractsSigned }},
		{"field_work.park_payers", func(f *Figures) *int64 { return &f.FieldWork.ParkPayers }},
		{"field_work.park_payers_inspected", func(f *Figures) *int64 { return &f.FieldWork.ParkPayersInspected }},
		{"field_work.registered_insured", func(f *Figures) *int64 { return &f.FieldWork.RegisteredInsured }},
		{"field_work.registered_not_insured", func(f *Figures) *int64 { return &f.FieldWork.RegisteredNotInsured }},
		{"field_work.found_not_registered", func(f *Figures) *int64 { return &f.FieldWork.FoundNotRegistered }},
		{"field_work.closed", func(f *Figures) *int64 { return &f.FieldWork.Closed }},
	}
	perInsurance := []struct {
		name string
		at   func(x *InsuranceFigures) *int64
	}{
		{"insured", func(x *InsuranceFigures) *int64 { return &x.Insured }},
		{"should_insure", func(x *InsuranceFigures) *int64 { return &x.ShouldInsure }},
		{"paid_insured", func(x *InsuranceFigures) *int64 { return &x.PaidInsured }},
		{"period_due_fen", func(x *InsuranceFigures) *int64 { return fen(&x.PeriodDueFen) }},
		{"period_collected_fen", func(x *InsuranceFigures) *int64 { return fen(&x.PeriodCollectedFen) }},
		{"cumulative_due_fen", func(x *InsuranceFigures) *int64 { return fen(&x.CumulativeDueFen) }},
		{"cumulative_collected_fen", func(x *InsuranceFigures) *int64 { return fen(&x.CumulativeCollectedFen) }},
		{"arrears_current_year_fen", func(x *InsuranceFigures) *int64 { return fen(&x.ArrearsCurrentYearFen) }},
		{"arrears_prior_years_fen", func(x *InsuranceFigures) *int64 { return fen(&x.ArrearsPriorYearsFen) }},
		{"recovered_fen", func(x *InsuranceFigures) *int64 { return fen(&x.RecoveredFen) }},
		{"prior_years_recovered_fen", func(x *InsuranceFigures) *int64 { return fen(&x.PriorYearsRecoveredFen) }},
		{"year_collected_fen", func(x *InsuranceFigures) *int64 { return fen(&x.YearCollectedFen) }},
	}
	for _, ins := range domain.Insurances {
		for _, c := range perInsurance {
			cols = append(cols, segmentColumn{string(ins) + "." + c.name, func(f *Figures) *int64 { return c.at(f.Insurances[ins]) }})
		}
	}
	return cols
}()

// flagColumn is the prefix of a flag count's column.
const flagColumn = "flags."

// segmentColumnNames are the names of a row's numbers: segmentColumns, then a count of each
// flag kind.
func segmentColumnNames() []string {
	names := make([]string, 0, len(segmentColumns)+len(FlagKinds))
	for _, c := range segmentColumns {
		names = append(names, c.name)
	}
	for _, kind := range FlagKinds {
		names = append(names, flagColumn+kind)
	}
	return names
}

// segmentRow is a county's figures as a row of segmentColumnNames, and whether any is not 0.
func segmentRow(f *Figures) ([]int64, bool) {
	row := make([]int64, 0, len(segmentColumns)+len(FlagKinds))
	for _, c := range segmentColumns {
		row = append(row, *c.at(f))
	}
	for _, kind := range FlagKinds {
		var n int64
		for _, fl := range f.Flags {
			if fl.Kind == kind {
				n += fl.Count
			}
		}
		row = append(row, n)
	}
	return row, slices.ContainsFunc(row, func(v int64) bool { return v != 0 })
}

// v2 lays the report out in format 2.
func (r *Report) v2() *reportV2 {
	t := &segmentTable{Columns: segmentColumnNames(), Groups: r.groupCounties, Figures: []segmentRows{}}
	if t.Groups == nil {
		t.Groups = [][]string{}
	}
	for _, sg := range r.Segments {
		rows := segmentRows{Segment: sg.Segment, Counties: map[string][]int64{}}
		for _, c := range sg.Counties {
			if row, any := segmentRow(c); any {
				rows.Counties[c.Code] = row
			}
		}
		t.Figures = append(t.Figures, rows)
	}
	return &reportV2{Seq: r.Seq, AsOf: r.AsOf, Period: r.Period, Counties: flagsWordedV2(r.Counties), Groups: flagsWordedV2(r.Groups),
		City: flagsWordedV2([]*Figures{r.City})[0], Segments: t}
}

// flagsWordedV2 returns copies of fs whose flag counts are worded as format 2 words them: "N
// employers" for every kind (Report now counts waiver_review's in waivers, which they are).
func flagsWordedV2(fs []*Figures) []*Figures {
	out := make([]*Figures, len(fs))
	for i, f := range fs {
		if f == nil {
			continue
		}
		c := *f
		c.Flags = make([]Flag, len(f.Flags))
		for j, fl := range f.Flags {
			fl.Detail = fmt.Sprintf("%d employers: %s", fl.Count, flagMeaning[fl.Kind])
			c.Flags[j] = fl
		}
		out[i] = &c
	}
	return out
}

// expand reads the segments' figures back whole: each segment's counties named as r's
// counties, in their order, with their rates and flags; its groups and city summed from them.
func (t *segmentTable) expand(r *Report) ([]*SegmentFigures, error) {
	set := make([]func(f *Figures, v int64), len(t.Columns))
	for i, name := range t.Columns {
		if kind, ok := strings.CutPrefix(name, flagColumn); ok && slices.Contains(FlagKinds, kind) {
			set[i] = func(f *Figures, v int64) {
				if v != 0 {
					f.flagCounts[kind] = v
				}
			}
			continue
		}
		j := slices.IndexFunc(segmentColumns, func(c segmentColumn) bool { return c.name == name })
		if j < 0 {
			return nil, fmt.Errorf("segments: unknown column %q", name)
		}
		set[i] = func(f *Figures, v int64) { *segmentColumns[j].at(f) = v }
	}
	if len(t.Groups) != len(r.Groups) {
		return nil, fmt.Errorf("segments: %d groups' counties for %d groups", len(t.Groups), len(r.Groups))
	}
	out := make([]*SegmentFigures, 0, len(t.Figures))
	for _, rows := range t.Figures {
		sg := &SegmentFigures{Segment: rows.Segment}
		byCode := map[string]*Figures{}
		for _, c := range r.Counties {
			f := newFigures()
			f.Code, f.Name, f.NameEN, f.Group = c.Code, c.Name, c.NameEN, c.Group
			if row, ok := rows.Counties[c.Code]; ok {
				if len(row) != len(set) {
					return nil, fmt.Errorf("segments: %s %s: %d numbers for %d columns", rows.Segment, c.Code, len(row), len(set))
				}
				f.flagCounts = map[string]int64{}
				for i, v := range row {
					set[i](f, v)
				}
			}
			f.finish()
			byCode[c.Code] = f
			sg.Counties = append(sg.Counties, f)
		}
		for code := range rows.Counties {
			if byCode[code] == nil {
				return nil, fmt.Errorf("segments: %s: figures of %s, which is not among the counties", rows.Segment, code)
			}
		}
		for i, g := range r.Groups {
			var parts []*Figures
			for _, code := range t.Groups[i] {
				if byCode[code] == nil {
					return nil, fmt.Errorf("segments: group %d sums %s, which is not among the counties", g.Group, code)
				}
				parts = append(parts, byCode[code])
			}
			gf := Sum(g.Name, parts)
			gf.Group = g.Group
			sg.Groups = append(sg.Groups, gf)
		}
		sg.City = Sum(r.City.Name, sg.Counties)
		out = append(out, sg)
	}
	return out, nil
}
