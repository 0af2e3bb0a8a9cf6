package domain

import (
	"bytes"
	"encoding/gob"
	"errors"
	"maps"
	"strings"
	"testing"
)

// testCtx is the context the tests here check and decide commands in.
func testCtx() Context { return Context{Ref: defaultRef(), Today: MustDate("2006-12-31")} }

// refusal checks and decides cmd against e and returns the error, failing the test if there is
// none.
func refusal(t *testing.T, e *Employer, cmd Command) *Error {
	t.Helper()
	ctx := testCtx()
	err := cmd.Check(ctx)
	if err == nil {
		var ps []Payload
		ps, err = cmd.Decide(e, ctx)
		if err == nil {
			t.Fatalf("%T was accepted: %+v", cmd, ps)
		}
	}
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("%T: %v is not a *domain.Error", cmd, err)
	}
	return de
}

func TestTextWithNoVisibleCharacterIsRefusedNamingTheField(t *testing.T) {
	const zw = "\u200b"
	reg := func(name, ownership string) *RegisterEmployer {
		return &RegisterEmployer{Name: name, County: "360702", OrgCode: "10000004-0", Kind: "enterprise", Ownership: ownership,
			RiskClass: "1", RegisteredOn: "2006-04-03"}
	}
	waiver := func(doc, reason string) *GrantWaiver {
		return &GrantWaiver{DecidedOn: "2006-06-01", Kind: WaiverLateFee, AuthorityDoc: doc, Reason: reason,
			Insurance: "pension", Period: "2006-04", AmountFen: "1"}
	}
	name := zw + "\u200c\u200d\ufeff"
	tests := []struct {
		name  string
		cmd   Command
		field string
	}{
		{"a waiver whose authority document is one zero-width space", waiver(zw, "破产清算"), "authority_doc"},
		{"a waiver whose reason is one zero-width space", waiver("赣市劳社字〔2006〕1号", zw), "reason"},
		{"a waiver whose authority document and reason are both one zero-width space names the first", waiver(zw, zw), "authority_doc"},
		{"a waiver whose authority document is a BOM between ideographic spaces", waiver("\u3000\ufeff\u3000", "r"), "authority_doc"},
		{"a name of zero-width characters only", reg(name, ""), "name"},
		{"a name of a HANGUL FILLER, which shows nothing", reg("\u3164", ""), "name"},
		{"a name of direction marks and a soft hyphen", reg("\u200e\u00ad\u200f", ""), "name"},
		{"an optional ownership given as a word joiner", reg("单位甲", "\u2060"), "ownership"},
		{"a change of name to zero-width characters", &ChangeEmployer{On: "2006-06-01", Name: &name}, "name"},
		{"a reversal's reason of one zero-width space", &ReversePayment{ReversedOn: "2006-06-20", ReceiptNo: "R1", Reason: zw}, "reason"},
		{"a deregistration's reason of one zero-width space", &Deregister{On: "2006-06-20", Reason: zw}, "reason"},
		{"a receipt number of one zero-width space", &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: zw}, "receipt_no"},
		{"an enforcement document number of a BOM", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "\ufeff", Deadline: "2006-07-31"}, "doc_no"},
		{"a certificate number of a zero-width joiner", &CompleteRegistration{RegisteredOn: "2006-06-01", CertificateNo: "\u200d"}, "certificate_no"},
		{"a waiver whose authority document is the Braille blank, which draws nothing", waiver("\u2800", "r"), "authority_doc"},
		{"a receipt number of the Braille blank", &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "\u2800"}, "receipt_no"},
		{"a name of the Braille blank and a HANGUL FILLER", reg("\u2800\u3164", ""), "name"},
		{"a name of combining accents alone, on no letter", reg("\u0301\u0301", ""), "name"},
		{"a name of a variation selector and a combining grapheme joiner", reg("\ufe0f\u034f", ""), "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Check(testCtx())
			var de *Error
			if !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != tt.field {
				t.Fatalf("got %v, want invalid input in %s", err, tt.field)
			}
			if !strings.Contains(de.Detail, "has no visible character") {
				t.Fatalf("detail %q does not say the text has no visible character", de.Detail)
			}
		})
	}
}

