package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
	"golang.org/x/text/unicode/norm"
)

// FuzzParseDate: ParseDate never panics; what it accepts is exactly the text its String gives
// back (YYYY-MM-DD is the only spelling), which parses to the same date; what it refuses is a
// *DateError quoting the input.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2006-04-30", "2006-04-31", "2006-02-29", "2004-02-29", "2006-13-01", "06-04-01",
		"2006-4-1", "", "0000-01-01", "0001-01-01", "9999-12-31", "2006-00-10", "2006-01-00", "+006-01-01", "２００６-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		if err != nil {
			var de *domain.DateError
			if !errors.As(err, &de) || de.Input != s {
				t.Fatalf("ParseDate(%q): %v, want a *DateError quoting the input", s, err)
			}
			if d != 0 {
				t.Fatalf("ParseDate(%q) failed but returned %d", s, d)
			}
			return
		}
		if d.IsZero() {
			t.Fatalf("ParseDate(%q) accepted the zero date", s)
		}
		if got := d.String(); got != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, got)
		}
		back, err := domain.ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDate(%q) = %d, whose String %q parses back to %d, %v", s, d, d.String(), back, err)
		}
		y, m, day := d.YMD()
		if again, err := domain.DateOf(y, m, day); err != nil || again != d {
			t.Fatalf("DateOf%v = %d, %v; want %d", []int{y, int(m), day}, again, err, d)
		}
		if d.Period().FirstDay() > d || d.Period().LastDay() < d {
			t.Fatalf("%s is not within its period %s", d, d.Period())
		}
		text, err := d.MarshalText()
		if err != nil || string(text) != s {
			t.Fatalf("MarshalText of %s: %q, %v", s, text, err)
		}
		var u domain.Date
		if err := u.UnmarshalText(text); err != nil || u != d {
			t.Fatalf("UnmarshalText(%q) = %d, %v; want %d", text, u, err, d)
		}
	})
}

// FuzzParsePeriod: ParsePeriod never panics; an accepted period's String is the input and parses
// back equal; its first and last days lie in it, and Next/Prev step by one month.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2006-05", "2006-00", "2006-13", "2006-5", "06-05", "", "0001-01", "9999-12", "0000-12", "2006-05-01", "2006/05"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := domain.ParsePeriod(s)
		if err != nil {
			var de *domain.DateError
			if !errors.As(err, &de) || de.Input != s || de.Kind != "period" {
				t.Fatalf("ParsePeriod(%q): %v, want a *DateError of kind period quoting the input", s, err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("ParsePeriod(%q).String() = %q", s, got)
		}
		if back, err := domain.ParsePeriod(p.String()); err != nil || back != p {
			t.Fatalf("ParsePeriod(%q) = %d parses back as %d, %v", s, p, back, err)
		}
		if p.FirstDay().Period() != p || p.LastDay().Period() != p || p.LastDay() < p.FirstDay() {
			t.Fatalf("%s: first day %s, last day %s", s, p.FirstDay(), p.LastDay())
		}
		if p.Next().Prev() != p || p.Next().FirstDay() != p.LastDay().AddDays(1) {
			t.Fatalf("%s: Next %s, Prev of Next %s", s, p.Next(), p.Next().Prev())
		}
		if again, err := domain.PeriodOf(p.Year(), p.Month()); err != nil || again != p {
			t.Fatalf("PeriodOf(%d, %d) = %d, %v; want %d", p.Year(), p.Month(), again, err, p)
		}
	})
}

// FuzzNormalizeOrgCode: NormalizeOrgCode never panics, and a normalized code is a fixed point
// (with or without its hyphen, in either case) whose check digit OrgCodeCheck agrees with.
func FuzzNormalizeOrgCode(f *testing.F) {
	for _, s := range []string{"10000004-0", "100000040", "10000018-x", "10000018-X", "10000004-1", "1000000-40", "",
		"１0000004-0", "ABCDEFGH-", "a0000004-0", "10000004_0", "10000004-0 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := domain.NormalizeOrgCode(s)
		if err != nil {
			var ie *domain.IDError
			if !errors.As(err, &ie) || ie.Input != s || n != "" {
				t.Fatalf("NormalizeOrgCode(%q) = %q, %v: want \"\" and an *IDError quoting the input", s, n, err)
			}
			return
		}
		if len(n) != 10 || n[8] != '-' || n != strings.ToUpper(n) {
			t.Fatalf("NormalizeOrgCode(%q) = %q: want XXXXXXXX-X upper-case", s, n)
		}
		for _, again := range []string{n, strings.ToLower(n), n[:8] + n[9:]} {
			if m, err := domain.NormalizeOrgCode(again); err != nil || m != n {
				t.Fatalf("NormalizeOrgCode(%q) = %q, %v; %q normalizes to %q", again, m, err, s, n)
			}
		}
		if c, err := domain.OrgCodeCheck(n[:8]); err != nil || c != n[9] {
			t.Fatalf("OrgCodeCheck(%q) = %q, %v; the normalized code ends in %q", n[:8], c, err, n[9])
		}
	})
}

