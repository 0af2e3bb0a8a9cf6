package documents

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// Statement is what a statement (对账单) prints: the balances before From, every event dated
// From through To with the balances at the end of its day, and the balances as of To, all as the
// employer's history (projections.BuildHistory) computes them from the events recorded through
// ThroughSeq.
type Statement struct {
	From, To   domain.Date
	ThroughSeq uint64
	// The payer as it stood on To.
	Payer Payer
	// Opening are the totals as of the day before From, Closing those as of To.
	Opening, Closing projections.Balances
	// Rows are the events dated From through To, in business-date order (stream order within a
	// day).
	Rows []StatementRow
}

// Payer is the payer a document names, as it stood on the document's date.
type Payer struct {
	Name, OrgCode, CreditCode, CountyCode, CountyName string
	// Person is whether the payer pays as a person (个体工商户, 灵活就业人员).
	Person bool
}

// StatementRow is one event of a statement.
type StatementRow struct {
	Seq  uint64
	On   domain.Date
	Type string
	// What says what the event did; AmountFen is the money it moved or set due (0: none).
	What      string
	AmountFen domain.Fen
	// VoidedBy is the sequence of the void, shown by the statement, that voids this event (0:
	// none).
	VoidedBy uint64
	// Balances are the employer's at the end of the event's business date.
	Balances projections.Balances
}

// StatementOf composes the statement of employer id for from through to from its stored events
// (stream order) recorded through throughSeq, with the reference data ref.
func StatementOf(id string, raw []eventstore.RawEvent, throughSeq uint64, from, to domain.Date, ref *domain.Reference) Statement {
	st := Statement{From: from, To: to, ThroughSeq: throughSeq}
	closing := projections.NewHistoryBuilder(id, throughSeq, to, ref.LateFees)
	var events []domain.Event
	for _, ev := range raw {
		row, shown := closing.Add(ev)
		if throughSeq == 0 || ev.Seq <= throughSeq {
			events = append(events, ev.Event)
		}
		if !shown || row.OccurredOn < from {
			continue
		}
		what, amount := describe(ev.Event, raw, ref)
		st.Rows = append(st.Rows, StatementRow{Seq: row.Seq, On: row.OccurredOn, Type: row.Type, What: what, AmountFen: amount})
	}
	var c projections.History
	closing.Finish(&c)
	st.Closing = c.Balances
	for _, v := range c.Voided {
		for i := range st.Rows {
			if st.Rows[i].Seq == v.EventSeq {
				st.Rows[i].VoidedBy = v.VoidSeq
			}
		}
	}
	slices.SortStableFunc(st.Rows, func(a, b StatementRow) int { return cmp.Compare(a.On, b.On) })
	// The opening balances and a row's, its day's closing ones, are of every event recorded
	// through throughSeq: in date order the rows then never contradict each other, as the
	// history's balances (after the events recorded before each) did when an event was recorded
	// after a later-dated one. One fold, its totals taken day after day (a replay goes on from
	// the day before).
	e := &domain.Employer{ID: id}
	e.Fold(events)
	rp := domain.NewReplay(ref.LateFees)
	st.Opening = projections.BalancesOf(rp.TotalsOn(&e.Account, from-1))
	for i := range st.Rows {
		if i > 0 && st.Rows[i].On == st.Rows[i-1].On {
			st.Rows[i].Balances = st.Rows[i-1].Balances
			continue
		}
		st.Rows[i].Balances = projections.BalancesOf(rp.TotalsOn(&e.Account, st.Rows[i].On))
	}
	rp.Release()
	st.Payer = payerOn(events, to, ref)
	return st
}

// payerOn is the payer folded from events as it stood on on.
func payerOn(events []domain.Event, on domain.Date, ref *domain.Reference) Payer {
	at := domain.EmployerOn(events, on)
	p := Payer{Name: at.Name, OrgCode: at.OrgCode, CreditCode: at.CreditCode, CountyCode: ref.CountyCodeOn(at.County, on), Person: at.Kind.Individual()}
	if c, ok := ref.County(p.CountyCode); ok {
		p.CountyName = c.Name
	}
	return p
}

// title is what p calls the payer (缴费单位, or 缴费人 for a person).
func (p Payer) title(pr Printing) string {
	t, _ := pr.payerWords(p.Person)
	return t
}

// code is the payer's identifying code as documents print it.
func (p Payer) code() string {
	switch {
	case p.CreditCode != "":
		return "统一社会信用代码：" + p.CreditCode
	case p.OrgCode == "":
		return "组织机构代码：无（个人缴费）"
	}
	return "组织机构代码：" + p.OrgCode
}

// office is the county office that issues the payer's documents.
func (p Payer) office() string { return p.CountyName + "社会保险事业管理局" }

