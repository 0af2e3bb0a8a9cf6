package domain

import (
	"cmp"
	"slices"
)

// EmployerOn folds the events of one employer (in any order) that are dated on or before d into
// the employer as it stood on d. They are applied in business-date order, then recording order,
// the order the lines' arithmetic uses, so every dated fact (name, county, registration,
// workforce, enrollment, enforcement step) is the latest dated by d, whenever it was recorded.
// Before the employer entered the ledger it has only the identity it entered with: its profile
// and entry date. Events that could not be decoded (no body) are left out.
func EmployerOn(events []Event, d Date) *Employer {
	on := make([]Event, 0, len(events))
	for _, ev := range events {
		if ev.Body != nil && ev.OccurredOn <= d {
			on = append(on, ev)
		}
	}
	slices.SortStableFunc(on, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.OccurredOn, b.OccurredOn), cmp.Compare(a.Seq, b.Seq))
	})
	e := &Employer{}
	for _, ev := range on {
		e.Apply(ev)
	}
	if len(on) > 0 {
		return e
	}
	for _, ev := range events {
		switch p := ev.Body.(type) {
		case EmployerRegistered:
			e.ID, e.Profile, e.EnteredOn = ev.EmployerID, p.Profile, p.RegisteredOn
			return e
		case EmployerFound:
			e.ID, e.Profile, e.EnteredOn = ev.EmployerID, p.Profile, p.FoundOn
			return e
		}
	}
	return e
}
