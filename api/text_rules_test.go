package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/projections"
)

// TestTextWithNoVisibleCharacterIsRefusedWithoutAppending: through the HTTP server, free text
// and codes made only of zero-width and other format characters are refused with 400 naming the
// field, whether the client sends the characters themselves or JSON \u escapes, and nothing is
// appended.
func TestTextWithNoVisibleCharacterIsRefusedWithoutAppending(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgCode(79100001), "360702")
	e.mustWrite(t, empPath(id, "declarations"), "",
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	e.mustWrite(t, empPath(id, "payments"), "", paymentBody("V-1", 100, "2006-06-10"))

	waiver := func(doc, reason string) string {
		b, _ := json.Marshal(map[string]any{"decided_on": "2006-06-20", "kind": "late_fee", "authority_doc": doc, "reason": reason,
			"insurance": "pension", "period": "2006-04", "amount_fen": 1})
		return string(b)
	}
	tests := []struct {
		name, path, body, field string
	}{
		{"a waiver whose authority document is one U+200B", empPath(id, "waivers"), waiver("\u200b", "困难企业"), "authority_doc"},
		{"a waiver whose reason is one U+200B", empPath(id, "waivers"), waiver("赣市劳社字〔2006〕1号", "\u200b"), "reason"},
		{"a waiver whose authority document and reason are U+200B, as JSON escapes", empPath(id, "waivers"),
			`{"decided_on":"2006-06-20","kind":"late_fee","authority_doc":"\u200b","reason":"\u200b","insurance":"pension","period":"2006-04","amount_fen":1}`, "authority_doc"},
		{"a registration whose name is zero-width characters only", "/v1/employers",
			`{"name":"\u200b\u200c\u200d\ufeff","county":"360702","org_code":"` + orgCode(79100002) + `","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, "name"},
		{"a change of name to a word joiner", empPath(id, "changes"), `{"on":"2006-06-01","name":"\u2060"}`, "name"},
		{"a payment whose receipt number is a BOM", empPath(id, "payments"), paymentBody("\ufeff", 100, "2006-06-11"), "receipt_no"},
		{"a reversal whose reason is one U+200B", empPath(id, "payment-reversals"), `{"reversed_on":"2006-06-20","receipt_no":"V-1","reason":"\u200b"}`, "reason"},
		{"a deregistration whose reason is direction marks", empPath(id, "deregistration"), `{"on":"2006-06-20","reason":"\u200e\u200f"}`, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			r := e.post(t, tt.path, "", tt.body)
			wantError(t, r, http.StatusBadRequest, "invalid", tt.field)
			if d := r.str("detail"); !strings.Contains(d, "has no visible character") {
				t.Errorf("detail %q does not say the text has no visible character", d)
			}
			e.wantUnchanged(t, before)
		})
	}
}

// TestAReceiptIsOneReceiptHoweverSpeltAndFreeAgainAfterReversal: through the HTTP server, a
// receipt number in other case, with a zero-width character or in full-width forms is the
// receipt already recorded (409, nothing appended); the stored events carry the normalised
// form; a reversed payment's receipt may be recorded anew, and reversing it again undoes only
// the new payment.
func TestAReceiptIsOneReceiptHoweverSpeltAndFreeAgainAfterReversal(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgCode(79100003), "360702")
	pay, reverse := empPath(id, "payments"), empPath(id, "payment-reversals")
	e.mustWrite(t, pay, "", paymentBody("GZ-0001", 100000, "2006-06-10"))

	refused := func(t *testing.T, path, body string) {
		t.Helper()
		before := e.count()
		wantError(t, e.post(t, path, "", body), http.StatusConflict, "conflict", "receipt_no")
		e.wantUnchanged(t, before)
	}
	for _, spelling := range []string{"GZ-0001", "gz-0001", "GZ\u200b-0001", "ＧＺ－０００１", "\ufeffｇｚ-0001\u200d"} {
		t.Run(fmt.Sprintf("%q is the recorded receipt", spelling), func(t *testing.T) {
			refused(t, pay, paymentBody(spelling, 100, "2006-06-11"))
		})
	}
	e.mustWrite(t, pay, "", paymentBody("ｇｚ\u200b－０００２", 5000, "2006-06-12"))

	// The clerk reverses the mistyped payment, in another spelling, and records it anew.
	e.mustWrite(t, reverse, "", `{"reversed_on":"2006-06-20","receipt_no":"gz-0001","reason":"退票"}`)
	e.mustWrite(t, pay, "", paymentBody("ＧＺ－０００１", 70000, "2006-06-21"))
	refused(t, pay, paymentBody("GZ-0001", 100, "2006-06-22"))
	// Reversing the receipt again undoes the new payment only; then nothing with it stands.
	e.mustWrite(t, reverse, "", `{"reversed_on":"2006-06-25","receipt_no":"GZ-0001","reason":"再次退票"}`)
	refused(t, reverse, `{"reversed_on":"2006-06-26","receipt_no":"GZ-0001","reason":"x"}`)

	type hist struct {
		Events []struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"events"`
		Balances projections.Balances `json:"balances"`
	}
	read := func(asOf string) hist {
		t.Helper()
		r := e.get(t, empPath(id, "history")+"?as_of="+asOf, "")
		if r.Status != http.StatusOK {
			t.Fatalf("history as of %s: %s", asOf, r)
		}
		var h hist
		if err := json.Unmarshal(r.Raw, &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	var stored []string
	for _, ev := range read("2006-12-31").Events {
		if ev.Type == "payment.received" || ev.Type == "payment.reversed" {
			var p struct {
				ReceiptNo string `json:"receipt_no"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, p.ReceiptNo)
		}
	}
	if want := []string{"GZ-0001", "GZ-0002", "GZ-0001", "GZ-0001", "GZ-0001"}; !slices.Equal(stored, want) {
		t.Errorf("stored receipt numbers %q, want %q", stored, want)
	}
	// No dues: what stands of the payments is credit.
	for _, c := range []struct {
		asOf string
		want int64
	}{{"2006-06-19", 105000}, {"2006-06-20", 5000}, {"2006-06-24", 75000}, {"2006-06-25", 5000}} {
		if got := int64(read(c.asOf).Balances.CreditFen); got != c.want {
			t.Errorf("credit as of %s: %d fen, want %d", c.asOf, got, c.want)
		}
	}
}