// eventNames are the names documents give the event types.
var eventNames = map[string]string{
	domain.EmployerRegistered{}.EventType():      "参保登记",
	domain.EmployerFound{}.EventType():           "普查发现",
	domain.RegistrationCompleted{}.EventType():   "补办登记",
	domain.EmployerChanged{}.EventType():         "登记变更",
	domain.SurveyCounted{}.EventType():           "摸底调查",
	domain.EnrollmentRecorded{}.EventType():      "参保人数",
	domain.DeclarationFiled{}.EventType():        "申报",
	domain.AssessmentMade{}.EventType():          "核定",
	domain.OpeningBalanceRecorded{}.EventType():  "历年欠费",
	domain.PaymentReceived{}.EventType():         "缴费",
	domain.PaymentReversed{}.EventType():         "退票",
	domain.AuditFindingRecorded{}.EventType():    "稽核补缴",
	domain.WaiverGranted{}.EventType():           "减免",
	domain.EnforcementStepRecorded{}.EventType(): "执法",
	domain.InspectionRecorded{}.EventType():      "稽查",
	domain.ContractsSigned{}.EventType():         "劳动合同",
	domain.EmployerTransferred{}.EventType():     "转移",
	domain.EmployerDeregistered{}.EventType():    "注销",
	domain.EmployerReinstated{}.EventType():      "复业",
	domain.OrgCodeCorrected{}.EventType():        "代码更正",
	domain.OrgCodeClaimed{}.EventType():          "代码占用",
	domain.EventVoided{}.EventType():             "冲正",
	domain.CreditRefunded{}.EventType():          "退费",
}

// stepNames are the names documents and the dashboard give the enforcement ladder's steps and
// the stages it shows.
var stepNames = map[string]string{
	domain.StageNone:            "无",
	domain.StepNotice:           "催缴通知",
	domain.StepInspection:       "稽查",
	domain.StepMediaExposure:    "媒体曝光",
	domain.StepForcedCollection: "强制征缴",
	domain.StepCourtApplication: "申请法院",
	domain.StepCourtResult:      "法院裁决",
	domain.StageClosed:          "已结案",
}

// StepName is the name of an enforcement step or stage (its code when it has none).
func StepName(step string) string {
	if n, ok := stepNames[step]; ok {
		return n
	}
	return step
}

// EventName is the name documents give an event type (its code when it has none).
func EventName(eventType string) string {
	if n, ok := eventNames[eventType]; ok {
		return n
	}
	return eventType
}

