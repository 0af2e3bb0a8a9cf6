package api

import (
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// The events a restatement names: those dated on or before the freeze's date of a county whose
// figures changed, recorded there or of a payer that was there by the event's date (a payment
// after a transfer may pay lines of the county left), and the voids of such events whatever
// their own date and county.
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
		name   string
		ev     domain.Event
		before []string // the counties the payer was in by the event's date
		want   bool
	}{
		{"a payment dated before the freeze's date in a changed county", event("360702", "2006-11-10", pay), nil, true},
		{"a payment dated after it", event("360702", "2006-12-10", pay), nil, false},
		{"a payment in a county that did not change", event("360721", "2006-11-10", pay), nil, false},
		{"a void dated after the freeze's date of an event dated before it", event("360702", "2006-12-20", voidOf("360702", "2006-11-10")), nil, true},
		{"a void filed under another county of an event of a changed county", event("360721", "2006-12-20", voidOf("360702", "2006-11-10")), nil, true},
		{"a void of an event dated after the freeze's date", event("360702", "2006-12-20", voidOf("360702", "2006-12-10")), nil, false},
		{"a void of an event of a county that did not change", event("360721", "2006-12-20", voidOf("360721", "2006-11-10")), nil, false},
		{"a payment of a payer that left a changed county", event("360724", "2006-11-20", pay), []string{"360702", "360724"}, true},
		{"a payment of a payer never in a changed county", event("360724", "2006-11-20", pay), []string{"360721", "360724"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := responsible(tt.ev, d, changed, tt.before); got != tt.want {
				t.Errorf("responsible = %v, want %v", got, tt.want)
			}
		})
	}
}

// countiesThrough lists the counties an employer was in by a date: its first whatever the date,
// then each it moved into on or before the date.
func TestTheCountiesAnEmployerWasInByADate(t *testing.T) {
	moves := []domain.CountyAt{{On: domain.MustDate("2006-04-03"), County: "360702"}, {On: domain.MustDate("2006-11-01"), County: "360721"}}
	for on, want := range map[string]string{"2006-01-01": "360702", "2006-04-03": "360702", "2006-10-31": "360702", "2006-11-01": "360702 360721", "2007-01-27": "360702 360721"} {
		if got := strings.Join(countiesThrough(moves, domain.MustDate(on)), " "); got != want {
			t.Errorf("countiesThrough(%s) = %s, want %s", on, got, want)
		}
	}
	if got := countiesThrough(nil, domain.MustDate("2006-01-01")); got != nil {
		t.Errorf("countiesThrough of no moves = %q", got)
	}
}

// A closing sent back by a write through another replica is checked again only if an event
// appended since may count in the year's figures: dated in or before the year, a void of an
// event so dated, reference data or a freeze, an event this build cannot read, or, for a freeze
// counted by the rules before views-22, a declaration of the period its base-floor flag reads or
// a void of a declaration, and before views-14 a change of a payer's registration facts.
func TestTheEventsThatSendAClosingBackToItsCheck(t *testing.T) {
	end, november := domain.MustDate("2006-12-31"), domain.MustPeriod("2006-11")
	event := func(employer, on string, body domain.Payload) domain.Event {
		ev := domain.Event{Envelope: domain.Envelope{EmployerID: employer, County: "360702", OccurredOn: domain.MustDate(on)}, Body: body}
		if body != nil {
			ev.Type = body.EventType()
		}
		return ev
	}
	voidOf := func(on string) domain.Payload {
		return domain.EventVoided{TargetCounty: "360702", TargetOn: domain.MustDate(on), VoidedOn: domain.MustDate("2007-01-20")}
	}
	declared := func(period string) domain.Event {
		return event("e", "2007-01-10", domain.DeclarationFiled{Period: domain.MustPeriod(period)})
	}
	voidOfDeclaration := event("e", "2007-01-20", domain.EventVoided{TargetType: domain.DeclarationFiled{}.EventType(),
		TargetOn: domain.MustDate("2007-01-10"), VoidedOn: domain.MustDate("2007-01-20")})
	changed := event("e", "2007-01-20", domain.EmployerChanged{On: domain.MustDate("2007-01-20")})
	views21, views13 := oldRules{floorPeriod: november}, oldRules{floorPeriod: november, profileNow: true}
	for _, tt := range []struct {
		name string
		ev   domain.Event
		old  oldRules
		want bool
	}{
		{"a payment dated in the year", event("e", "2006-12-28", domain.PaymentReceived{}), oldRules{}, true},
		{"a payment dated on its last day", event("e", "2006-12-31", domain.PaymentReceived{}), oldRules{}, true},
		{"a payment dated after it", event("e", "2007-01-02", domain.PaymentReceived{}), oldRules{}, false},
		{"a declaration of its November dated after it", declared("2006-11"), oldRules{}, false},
		{"a declaration of its November dated after it, of a freeze of the rules before views-22", declared("2006-11"), views21, true},
		{"a declaration of its December dated after it, of a freeze of the rules before views-22", declared("2006-12"), views21, false},
		{"an assessment of a period of the year dated after it", event("e", "2007-01-20", domain.AssessmentMade{Period: november}), views13, false},
		{"a void of a declaration dated after it", voidOfDeclaration, oldRules{}, false},
		{"a void of a declaration dated after it, of a freeze of the rules before views-22", voidOfDeclaration, views21, true},
		{"a change of registration facts dated after it", changed, views21, false},
		{"a change of registration facts dated after it, of a freeze of the rules before views-14", changed, views13, true},
		{"a void dated after the year of an event dated in it", event("e", "2007-01-20", voidOf("2006-11-10")), oldRules{}, true},
		{"a void of an event dated after the year", event("e", "2007-01-20", voidOf("2007-01-05")), oldRules{}, false},
		{"reference data dated after the year", event("", "2007-01-20", domain.LateFeeRatesSet{}), oldRules{}, true},
		{"a freeze", event("", "2007-01-20", domain.FreezeMade{}), oldRules{}, true},
		{"an event this build cannot read", event("e", "2007-01-20", nil), oldRules{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := movesYearEnd(tt.ev, end, tt.old); got != tt.want {
				t.Errorf("movesYearEnd = %v, want %v", got, tt.want)
			}
		})
	}
}
