// Package documents prints the ledger's paper documents as PDF: A4, in Chinese, with a subset of
// AR PL SungtiL GB embedded, and byte for byte the same for the same ledger sequence (no clock,
// no random ids: the dates in a document's metadata are the ledger's).
package documents

import (
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// Notice is what an arrears notice (责令限期缴纳通知书) prints.
type Notice struct {
	Number   string
	IssuedOn domain.Date
	Deadline domain.Date
	// The payer as it stood on IssuedOn.
	Name       string
	OrgCode    string
	CreditCode string
	CountyCode string
	CountyName string
	// Person is whether the payer pays as a person (个体工商户, 灵活就业人员).
	Person bool
	// Lines are the lines with principal overdue or late fee owed on IssuedOn, oldest period
	// first.
	Lines []NoticeLine
	// PrincipalFen is the principal overdue (arrears) on IssuedOn, LateFeeFen the late fee
	// accrued to IssuedOn and not paid or waived, TotalFen their sum.
	PrincipalFen, LateFeeFen, TotalFen domain.Fen
	// Rates are the daily late-fee rates in force from the day after the earliest listed line
	// fell due to IssuedOn, by the dates they applied (as printings before OwnWriterFeeDays print
	// them, whether or not a listed line accrued fee on those days); FeeDays are the runs of days
	// on which a listed line did, each at its rate (as OwnWriterFeeDays prints them).
	Rates, FeeDays []NoticeRate
}

// NoticeLine is one line of a notice.
type NoticeLine struct {
	Period         domain.Period
	Insurance      domain.Insurance
	DueDate        domain.Date
	OutstandingFen domain.Fen
	LateFeeFen     domain.Fen
}

// NoticeRate is a daily late-fee rate applied from From through Through, with its legal basis.
type NoticeRate struct {
	From, Through domain.Date
	DailyBP       domain.BasisPoints
	Basis         string
}

// Office is the county office that issues the county's notices.
func (n *Notice) Office() string { return n.CountyName + "社会保险事业管理局" }

// NoticeOf composes the notice numbered number, issued on issuedOn with deadline, from the
// employer's events recorded before it (stream order) and the reference data then: the payer,
// lines and figures as GET /v1/employers/{id}?as_of=issuedOn answers them.
func NoticeOf(number string, issuedOn, deadline domain.Date, events []domain.Event, ref *domain.Reference) Notice {
	at := domain.EmployerOn(events, issuedOn)
	st := at.Account.Statement(issuedOn, ref.LateFees)
	n := Notice{Number: number, IssuedOn: issuedOn, Deadline: deadline, Name: at.Name, OrgCode: at.OrgCode,
		CreditCode: at.CreditCode, CountyCode: ref.CountyCodeOn(at.County, issuedOn), Person: at.Kind.Individual()}
	if c, ok := ref.County(n.CountyCode); ok {
		n.CountyName = c.Name
	}
	var accrualFrom domain.Date // the earliest day a listed line accrued a fee
	var accrued []domain.LineKey
	for _, l := range st.Lines {
		cur, prior := l.Arrears(issuedOn)
		overdue := cur.Plus(prior)
		if overdue == 0 && l.LateFeeFen == 0 {
			continue
		}
		n.Lines = append(n.Lines, NoticeLine{Period: l.Period, Insurance: l.Insurance, DueDate: l.DueDate,
			OutstandingFen: overdue, LateFeeFen: l.LateFeeFen})
		n.PrincipalFen = n.PrincipalFen.Plus(overdue)
		n.LateFeeFen = n.LateFeeFen.Plus(l.LateFeeFen)
		if l.LateFeeAccruedFen > 0 {
			accrued = append(accrued, domain.LineKey{Period: l.Period, Insurance: l.Insurance})
			if accrualFrom == 0 || l.DueDate+1 < accrualFrom {
				accrualFrom = l.DueDate + 1
			}
		}
	}
	n.TotalFen = n.PrincipalFen + n.LateFeeFen
	if accrualFrom == 0 {
		return n
	}
	for i, f := range ref.LateFees {
		from, through := max(f.EffectiveFrom, accrualFrom), issuedOn
		if i+1 < len(ref.LateFees) {
			through = min(through, ref.LateFees[i+1].EffectiveFrom-1)
		}
		if from <= through {
			n.Rates = append(n.Rates, NoticeRate{From: from, Through: through, DailyBP: f.DailyBP, Basis: domain.LegalBasis(from)})
		}
	}
	for _, d := range at.Account.FeeDays(issuedOn, ref.LateFees, accrued) {
		n.FeeDays = append(n.FeeDays, NoticeRate{From: d.From, Through: d.Through, DailyBP: d.DailyBP, Basis: domain.LegalBasis(d.From)})
	}
	return n
}

// InsuranceName is the insurance's name as documents print it (养老保险 …).
func InsuranceName(ins domain.Insurance) string {
	switch ins {
	case domain.Pension:
		return "养老保险"
	case domain.Unemployment:
		return "失业保险"
	case domain.Medical:
		return "医疗保险"
	case domain.WorkInjury:
		return "工伤保险"
	case domain.Maternity:
		return "生育保险"
	}
	return string(ins)
}

// Yuan writes an amount in yuan as documents print it: two decimals, thousands grouped with
// commas (1234567 → 12,345.67).
func Yuan(f domain.Fen) string {
	s := f.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// DailyRate writes a daily rate in basis points as a per-mille figure: 20 → 2‰, 5 → 0.5‰.
func DailyRate(bp domain.BasisPoints) string {
	s := strconv.FormatInt(int64(bp)/10, 10)
	if tenth := int64(bp) % 10; tenth != 0 {
		s += "." + strconv.FormatInt(tenth, 10)
	}
	return s + "‰"
}

// ChineseDate writes a date as 2006年8月31日.
func ChineseDate(d domain.Date) string {
	y, m, day := d.YMD()
	return strconv.Itoa(y) + "年" + strconv.Itoa(int(m)) + "月" + strconv.Itoa(day) + "日"
}