// FuzzNormalizeCreditCode: NormalizeCreditCode never panics; a normalized code is a fixed point
// and carries a valid organisation code in characters 9–17.
func FuzzNormalizeCreditCode(f *testing.F) {
	for _, s := range []string{"91360702100000040X", "913607021000000400", "91360702MA35XXXX0Y", "", "91360702100000040", "9136070210000004O0",
		"９1360702100000040X", strings.Repeat("0", 18)} {
		f.Add(s)
	}
	// A valid code: 91 + county + org code body and check digit + credit check character.
	body := "91360702" + "10000004" + "0"
	c, _ := domain.CreditCodeCheck(body)
	f.Add(body + string(c))
	f.Add(strings.ToLower(body + string(c)))
	f.Fuzz(func(t *testing.T, s string) {
		n, err := domain.NormalizeCreditCode(s)
		if err != nil {
			var ie *domain.IDError
			if !errors.As(err, &ie) || ie.Input != s || n != "" {
				t.Fatalf("NormalizeCreditCode(%q) = %q, %v: want \"\" and an *IDError quoting the input", s, n, err)
			}
			if org := domain.OrgCodeOfCreditCode(s); org != "" {
				t.Fatalf("OrgCodeOfCreditCode(%q) = %q for an invalid code", s, org)
			}
			return
		}
		if len(n) != 18 || n != strings.ToUpper(n) {
			t.Fatalf("NormalizeCreditCode(%q) = %q", s, n)
		}
		for _, again := range []string{n, strings.ToLower(n)} {
			if m, err := domain.NormalizeCreditCode(again); err != nil || m != n {
				t.Fatalf("NormalizeCreditCode(%q) = %q, %v; %q normalizes to %q", again, m, err, s, n)
			}
		}
		org := domain.OrgCodeOfCreditCode(n)
		if o, err := domain.NormalizeOrgCode(org); err != nil || o != org {
			t.Fatalf("the organisation code %q inside %q does not normalize to itself: %q, %v", org, n, o, err)
		}
		if c, err := domain.CreditCodeCheck(n[:17]); err != nil || c != n[17] {
			t.Fatalf("CreditCodeCheck(%q) = %q, %v; the code ends in %q", n[:17], c, err, n[17])
		}
	})
}

// FuzzFenUnmarshalJSON: Fen accepts exactly the JSON integers within int64, and what it accepts
// marshals back to the same text.
func FuzzFenUnmarshalJSON(f *testing.F) {
	for _, s := range []string{"0", "12", "-1", "12.5", "1e3", `"12"`, "true", "null", "-0", "007", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "1e400", "", "-", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v domain.Fen = 42
		if err := v.UnmarshalJSON([]byte(s)); err != nil {
			if v != 42 {
				t.Fatalf("a refused %q changed the value to %d", s, v)
			}
			return
		}
		want, err := strconv.ParseInt(s, 10, 64)
		if err != nil || int64(v) != want {
			t.Fatalf("Fen accepted %q as %d (ParseInt: %d, %v)", s, v, want, err)
		}
		if b, _ := json.Marshal(int64(v)); string(b) != s && s != "-0" {
			t.Fatalf("Fen accepted %q, which marshals back as %s", s, b)
		}
	})
}

