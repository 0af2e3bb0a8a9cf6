package projections

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// A freeze's digest is the SHA-256 of its figures as JSON, so the figures' layout is part of
// what a freeze is: the same (S, D) must give the same digest forever. Figures gain fields over
// time; a freeze is reproduced in the layout it was made in, named by its code version.
const (
	// FreezeFormat1 is the layout of freezes made by views-1 to views-9: counties, groups and
	// the city, the flag kinds of then (flagKindsV1), no 清欠率 (reportV1).
	FreezeFormat1 = 1
	// FreezeFormat2 is the layout from views-10 on: Report as it marshals, with 清欠率 beside
	// recovered_fen, the field work (park audit coverage, the survey's categories) and the
	// figures of every segment. It was changed in place before any release (issue 18), its
	// recorded digests recorded again each time; from the first release on, a change is a new
	// format.
	FreezeFormat2 = 2
	// freezeFormat is the layout freezes are made in now. A change to what Report writes is a
	// new format: add it here, keep the old ones (TestFreezesOfFormat* record each).
	freezeFormat = FreezeFormat2
)

// FreezeFormatOf is the layout of a freeze made by the views of codeVersion.
func FreezeFormatOf(codeVersion string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(codeVersion, "views-"))
	switch {
	case err != nil || !strings.HasPrefix(codeVersion, "views-") || n < 1:
		return 0, fmt.Errorf("code version %q: not one of this ledger's views", codeVersion)
	case n <= 9:
		return FreezeFormat1, nil
	default:
		return FreezeFormat2, nil
	}
}

// FreezeFiguresIn is the canonical form of the figures a freeze valid through d of views l
// holds in format, and its SHA-256 digest.
func FreezeFiguresIn(l *Ledger, d domain.Date, format int) (*Report, []byte, string, error) {
	var rep *Report
	var v any
	switch format {
	case FreezeFormat1:
		rep = l.Report(FreezeQuery(&l.Ref, d))
		v = rep.v1()
	case FreezeFormat2:
		rep = l.freezeReport(FreezeQuery(&l.Ref, d))
		v = rep
	default:
		return nil, nil, "", fmt.Errorf("no freeze format %d", format)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256(b)
	return rep, b, hex.EncodeToString(sum[:]), nil
}

// VerifyFreeze reproduces the freeze f from views l folded through its sequence: the chain head,
// and the figures in f's format byte for byte, with their digest. It says what differs.
func VerifyFreeze(l *Ledger, f domain.FreezeMade) error {
	if l.Seq != f.ThroughSeq {
		return fmt.Errorf("freeze %s: the views are at sequence %d, the freeze at %d", f.ID, l.Seq, f.ThroughSeq)
	}
	format, err := FreezeFormatOf(f.CodeVersion)
	if err != nil {
		return fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	_, figures, digest, err := FreezeFiguresIn(l, f.ValidThrough, format)
	if err != nil {
		return fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	if head := ChainHead(l); head != f.ChainHead {
		return fmt.Errorf("freeze %s: chain head %s, the views give %s", f.ID, f.ChainHead, head)
	}
	if digest != f.Digest || !bytes.Equal(figures, f.Figures) {
		return fmt.Errorf("freeze %s: digest %s, the views give %s in format %d", f.ID, f.Digest, digest, format)
	}
	return nil
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