// describe says what ev did and the money it moved or set due; raw are the employer's events,
// to find what a reversal or a void names; ref names the counties of a transfer.
func describe(ev domain.Event, raw []eventstore.RawEvent, ref *domain.Reference) (string, domain.Fen) {
	name := EventName(ev.Type)
	switch b := ev.Body.(type) {
	case domain.DeclarationFiled:
		var sum domain.Fen
		parts := make([]string, len(b.Lines))
		for i, l := range b.Lines {
			sum += l.DueFen
			parts[i] = InsuranceName(l.Insurance) + " " + Yuan(l.DueFen)
		}
		return fmt.Sprintf("%s %s，应缴 %s 元，缴费期限 %s（%s）", name, b.Period, Yuan(sum), b.DueOn, strings.Join(parts, "；")), sum
	case domain.AssessmentMade:
		var sum domain.Fen
		parts := make([]string, len(b.Lines))
		for i, l := range b.Lines {
			sum += l.DueFen
			parts[i] = InsuranceName(l.Insurance) + " " + Yuan(l.DueFen)
		}
		return fmt.Sprintf("%s %s，应缴 %s 元，缴费期限 %s（%s；%s）", name, b.Period, Yuan(sum), b.DueOn, strings.Join(parts, "；"), assessmentReason(b.Reason)), sum
	case domain.OpeningBalanceRecorded:
		var sum domain.Fen
		parts := make([]string, len(b.Lines))
		for i, l := range b.Lines {
			sum += l.OutstandingFen
			parts[i] = l.Period.String() + " " + InsuranceName(l.Insurance) + " " + Yuan(l.OutstandingFen)
		}
		return fmt.Sprintf("%s，欠缴 %s 元（%s）", name, Yuan(sum), strings.Join(parts, "；")), sum
	case domain.AuditFindingRecorded:
		return fmt.Sprintf("%s %s %s，应缴 %s 元，缴费期限 %s", name, b.Period, InsuranceName(b.Insurance), Yuan(b.DueFen), b.DueOn), b.DueFen
	case domain.PaymentReceived:
		s := fmt.Sprintf("%s，收据号 %s，金额 %s 元", name, b.ReceiptNo, Yuan(b.AmountFen))
		if len(b.Allocations) > 0 {
			s += "，指定冲抵：" + allocations(b.Allocations)
		}
		return s, b.AmountFen
	case domain.PaymentReversed:
		amount, paid := paymentOf(raw, b.ReceiptNo, ev.Seq)
		return fmt.Sprintf("%s，收据号 %s 的缴费（%s）%s 元冲回（%s）", name, b.ReceiptNo, paid, Yuan(amount), b.Reason), amount
	case domain.WaiverGranted:
		return fmt.Sprintf("%s %s %s %s %s 元（%s，%s）", name, waiverKind(b.Kind), b.Period, InsuranceName(b.Insurance), Yuan(b.AmountFen), b.AuthorityDoc, b.Reason), b.AmountFen
	case domain.EventVoided:
		what := ""
		for _, t := range raw {
			// A transfer voided puts the payer back: the row says where from and to.
			if tr, ok := t.Body.(domain.EmployerTransferred); ok && t.Seq == b.TargetSeq {
				what = fmt.Sprintf("，由 %s 转至 %s", countyNamed(ref, tr.From), countyNamed(ref, tr.To))
			}
		}
		return fmt.Sprintf("%s 第 %d 号 %s（%s%s）：%s", name, b.TargetSeq, EventName(b.TargetType), b.TargetOn, what, b.Reason), 0
	case domain.CreditRefunded:
		return fmt.Sprintf("%s，收据号 %s，退还溢缴 %s 元", name, b.ReceiptNo, Yuan(b.AmountFen)), b.AmountFen
	case domain.EnforcementStepRecorded:
		s := fmt.Sprintf("%s：%s，文号 %s", name, StepName(b.Step), b.DocNo)
		if b.Deadline != 0 {
			s += "，限期 " + b.Deadline.String()
		}
		return s, 0
	case domain.EmployerTransferred:
		return fmt.Sprintf("%s：由 %s 转至 %s", name, countyNamed(ref, b.From), countyNamed(ref, b.To)), 0
	case domain.SurveyCounted:
		s := fmt.Sprintf("%s，截至 %s 职工 %d 人", name, b.AsOf, b.Workforce)
		if b.Migrants > 0 {
			s += fmt.Sprintf("（农民工 %d 人）", b.Migrants)
		}
		return s, 0
	}
	return name, 0
}

// countyNamed names a county by its name and code (章贡区（360702）), or its code alone when ref
// knows none.
func countyNamed(ref *domain.Reference, code string) string {
	if ref != nil {
		if c, ok := ref.County(code); ok {
			return c.Name + "（" + code + "）"
		}
	}
	return code
}

// allocations writes a payment's allocations: 2006-03 养老保险 500.00 元；….
func allocations(as []domain.Allocation) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Period.String() + " " + InsuranceName(a.Insurance) + " " + Yuan(a.AmountFen) + " 元"
	}
	return strings.Join(parts, "；")
}

// paymentOf finds the last payment with receipt receiptNo recorded before sequence seq: its
// amount and its date and sequence as a document names them.
func paymentOf(raw []eventstore.RawEvent, receiptNo string, seq uint64) (domain.Fen, string) {
	var amount domain.Fen
	named := "未见原缴费"
	for _, ev := range raw {
		if p, ok := ev.Body.(domain.PaymentReceived); ok && ev.Seq < seq && p.ReceiptNo == receiptNo {
			amount, named = p.AmountFen, fmt.Sprintf("%s，第 %d 号", p.PaidOn, ev.Seq)
		}
	}
	return amount, named
}

// waiverKind names a waiver's kind.
func waiverKind(kind string) string {
	switch kind {
	case domain.WaiverLateFee:
		return "滞纳金"
	case domain.WaiverPrincipal:
		return "本金"
	}
	return kind
}

// assessmentReason words an assessment's reason as the statement prints it: for no declaration
// (at 110% of the period before, or the lines given when there was none) or by an audit.
func assessmentReason(reason string) string {
	switch reason {
	case domain.AssessNoDeclaration:
		return "未申报核定"
	case domain.AssessAudit:
		return "稽核核定"
	}
	return reason
}

// statementColumns are the columns of a statement's balance rows.
var statementColumns = []struct {
	title string
	width float64
}{
	{"序号", 14}, {"日期", 22}, {"应缴本金", 23}, {"已缴本金", 23}, {"减免本金", 22}, {"欠缴本金", 22}, {"滞纳金", 22}, {"溢缴余额", 22},
}

// Render prints the statement: the same statement gives the same bytes.
func (st *Statement) Render() ([]byte, error) { return st.RenderAs(Printings[0]) }

