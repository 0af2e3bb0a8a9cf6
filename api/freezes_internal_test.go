package api

import (
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// The events a restatement names: those dated on or before the freeze's date of a payer that has
// been in a county whose figures changed (a payment recorded after a transfer pays the lines
// of the county it left), and the voids of such events whatever their own date and county.
func TestTheEventsResponsibleForARestatement(t *testing.T) {
	d := domain.MustDate("2006-11-30")
	changed := map[string]bool{"360702": true}
	event := func(county, on string, body domain.Payload) domain.Event {
		return domain.Event{Envelope: domain.Envelope{Type: body.EventType(), EmployerID: "e", County: county, OccurredOn: domain.MustDate(on)}, Body: body}
	}
	voidOf := func(county, on string) domain.Payload {
		return domain.EventVoided{TargetCounty: county, TargetOn: domain.MustDate(on), VoidedOn: domain.MustDate("2006-12-20")}
	}
	pay := domain.PaymentReceived{}
	for _, tt := range []struct {
		name     string
		ev       domain.Event
		counties []string // the payer's counties, as its history has them
		want     bool
	}{
		{"a payment dated before the freeze's date in a changed county", event("360702", "2006-11-10", pay), nil, true},
		{"a payment dated after it", event("360702", "2006-12-10", pay), nil, false},
		{"a payment in a county that did not change", event("360721", "2006-11-10", pay), nil, false},
		{"a void dated after the freeze's date of an event dated before it", event("360702", "2006-12-20", voidOf("360702", "2006-11-10")), nil, true},
		{"a void filed under another county of an event of a changed county", event("360721", "2006-12-20", voidOf("360702", "2006-11-10")), nil, true},
		{"a void of an event dated after the freeze's date", event("360702", "2006-12-20", voidOf("360702", "2006-12-10")), nil, false},
		{"a void of an event of a county that did not change", event("360721", "2006-12-20", voidOf("360721", "2006-11-10")), nil, false},
		{"a payment recorded after the payer left a changed county", event("360724", "2006-11-20", pay), []string{"360702", "360724"}, true},
		{"a payment of a payer that was never in a changed county", event("360724", "2006-11-20", pay), []string{"360721", "360724"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := responsible(tt.ev, d, changed, tt.counties); got != tt.want {
				t.Errorf("responsible = %v, want %v", got, tt.want)
			}
		})
	}
}