func TestBlankTextKeepsItsMeaning(t *testing.T) {
	// White space alone is an absent value: required where it must be given, nothing otherwise.
	r := &RegisterEmployer{Name: "单位甲", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", Ownership: " \u3000",
		RiskClass: "1", RegisteredOn: "2006-04-03"}
	if err := r.Check(testCtx()); err != nil || r.profile.Ownership != "" {
		t.Fatalf("a blank optional ownership: %v, stored %q; want accepted as none", err, r.profile.Ownership)
	}
	err := (&Deregister{On: "2006-06-20", Reason: " "}).Check(testCtx())
	var de *Error
	if !errors.As(err, &de) || de.Field != "reason" || de.Detail != "is required" {
		t.Fatalf("a blank required reason: %v, want reason: is required", err)
	}
	// Control characters and direction overrides stay refused, not silently removed.
	err = (&GrantWaiver{DecidedOn: "2006-06-01", Kind: WaiverLateFee, AuthorityDoc: "文\u202e1", Reason: "r",
		Insurance: "pension", Period: "2006-04", AmountFen: "1"}).Check(testCtx())
	if !errors.As(err, &de) || de.Field != "authority_doc" || !strings.Contains(de.Detail, "U+202E") {
		t.Fatalf("an override in an authority document: %v, want it refused naming U+202E", err)
	}
}

func TestTextAndCodesAreStoredNormalised(t *testing.T) {
	ctx := testCtx()
	reg := &RegisterEmployer{Name: "\ufeff赣州\u200b某某（有限）公司\u200d ", County: "360702", OrgCode: "10000004-0", Kind: "enterprise",
		Ownership: "ｐｒｉｖａｔｅ", RiskClass: "1", RegisteredOn: "2006-04-03", CertificateNo: " ｓｂ\u200b-360702-1 "}
	if err := reg.Check(ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := reg.Decide(&Employer{}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := ps[0].(EmployerRegistered)
	pay := &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "ｇｚ\u200b－０００１"}
	rev := &ReversePayment{ReversedOn: "2006-06-20", ReceiptNo: "\u2060gz-0001", Reason: "退票\u200b（账户冻结）"}
	notice := &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "限改\u200b[2006]9ｂ号", Deadline: "2006-07-31"}
	waiver := &GrantWaiver{DecidedOn: "2006-06-01", Kind: WaiverLateFee, AuthorityDoc: "赣市劳社字〔２００６〕1号\u200b", Reason: " 困难\ufeff ",
		Insurance: "pension", Period: "2006-04", AmountFen: "1"}
	for _, c := range []Command{pay, rev, notice, waiver} {
		if err := c.Check(ctx); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	tests := []struct {
		what, got, want string
	}{
		// Free text: format characters out, NFKC, trimmed; letter case kept.
		{"name", got.Name, "赣州某某(有限)公司"},
		{"ownership", got.Ownership, "private"},
		{"reversal reason", rev.ev.Reason, "退票(账户冻结)"},
		{"authority document", waiver.ev.AuthorityDoc, "赣市劳社字〔2006〕1号"},
		{"waiver reason", waiver.ev.Reason, "困难"},
		// Codes: the same, and upper case.
		{"certificate number", got.CertificateNo, "SB-360702-1"},
		{"receipt number of a payment", pay.ev.ReceiptNo, "GZ-0001"},
		{"receipt number of a reversal", rev.ev.ReceiptNo, "GZ-0001"},
		{"enforcement document number", notice.ev.DocNo, "限改[2006]9B号"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("stored %s %q, want %q", tt.what, tt.got, tt.want)
		}
	}
}

func TestAReceiptIsTheSameReceiptHoweverItIsSpelt(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "GZ-0001"})
	// An employer folded from events stored before receipts were normalised.
	old := fold(EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: KindEnterprise, RiskClass: 1}, RegisteredOn: MustDate("2006-04-01")},
		paid("2006-06-10", 100, "gz\u200b-0001"))
	for _, spelling := range []string{"GZ-0001", "gz-0001", "Gz-0001", "GZ\u200b-0001", "\ufeffGZ-0001\u200d", "ＧＺ－０００１", "ｇｚ－０００１", " GZ-0001\u3000",
		"GZ\u20110001", "GZ\u20100001", "GZ\u22120001", "GZ\u20130001", "gz\ufe630001"} {
		for _, emp := range []struct {
			name string
			e    *Employer
		}{{"recorded normalised", e}, {"stored before normalisation", old}} {
			t.Run(emp.name+"/"+spelling, func(t *testing.T) {
				de := refusal(t, emp.e, &RecordPayment{PaidOn: "2006-06-11", AmountFen: "100", ReceiptNo: spelling})
				if de.Kind != KindConflict || de.Field != "receipt_no" {
					t.Fatalf("got %v, want a conflict on receipt_no", de)
				}
			})
		}
	}
	if reversed, ok := old.Receipts["GZ-0001"]; !ok || reversed || len(old.Receipts) != 1 {
		t.Fatalf("receipts of the old events %v, want only GZ-0001", old.Receipts)
	}
	// Another receipt number is another receipt.
	decide(t, e, &RecordPayment{PaidOn: "2006-06-11", AmountFen: "100", ReceiptNo: "GZ-0002"})
}

