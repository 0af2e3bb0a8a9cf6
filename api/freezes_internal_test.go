package api

import (
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// The events a restatement names: those dated on or before the freeze's date in a county whose
// figures changed, and the voids of such events whatever their own date and county.
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
		name string
		ev   domain.Event
		want bool
	}{
		{"a payment dated before the freeze's date in a changed county", event("360702", "2006-11-10", pay), true},
		{"a payment dated after it", event("360702", "2006-12-10", pay), false},
		{"a payment in a county that did not change", event("360721", "2006-11-10", pay), false},
		{"a void dated after the freeze's date of an event dated before it", event("360702", "2006-12-20", voidOf("360702", "2006-11-10")), true},
		{"a void filed under another county of an event of a changed county", event("360721", "2006-12-20", voidOf("360702", "2006-11-10")), true},
		{"a void of an event dated after the freeze's date", event("360702", "2006-12-20", voidOf("360702", "2006-12-10")), false},
		{"a void of an event of a county that did not change", event("360721", "2006-12-20", voidOf("360721", "2006-11-10")), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := responsible(tt.ev, d, changed); got != tt.want {
				t.Errorf("responsible = %v, want %v", got, tt.want)
			}
		})
	}
}
