package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestALateFeeWaivedInPartsIsWordedByWhatItTookInAll: two waivers of 120.00 元 of a line's 431.20 元
// of late fee take 240.00, over half: the second raises waiver_review, and the flag says what the
// line's waivers took in all (waived_in_all_fen, and the words 累计减免 in the exports), not that
// 120.00 alone is over half the fee.
func TestALateFeeWaivedInPartsIsWordedByWhatItTookInAll(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(8406), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	var seq int64
	for _, doc := range []string{"赣劳社字〔2006〕31号", "赣劳社字〔2006〕32号"} {
		// 280000 fen due 2006-06-15 at 20 bp a day for 77 days: 43120 fen of fee by 2006-08-31.
		seq = e.mustWrite(t, empPath(id, "waivers"), tokAuditor, fmt.Sprintf(
			`{"decided_on":"2006-08-31","kind":"late_fee","authority_doc":%q,"reason":"困难企业","insurance":"pension","period":"2006-05","amount_fen":12000}`, doc)).num("seq")
	}
	flags := e.get(t, fmt.Sprintf("/v1/flags?kind=waiver_review&min_seq=%d", seq), tokAuditor)
	if n := strings.Count(string(flags.Raw), `"waived_in_all_fen":24000`); flags.Status != 200 || n != 1 || !strings.Contains(string(flags.Raw), `"accrued_fee_fen":43120`) {
		t.Fatalf("flags: %d %s; want one waiver_review with 24000 fen waived in all of the 43120 accrued", flags.Status, flags.Raw)
	}
	csv := e.raw(t, http.MethodGet, fmt.Sprintf("/v1/flags?kind=waiver_review&format=csv&min_seq=%d", seq), tokAuditor, "")
	if want := "滞纳金 120.00 元，累计减免 240.00 元，超过应计 431.20 元"; csv.status != 200 || !strings.Contains(string(csv.body), want) {
		t.Errorf("the flags' csv: %d %s; want %q", csv.status, csv.body, want)
	}
}