// money is what stands of an employer's payments as of a date: principal paid plus credit.
func money(e *Employer, on string) Fen {
	st := e.Account.Statement(MustDate(on), DefaultLateFees)
	return st.Totals.PaidFen + st.Totals.CreditFen
}

func TestAReversedPaymentsReceiptMayBeRecordedAnew(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100000", ReceiptNo: "R1"})
	decide(t, e, &RecordPayment{PaidOn: "2006-06-10", AmountFen: "5000", ReceiptNo: "R2"})

	if de := refusal(t, e, &RecordPayment{PaidOn: "2006-06-12", AmountFen: "100", ReceiptNo: "r2"}); de.Kind != KindConflict || de.Field != "receipt_no" {
		t.Fatalf("the receipt of a payment that stands: %v, want a conflict on receipt_no", de)
	}
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-20", ReceiptNo: "R1", Reason: "退票"})
	// The clerk records the mistyped payment again under its receipt, in another spelling.
	decide(t, e, &RecordPayment{PaidOn: "2006-06-21", AmountFen: "70000", ReceiptNo: "ｒ1"})
	if de := refusal(t, e, &RecordPayment{PaidOn: "2006-06-22", AmountFen: "100", ReceiptNo: "R1"}); de.Kind != KindConflict || de.Field != "receipt_no" {
		t.Fatalf("the receipt of the payment recorded anew: %v, want a conflict on receipt_no", de)
	}
	// The first reversal undoes the first payment only, from its own date.
	for _, c := range []struct {
		on   string
		want Fen
	}{{"2006-06-19", 105000}, {"2006-06-20", 5000}, {"2006-06-21", 75000}, {"2006-12-31", 75000}} {
		if got := money(e, c.on); got != c.want {
			t.Errorf("as of %s, %d fen of payments stand; want %d", c.on, got, c.want)
		}
	}
	// Reversing the receipt again reverses the payment recorded anew, and only it.
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-25", ReceiptNo: "R1", Reason: "再次退票"})
	for _, c := range []struct {
		on   string
		want Fen
	}{{"2006-06-21", 75000}, {"2006-06-24", 75000}, {"2006-06-25", 5000}} {
		if got := money(e, c.on); got != c.want {
			t.Errorf("after the second reversal, as of %s, %d fen stand; want %d", c.on, got, c.want)
		}
	}
	if de := refusal(t, e, &ReversePayment{ReversedOn: "2006-06-26", ReceiptNo: "R1", Reason: "x"}); de.Kind != KindConflict || de.Field != "receipt_no" {
		t.Fatalf("a third reversal with no payment standing: %v, want a conflict on receipt_no", de)
	}
	if !e.Receipts["R1"] || e.Receipts["R2"] || len(e.Receipts) != 2 {
		t.Fatalf("receipts %v, want R1 reversed and R2 standing", e.Receipts)
	}
}