// RenderAs prints the statement the way p says.
func (st *Statement) RenderAs(p Printing) ([]byte, error) {
	title := "社会保险费对账单"
	return print(p, layout{on: st.To, title: title, footer: fmt.Sprintf("%s %s 至 %s 账本序号 %d", title, st.From, st.To, st.ThroughSeq)}, func(d *doc) {
		d.addPage()
		d.font(20)
		d.cell(textWidth, 12, title, "", 1, "C")
		d.font(11)
		para := func(s string) { d.paragraph(s) }
		para(st.Payer.title(p) + "：" + st.Payer.Name)
		para(st.Payer.code())
		para("所在县（市、区）：" + st.Payer.CountyName + "（" + st.Payer.CountyCode + "）")
		para(fmt.Sprintf("对账期间：%s 至 %s（账本序号 %d 及以前记录的业务）", ChineseDate(st.From), ChineseDate(st.To), st.ThroughSeq))
		para(fmt.Sprintf("金额单位：元。每笔业务后的余额为该业务日期日终的余额，计入账本序号 %d 及以前记录的全部业务；滞纳金为截至该日应缴未缴、未减免的滞纳金。", st.ThroughSeq))
		d.ln(2)
		header := func() {
			d.font(9)
			for _, c := range statementColumns {
				d.cell(c.width, rowHeight, c.title, "1", 0, "C")
			}
			d.ln(-1)
		}
		row := func(first, on string, b projections.Balances) {
			d.font(9)
			if d.y()+rowHeight > pageHeight-margin-5 {
				d.addPage()
				header()
			}
			cells := []string{first, on, Yuan(b.DueFen), Yuan(b.PaidFen), Yuan(b.WaivedFen), Yuan(b.OutstandingFen), Yuan(b.LateFeeFen), Yuan(b.CreditFen)}
			for i, c := range statementColumns {
				align := "R"
				if i < 2 {
					align = "C"
				}
				d.tableCell(c.width, rowHeight, cells[i], "1", 0, align)
			}
			d.ln(-1)
		}
		// note prints an event's description, on a new page with the header when three lines and
		// its row would not fit (a longer description, a long waiver reason, may still flow over).
		note := func(s string) {
			if d.y()+4*rowHeight > pageHeight-margin-5 {
				d.addPage()
				header()
			}
			d.font(10)
			d.paragraph(s)
		}
		header()
		row("期初", (st.From - 1).String(), st.Opening)
		for _, r := range st.Rows {
			what := r.What
			if r.VoidedBy != 0 {
				what += "（已由第 " + strconv.FormatUint(r.VoidedBy, 10) + " 号冲正）"
			}
			note(fmt.Sprintf("第 %d 号 %s %s", r.Seq, r.On, what))
			row(strconv.FormatUint(r.Seq, 10), r.On.String(), r.Balances)
		}
		row("期末", st.To.String(), st.Closing)
		c := st.Closing
		summary := []string{"截至" + ChineseDate(st.To) + "："}
		for _, t := range []struct {
			name string
			fen  domain.Fen
		}{{"应缴本金", c.DueFen}, {"已缴本金", c.PaidFen}, {"减免本金", c.WaivedFen}, {"欠缴本金", c.OutstandingFen}, {"滞 纳 金", c.LateFeeFen}, {"溢缴余额", c.CreditFen}} {
			summary = append(summary, t.name+"：人民币 "+Yuan(t.fen)+" 元（大写："+domain.ChineseCapitals(t.fen)+"）")
		}
		// The totals and the sign-off go on one page: a page of the office's date alone was printed.
		d.font(11)
		lines := 0
		for _, s := range summary {
			lines += len(d.wrap(s, textWidth))
		}
		d.keep(3 + float64(lines)*paragraphLine + signHeight)
		d.ln(3)
		for _, s := range summary {
			para(s)
		}
		d.footerSign(st.Payer, st.To)
	})
}

// signHeight is what footerSign prints.
const signHeight = 8 + 2*7

// keep starts a new page unless h mm more fit on this one (an upright page: the statement and
// the receipts that sign off), so that what follows is not split.
func (d *doc) keep(h float64) {
	if d.p != nil && d.y()+h > pageHeight-bottomMargin {
		d.addPage()
	}
}

// keepsTogether reports whether the document prints the OwnWriterKeepTogether way, which keeps
// a signature on one page with what it closes.
func (d *doc) keepsTogether() bool {
	w, ok := d.p.(*writer)
	return ok && w.keepTogether
}

// footerSign prints the issuing office and the date at the end of a document, both on one page.
func (d *doc) footerSign(p Payer, on domain.Date) {
	d.keep(signHeight)
	d.ln(8)
	d.font(11)
	d.cell(textWidth, 7, p.office(), "", 1, "R")
	d.cell(textWidth, 7, ChineseDate(on), "", 1, "R")
}