// FuzzNormalizeCode: NormalizeCode never panics and is idempotent; its result holds no format
// character, has no white space at either end, and is the same for the input in upper case and
// in lower case (cased after canonical decomposition, as case folding must be: upper-casing
// U+0345 turns a combining mark into a letter) and with zero-width characters put in.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"GZ-0001", "gz-0001", "GZ\u200b-0001", "ＧＺ－０００１", "\ufeffGZ-0001\u200d", " gz\u00ad-0001 ",
		"\u200b", "", "Straße", "STRASSE", "ẞ", "ς", "Σ", "ı", "İ", "K", "ǅ", "ﬁ", "㍻", "\u3164", "ﾠ", "a\ufe0f", "e\u200b\u0301", "限改[2006]9号",
		"\u1dff\u0345", "ᾳ", "i\u0307", "㎠", "\u0130x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := domain.NormalizeCode(s)
		if !utf8.ValidString(s) {
			return // refused before it is normalised; it only must not panic
		}
		checkNormalForm(t, "NormalizeCode", domain.NormalizeCode, s, n)
		nfd := norm.NFD.String(s)
		for _, v := range []string{strings.ToUpper(nfd), strings.ToLower(nfd), "\u200b" + s + "\u2060"} {
			if m := domain.NormalizeCode(v); m != n {
				t.Fatalf("NormalizeCode(%q) = %q but NormalizeCode(%q) = %q", s, n, v, m)
			}
		}
	})
}

// checkNormalForm fails unless n, what normalize (named name) made of s, is a fixed point of it,
// holds no format character and has no white space at either end.
func checkNormalForm(t *testing.T, name string, normalize func(string) string, s, n string) {
	t.Helper()
	if again := normalize(n); again != n {
		t.Fatalf("%s(%q) = %q, whose %s is %q", name, s, n, name, again)
	}
	if i := strings.IndexFunc(n, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Fatalf("%s(%q) = %q keeps a format character at byte %d", name, s, n, i)
	}
	if strings.TrimSpace(n) != n {
		t.Fatalf("%s(%q) = %q is not trimmed", name, s, n)
	}
}

// FuzzNormalizeText: NormalizeText never panics and is idempotent; its result holds no format
// character, has no white space at either end, and is unchanged by a zero-width space put in.
func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{"单位 甲", "\u200b", "\u200b\u200c\u200d\ufeff", " 赣府字（2006）12号 ", "e\u200b\u0301", "Ａｂｃ", "\u00a0x\u3000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := domain.NormalizeText(s)
		if !utf8.ValidString(s) {
			return // refused before it is normalised; it only must not panic
		}
		checkNormalForm(t, "NormalizeText", domain.NormalizeText, s, n)
		if m := domain.NormalizeText("\u200b" + s + "\ufeff"); m != n {
			t.Fatalf("NormalizeText(%q) = %q but with zero-width characters around it %q", s, n, m)
		}
	})
}