func TestAReversalIsDatedAgainstThePaymentThatStands(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &RecordPayment{PaidOn: "2006-06-20", AmountFen: "100", ReceiptNo: "R1"})
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-25", ReceiptNo: "R1", Reason: "录错日期"})
	// The correction is dated earlier than the mistyped payment.
	decide(t, e, &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "R1"})
	if de := refusal(t, e, &ReversePayment{ReversedOn: "2006-06-09", ReceiptNo: "R1", Reason: "x"}); de.Field != "reversed_on" {
		t.Fatalf("a reversal before the standing payment's date: %v, want a conflict on reversed_on", de)
	}
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-15", ReceiptNo: "R1", Reason: "退票"})
	if got := money(e, "2006-06-30"); got != 0 {
		t.Fatalf("%d fen stand after both payments were reversed, want 0", got)
	}
}

func TestARefoldReachesTheStateTheDecisionsDid(t *testing.T) {
	e := registered(KindEnterprise, 1)
	var events []Payload
	events = append(events, EmployerRegistered{Profile: e.Profile, RegisteredOn: e.RegisteredOn})
	for _, c := range []Command{
		&FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04", Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}},
		&RecordPayment{PaidOn: "2006-06-10", AmountFen: "100000", ReceiptNo: "gz-1"},
		&ReversePayment{ReversedOn: "2006-06-20", ReceiptNo: "GZ-1", Reason: "退票"},
		&RecordPayment{PaidOn: "2006-06-21", AmountFen: "70000", ReceiptNo: "ＧＺ－１"},
		&RecordPayment{PaidOn: "2006-06-22", AmountFen: "30000", ReceiptNo: "GZ-2"},
		&ReversePayment{ReversedOn: "2006-07-01", ReceiptNo: "gz-1", Reason: "再次退票"},
		&RecordPayment{PaidOn: "2006-07-02", AmountFen: "280000", ReceiptNo: "GZ-1"},
	} {
		events = append(events, decide(t, e, c)...)
	}
	days := []string{"2006-06-15", "2006-06-20", "2006-06-21", "2006-06-30", "2006-07-01", "2006-07-02", "2006-12-31"}
	same := func(t *testing.T, what string, got *Employer) {
		t.Helper()
		if !maps.Equal(got.Receipts, e.Receipts) {
			t.Errorf("%s: receipts %v, want %v", what, got.Receipts, e.Receipts)
		}
		for _, d := range days {
			a, b := got.Account.Statement(MustDate(d), DefaultLateFees), e.Account.Statement(MustDate(d), DefaultLateFees)
			if a.Totals != b.Totals {
				t.Errorf("%s: totals as of %s %+v, want %+v", what, d, a.Totals, b.Totals)
			}
		}
	}
	if st := e.Account.Statement(MustDate("2006-07-01"), DefaultLateFees); st.Totals.PaidFen != 30000 {
		t.Fatalf("as of 2006-07-01, %d fen of principal paid; want 30000 (GZ-2 only: both GZ-1 payments are reversed)", st.Totals.PaidFen)
	}
	if st := e.Account.Statement(MustDate("2006-07-02"), DefaultLateFees); st.Totals.PaidFen != 280000 || !maps.Equal(e.Receipts, map[string]bool{"GZ-1": false, "GZ-2": false}) {
		t.Fatalf("as of 2006-07-02, %d fen of principal paid, receipts %v; want 280000, GZ-1 and GZ-2 standing", st.Totals.PaidFen, e.Receipts)
	}
	same(t, "a fold of the stored events", fold(events...))

	// Events stored before receipts were normalised, spelt as the clerk typed them.
	var raw []Payload
	spelt := []string{"gz-1", "GZ\u200b-1", "ＧＺ－１", "GZ-2", "gz-1", "Gz-1"}
	for _, p := range events {
		switch q := p.(type) {
		case PaymentReceived:
			q.ReceiptNo, spelt = spelt[0], spelt[1:]
			p = q
		case PaymentReversed:
			q.ReceiptNo, spelt = spelt[0], spelt[1:]
			p = q
		}
		raw = append(raw, p)
	}
	old := fold(raw...)
	same(t, "a fold of events stored unnormalised", old)

	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(old.Account); err != nil {
		t.Fatal(err)
	}
	restored := &Employer{Receipts: old.Receipts}
	if err := gob.NewDecoder(&buf).Decode(&restored.Account); err != nil {
		t.Fatal(err)
	}
	same(t, "an account restored from a snapshot", restored)

	// A reversal decided on a clone does not reach the original.
	c := e.Clone()
	decide(t, c, &ReversePayment{ReversedOn: "2006-07-03", ReceiptNo: "GZ-1", Reason: "x"})
	if paidC, paidE := c.Account.Statement(MustDate("2006-12-31"), DefaultLateFees).Totals.PaidFen, e.Account.Statement(MustDate("2006-12-31"), DefaultLateFees).Totals.PaidFen; paidC != 30000 || paidE != 280000 || !c.Receipts["GZ-1"] || e.Receipts["GZ-1"] {
		t.Fatalf("principal paid: clone %d fen, original %d fen; want 30000 and 280000", paidC, paidE)
	}
}

