package domain

import (
	"errors"
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
	for _, spelling := range []string{"GZ-0001", "gz-0001", "Gz-0001", "GZ\u200b-0001", "\ufeffGZ-0001\u200d", "ＧＺ－０００１", "ｇｚ－０００１", " GZ-0001\u3000"} {
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
