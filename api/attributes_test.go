package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestPayerAttributesAreDatedFactsOfTheEmployerRead registers a payer with the plan's attributes,
// changes them, counts migrant workers and retirees and records two inspections, and reads the
// employer as of dates around the change: each read shows the facts recorded by its date; a
// refused change (a coal mine in manufacturing) appends nothing; a clerk may not record an
// inspection.
func TestPayerAttributesAreDatedFactsOfTheEmployerRead(t *testing.T) {
	e := newAuthEnv(t)
	id := e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"赣州市南康某家具厂","county":"360782","org_code":"`+orgCode(74000001)+`","kind":"enterprise",
		"risk_class":2,"registered_on":"2006-04-03","industry":"C","sector":"furniture","ownership_code":"173","park":"南康家具产业园"}`).str("employer_id")
	e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-10","workforce":120,"migrants":80}`)
	e.mustWrite(t, empPath(id, "enrollments"), tokAdmin, `{"insurance":"work_injury","headcount":100,"effective_on":"2006-04-10","migrants":70}`)
	e.mustWrite(t, empPath(id, "enrollments"), tokAdmin, `{"insurance":"medical","headcount":100,"effective_on":"2006-04-10","retirees":6}`)
	e.mustWrite(t, empPath(id, "inspections"), tokAuditor, `{"on":"2006-05-12","team":"市稽核一组","scope":"full","result":"clean"}`)
	before := e.count()
	wantError(t, e.post(t, empPath(id, "changes"), tokAdmin, `{"on":"2006-06-01","sector":"coal"}`), http.StatusBadRequest, "invalid", "sector")
	wantError(t, e.post(t, empPath(id, "inspections"), tokClerkA, `{"on":"2006-06-01","team":"一组","scope":"full","result":"clean"}`), http.StatusForbidden, "forbidden", "")
	e.wantUnchanged(t, before)
	e.mustWrite(t, empPath(id, "changes"), tokAdmin, `{"on":"2006-07-01","park":"","in_industrial_park":false,"ownership_code":"160","agency":true}`)
	e.mustWrite(t, empPath(id, "inspections"), tokAuditor, `{"on":"2006-09-01","team":"跨县交叉稽核组","scope":"wage_base","result":"findings","note":"少报基数"}`)

	type view struct {
		InIndustrialPark bool                       `json:"in_industrial_park"`
		Industry         string                     `json:"industry"`
		Sector           string                     `json:"sector"`
		OwnershipCode    string                     `json:"ownership_code"`
		Park             string                     `json:"park"`
		Agency           bool                       `json:"agency"`
		Migrants         int64                      `json:"migrants"`
		MigrantsEnrolled map[domain.Insurance]int64 `json:"migrants_enrolled"`
		Retirees         int64                      `json:"retirees"`
		Inspected        []domain.Date              `json:"inspected"`
	}
	for _, tt := range []struct {
		asOf string
		want view
	}{
		{"2006-06-30", view{InIndustrialPark: true, Industry: "C", Sector: "furniture", OwnershipCode: "173", Park: "南康家具产业园", Migrants: 80,
			MigrantsEnrolled: map[domain.Insurance]int64{domain.WorkInjury: 70}, Retirees: 6, Inspected: []domain.Date{domain.MustDate("2006-05-12")}}},
		{"2006-12-31", view{Industry: "C", Sector: "furniture", OwnershipCode: "160", Agency: true, Migrants: 80,
			MigrantsEnrolled: map[domain.Insurance]int64{domain.WorkInjury: 70}, Retirees: 6,
			Inspected: []domain.Date{domain.MustDate("2006-05-12"), domain.MustDate("2006-09-01")}}},
	} {
		var got view
		decode(t, e.get(t, empPath(id, "")+"?as_of="+tt.asOf, tokAdmin), &got)
		if got.InIndustrialPark != tt.want.InIndustrialPark || got.Industry != tt.want.Industry || got.Sector != tt.want.Sector ||
			got.OwnershipCode != tt.want.OwnershipCode || got.Park != tt.want.Park || got.Agency != tt.want.Agency || got.Migrants != tt.want.Migrants ||
			got.MigrantsEnrolled[domain.WorkInjury] != tt.want.MigrantsEnrolled[domain.WorkInjury] || got.Retirees != tt.want.Retirees ||
			!slices.Equal(got.Inspected, tt.want.Inspected) {
			t.Errorf("as of %s: %+v, want %+v", tt.asOf, got, tt.want)
		}
	}
}