func TestReceiptsStoredTwiceBeforeNormalisationAreReversedOneByOne(t *testing.T) {
	// "r1" and "R1" were two receipts before normalisation; now they are one, held twice.
	e := fold(EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: KindEnterprise, RiskClass: 1}, RegisteredOn: MustDate("2006-04-01")},
		paid("2006-06-10", 100, "r1"), paid("2006-06-11", 200, "R1"))
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-20", ReceiptNo: "R1", Reason: "x"})
	if got := money(e, "2006-06-30"); got != 100 {
		t.Fatalf("%d fen stand after one reversal, want 100 (the later payment is undone first)", got)
	}
	if de := refusal(t, e, &RecordPayment{PaidOn: "2006-06-21", AmountFen: "1", ReceiptNo: "R1"}); de.Field != "receipt_no" {
		t.Fatalf("recording R1 while one of its payments stands: %v, want a conflict on receipt_no", de)
	}
	decide(t, e, &ReversePayment{ReversedOn: "2006-06-21", ReceiptNo: "r1", Reason: "x"})
	if got := money(e, "2006-06-30"); got != 0 || !e.Receipts["R1"] {
		t.Fatalf("%d fen stand after two reversals, receipts %v; want 0 and R1 reversed", got, e.Receipts)
	}
	decide(t, e, &RecordPayment{PaidOn: "2006-06-22", AmountFen: "300", ReceiptNo: "R1"})
}

// TestTextDamagedBeforeItWasSentIsRefused: a JSON escape of a lone surrogate decodes to U+FFFD,
// the mark of text damaged on its way; it is refused, not stored as a receipt or a name.
func TestTextDamagedBeforeItWasSentIsRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		cmd   Command
		field string
	}{
		{"a receipt number", &RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "U8-\ufffd"}, "receipt_no"},
		{"a reason", &Deregister{On: "2006-06-20", Reason: "关闭\ufffd"}, "reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var de *Error
			if err := c.cmd.Check(testCtx()); !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != c.field || !strings.Contains(de.Detail, "U+FFFD") {
				t.Fatalf("got %v, want invalid input in %s naming U+FFFD", err, c.field)
			}
		})
	}
}

