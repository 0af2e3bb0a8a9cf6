package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
