package api

import (
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// A list read (employers, flags, worklists, corrections, series) answers only what the principal
// may read; without a county or group filter it is filtered to the principal's scope in silence.
// A filter that names a county or group outside that scope is refused instead, 403 naming the
// parameter in `field`, on every format (json, csv, xlsx): answered empty, the list would read as
// "nothing to report there" when the truth is "not yours to read", as a read of that county
// (GET /v1/counties/{code}) or group (GET /v1/groups/{n}) is refused.

// countyInScope refuses ?county=code unless p may read that county (canReadCounty, by ref: the
// reference data of what is read). code is expected known to ref (checked 400 before).
func countyInScope(p Principal, code string, ref *domain.Reference) error {
	if p.canReadCounty(code, ref) {
		return nil
	}
	return &domain.Error{Kind: domain.KindForbidden, Field: "county",
		Detail: fmt.Sprintf("%s (%s) may not read county %s", p.Name, p.Role, domain.Clip(code, 16))}
}

// groupInScope refuses ?group=n unless p may read every county ref puts in group n on asOf: the
// rule of GET /v1/groups/{n} (groupVisible), so a group the dashboard offers is one a filter
// takes. A reader of only some of a group's counties (a clerk) is refused too: an answer named
// for the group, summing part of it, would pass for the group's.
func groupInScope(p Principal, n int, ref *domain.Reference, asOf domain.Date) error {
	for _, c := range ref.CountiesOn(asOf) {
		if c.Group == n && !p.canReadCounty(c.Code, ref) {
			return &domain.Error{Kind: domain.KindForbidden, Field: "group",
				Detail: fmt.Sprintf("%s (%s) may not read group %d", p.Name, p.Role, n)}
		}
	}
	return nil
}