// TestNamesRefuseLineSeparatorsAndNoncharacters: a line or paragraph separator breaks a name's
// line in a CSV cell or a printed table, and a noncharacter stands for no character; each is
// refused naming the field and the character, as control characters are. A private-use
// character is accepted: older systems stored rare characters of names there.
func TestNamesRefuseLineSeparatorsAndNoncharacters(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		refused    string // the code point named, "" when accepted
	}{
		{"a line separator", "章贡\u2028公司", "U+2028"},
		{"a paragraph separator", "章贡\u2029公司", "U+2029"},
		{"U+FFFF", "章贡\uffff公司", "U+FFFF"},
		{"a noncharacter of U+FDD0-U+FDEF", "章贡\ufdd0公司", "U+FDD0"},
		{"a noncharacter of another plane", "章贡\U0001FFFE公司", "U+1FFFE"},
		{"a private-use character", "章贡\ue000公司", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &RegisterEmployer{Name: tt.text, County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}
			err := r.Check(testCtx())
			var de *Error
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (!errors.As(err, &de) || de.Field != "name" || !strings.Contains(de.Detail, tt.refused)):
				t.Errorf("got %v, want name refused naming %s", err, tt.refused)
			}
		})
	}
}

// TestNamesThatLookTheSameAreStoredTheSame: characters that draw nothing (variation selectors,
// the combining grapheme joiner, Khmer's invisible vowels, Hangul fillers in both widths) are
// taken out of free text as zero-width spaces are, and the Braille blank reads as a space, so a
// name cannot be made to look like another's while being another text.
func TestNamesThatLookTheSameAreStoredTheSame(t *testing.T) {
	for _, tt := range []struct{ name, typed, want string }{
		{"an emoji variation selector", "赣州\ufe0f公司", "赣州公司"},
		{"a text variation selector", "赣州\ufe00公司", "赣州公司"},
		{"an ideographic variation selector", "赣\U000E0100州公司", "赣州公司"},
		{"a combining grapheme joiner", "赣州\u034f公司", "赣州公司"},
		{"a Khmer invisible vowel", "赣州\u17b4公司", "赣州公司"},
		{"a HANGUL FILLER", "赣州\u3164公司", "赣州公司"},
		{"a half-width HANGUL FILLER, which NFKC makes a Hangul jungseong filler", "赣州\uffa0公司", "赣州公司"},
		{"a Braille blank between words", "赣州\u2800公司", "赣州 公司"},
		{"a Braille blank at the end", "赣州公司\u2800", "赣州公司"},
		{"a joiner that kept an accent off its letter", "cafe\u034f\u0301", "caf\u00e9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := &RegisterEmployer{Name: tt.typed, County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}
			if err := reg.Check(testCtx()); err != nil {
				t.Fatal(err)
			}
			if reg.profile.Name != tt.want {
				t.Errorf("stored %q (%+q), want %q", reg.profile.Name, reg.profile.Name, tt.want)
			}
			if again := NormalizeText(reg.profile.Name); again != reg.profile.Name {
				t.Errorf("normalised again: %+q", again)
			}
		})
	}
}

// TestACountyCodeInFullWidthDigitsIsTheCode: county codes compare after NFKC, as other codes do,
// in a registration and a transfer alike.
func TestACountyCodeInFullWidthDigitsIsTheCode(t *testing.T) {
	reg := &RegisterEmployer{Name: "单位甲", County: " ３６０７０２", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}
	if err := reg.Check(testCtx()); err != nil || reg.profile.County != "360702" {
		t.Errorf("a registration in county %q: %v, stored %q, want 360702", reg.County, err, reg.profile.County)
	}
	tr := &Transfer{On: "2006-06-01", County: "３６０７２４"}
	if err := tr.Check(testCtx()); err != nil || tr.County != "360724" {
		t.Errorf("a transfer to %q: %v, want 360724", tr.County, err)
	}
}

// TestTextStoredBeforeIsComparedAsStoredNow: a name recorded before the characters that draw
// nothing were taken out still holds them in its event; search compares it as stored now, so
// the name typed as it is shown finds it.
func TestTextStoredBeforeIsComparedAsStoredNow(t *testing.T) {
	for _, tt := range []struct{ old, now string }{
		{"赣州\ufe0f公司", "赣州公司"},
		{"王\u2800五", "王 五"},
		{"赣州公司", "赣州公司"},
		{"Ganzhou Co.", "Ganzhou Co."},
	} {
		if got := Stored(tt.old); got != tt.now || got != NormalizeText(tt.now) {
			t.Errorf("Stored(%+q) = %+q, want %+q", tt.old, got, tt.now)
		}
	}
}