// FuzzEmployerApply: commands decoded from the input (declarations and amendments, assessments,
// opening balances, audit findings, payments with and without allocations, reversals, waivers,
// backdated at will) are decided against an employer and their events applied; after every
// Apply the account keeps its invariants (CheckInvariants) as of the event's date and as of
// the end of the simulated years. Refused commands must be refused with a *domain.Error.
func FuzzEmployerApply(f *testing.F) {
	f.Add([]byte{0, 3, 40, 7, 4, 9, 200, 1, 4, 30, 90, 2, 5, 0, 0, 0, 6, 2, 9, 9, 7, 2, 3, 1})
	f.Add([]byte{0, 1, 10, 0, 0, 1, 200, 0, 4, 90, 250, 3, 0, 1, 2, 3, 1, 2, 0, 0, 2, 0, 60, 1, 3, 1, 9, 0, 4, 200, 10, 0})
	f.Add([]byte{2, 0, 10, 5, 8, 1, 1, 1, 4, 3, 0, 0, 6, 1, 200, 0, 6, 0, 30, 1, 5, 1, 0, 0, 4, 1, 1, 1})
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	start, end := domain.MustDate("2006-04-03"), domain.MustDate("2008-12-31")
	ctx := domain.Context{Ref: ref, Today: end}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := &domain.Employer{}
		seq := uint64(0)
		var evs []domain.Event
		apply := func(p domain.Payload, on domain.Date) {
			seq++
			ev := domain.Event{Envelope: domain.Envelope{ID: fmt.Sprint("ev", seq), Type: p.EventType(), EmployerID: "E", Seq: seq, N: seq, OccurredOn: on}, Body: p}
			evs = append(evs, ev)
			e.Apply(ev)
			if e.Refold {
				e = &domain.Employer{}
				e.Fold(evs)
			}
		}
		apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "甲", County: "360702", Kind: domain.KindEnterprise, RiskClass: 2}, RegisteredOn: start}, start)
		receipts := 0
		for i := 0; i+4 <= len(data) && i < 4*64; i += 4 {
			op, a, b, c := data[i]%10, int(data[i+1]), int(data[i+2]), int(data[i+3])
			on := start.AddDays(a * 4 % 1000)
			period := domain.MustPeriod("2006-01")
			for range b % 30 {
				period = period.Next()
			}
			if period.FirstDay() > on {
				on = period.FirstDay().AddDays(c % 40)
			}
			ins := domain.Insurances[c%len(domain.Insurances)]
			amount := domain.Number(strconv.Itoa(1 + b*c*97 + a*13))
			var cmd domain.Command
			switch op {
			case 0:
				cmd = &domain.FileDeclaration{DeclaredOn: on.String(), Period: period.String(), Lines: []domain.DeclareLine{
					{Insurance: string(ins), Headcount: "3", WageBaseFen: domain.Number(strconv.Itoa(100000 + a*b*c))}, {Insurance: "pension", Headcount: "3", WageBaseFen: amount}}[:1+c%2]}
			case 1:
				cmd = &domain.MakeAssessment{AssessedOn: on.String(), Period: period.String(), Reason: domain.AssessNoDeclaration}
			case 2:
				cmd = &domain.RecordOpeningBalance{AsOf: on.String(), Lines: []domain.OpeningInput{{Period: "2005-" + fmt.Sprintf("%02d", 1+b%12), Insurance: string(ins), OutstandingFen: amount}}}
			case 3:
				cmd = &domain.RecordAuditFinding{FoundOn: on.String(), Kind: domain.FindingUnderReportedBase, Period: period.String(), Insurance: string(ins), ExtraWageBaseFen: amount, RedeclareBy: on.AddDays(30).String()}
			case 4, 5:
				receipts++
				p := &domain.RecordPayment{PaidOn: on.String(), AmountFen: amount, ReceiptNo: fmt.Sprint("R", receipts)}
				if op == 5 {
					p.Allocations = []domain.AllocationInput{{Insurance: string(ins), Period: period.String(), AmountFen: domain.Number(strconv.Itoa(1 + b*c))}}
					p.AmountFen = domain.Number(strconv.Itoa(1 + b*c + a*50))
				}
				cmd = p
			case 6:
				cmd = &domain.ReversePayment{ReversedOn: on.AddDays(c).String(), ReceiptNo: fmt.Sprint("r", 1+b%max(receipts, 1)), Reason: "bounced"}
			case 7:
				w := &domain.GrantWaiver{DecidedOn: on.String(), Kind: domain.WaiverLateFee, AuthorityDoc: "赣府字[2006]1号", Reason: "hardship",
					Insurance: string(ins), Period: period.String(), AmountFen: domain.Number(strconv.Itoa(1 + b*c/3))}
				if a%2 == 1 {
					w.Kind, w.Basis = domain.WaiverPrincipal, "bankruptcy"
				}
				cmd = w
			case 8:
				cmd = &domain.RefundCredit{RefundedOn: on.String(), AmountFen: domain.Number(strconv.Itoa(1 + b*c)), ReceiptNo: fmt.Sprint("T", i)}
			case 9:
				cmd = &domain.VoidEvent{EventID: fmt.Sprint("ev", 1+(a*256+b)%len(evs)), VoidedOn: on.AddDays(c).String(), Reason: "fuzz"}
			}
			ctx := ctx
			ctx.Actor, ctx.Events = "admin:fuzz", evs
			err := cmd.Check(ctx)
			var events []domain.Payload
			if err == nil {
				events, err = cmd.Decide(e, ctx)
			}
			if err != nil {
				var de *domain.Error
				if !errors.As(err, &de) {
					t.Fatalf("op %d (%T) refused with an untyped error: %v", i/4, cmd, err)
				}
				continue
			}
			for _, p := range events {
				apply(p, cmd.Date())
				for _, asOf := range []domain.Date{cmd.Date(), end} {
					for _, v := range e.Account.Violations(asOf, ref.LateFees) {
						t.Fatalf("after op %d (%T %+v): %v", i/4, cmd, cmd, v)
					}
				}
			}
		}
	})
}
