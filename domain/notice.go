package domain

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// IssueNotice issues an arrears notice (责令限期缴纳通知书) printed by the ledger: the caller
// numbers and prints it (Document) and the notice is recorded as the enforcement step "notice".
type IssueNotice struct {
	IssuedOn string `json:"issued_on"`
	Deadline string `json:"deadline"`
	ev       EnforcementStepRecorded
}

// MaxNoticeDays is the longest deadline a notice to correct gives, in days after its date: a
// notice orders payment within days or weeks (the demo gives 15 to 30), so a later one is a
// mistyped date that would keep escalation from ever following.
const MaxNoticeDays = 90

// MaxStepDays is the longest deadline another enforcement step may set (an inspection's order to
// correct, a court's term): a deadline further on is a mistyped year.
const MaxStepDays = 366

// Check validates the dates: issued_on not after today, deadline after issued_on and within
// MaxNoticeDays of it.
func (r *IssueNotice) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.Step = StepNotice
	r.ev.On = c.date("issued_on", r.IssuedOn, true)
	if r.Deadline == "" {
		c.fail(Invalid("deadline", "is required (YYYY-MM-DD)"))
	} else if d, err := ParseDate(r.Deadline); err != nil {
		c.fail(Invalid("deadline", "%v", err))
	} else if r.ev.Deadline = d; c.err == nil && d <= r.ev.On {
		c.fail(Invalid("deadline", "%s is not after the issue date %s", d, r.ev.On))
	} else if c.err == nil && d > r.ev.On.AddDays(MaxNoticeDays) {
		c.fail(Invalid("deadline", "%s is more than %d days after the issue date %s", d, MaxNoticeDays, r.ev.On))
	}
	return c.err
}

// Date is the issue date, once Check has read it: also when a rule refuses the notice's dates
// (a retry of a notice recorded before answers its first result).
func (r *IssueNotice) Date() Date { return r.ev.On }

// DeadlineDate is the deadline, once Check has read it (as Date).
func (r *IssueNotice) DeadlineDate() Date { return r.ev.Deadline }

// Document sets the notice's number and the SHA-256 (hex) of its printed bytes.
func (r *IssueNotice) Document(number, sha256Hex string) {
	r.ev.DocNo, r.ev.DocSHA256 = number, sha256Hex
}

// Decide refuses a notice to an employer with no principal overdue on the issue date, and one
// not numbered and printed (Document).
func (r *IssueNotice) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "issued_on", r.ev.On); err != nil {
		return nil, err
	}
	if r.ev.DocNo == "" || r.ev.DocSHA256 == "" {
		return nil, Invalid("doc_no", "the notice was not numbered and printed")
	}
	if err := owesOn(e, ctx, "issued_on", r.ev.On, "nothing to order paid"); err != nil {
		return nil, err
	}
	if err := e.CheckNoticeCase(r.ev.On, r.ev.Deadline); err != nil {
		return nil, err
	}
	return []Payload{r.ev}, nil
}

// noticeMark opens every notice number: 赣 (Ganzhou), 社 (social insurance), 征 (collection).
const noticeMark = "赣社征〔"

// NoticePrefix is the part of a notice number before its serial: 赣社征〔2006〕章贡- for a notice of
// 章贡区 issued in 2006. The county is named without its 区/县/市 suffix unless that would leave
// one character (赣县 stays 赣县); 赣州经济技术开发区 is 赣州经开.
func NoticePrefix(countyName string, year int) string {
	short := countyName
	if s, ok := strings.CutSuffix(countyName, "经济技术开发区"); ok {
		short = s + "经开"
	} else {
		for _, suffix := range []string{"区", "县", "市"} {
			if s, ok := strings.CutSuffix(countyName, suffix); ok && utf8.RuneCountInString(s) >= 2 {
				short = s
				break
			}
		}
	}
	return fmt.Sprintf("%s%d〕%s-", noticeMark, year, short)
}

// NoticeNumber is the n-th notice number of a prefix (NoticePrefix), the serial in at least four
// digits: 赣社征〔2006〕章贡-0001.
func NoticeNumber(prefix string, n int) string { return fmt.Sprintf("%s%04d", prefix, n) }

// ParseNoticeNumber splits a notice number into its prefix and serial; ok is false for a doc_no
// not in the ledger's notice format.
func ParseNoticeNumber(s string) (prefix string, n int, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if !strings.HasPrefix(s, noticeMark) || i < 0 || len(s)-i-1 < 4 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 1 || strconv.Itoa(n) != strings.TrimLeft(s[i+1:], "0") {
		return "", 0, false
	}
	return s[:i+1], n, true
}

// LegalBasis is the legal basis of a late fee accruing on day d: article 13 of the 1999 interim
// regulations before 2011-07-01, article 86 of the Social Insurance Law from then.
func LegalBasis(d Date) string {
	if d < socialInsuranceLawInForce {
		return "《社会保险费征缴暂行条例》第十三条"
	}
	return "《中华人民共和国社会保险法》第八十六条"
}

var socialInsuranceLawInForce = MustDate("2011-07-01")
