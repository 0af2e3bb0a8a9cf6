package domain

import "slices"

// CountyRedefined: from EffectiveFrom the county Code replaces Predecessor (南康市 360782 became
// 南康区 360703 on 2013-11-18). Events recorded under the predecessor are not rewritten: reads
// take every recorded county code under the code in force on the date they answer for
// (Reference.CountyCodeOn), so the predecessor's figures before the change are unchanged and the
// successor's history runs on from them.
type CountyRedefined struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	NameEN        string `json:"name_en,omitempty"`
	Predecessor   string `json:"predecessor"`
	EffectiveFrom Date   `json:"effective_from"`
	// Group is the successor's supervision group; 0 keeps the predecessor's.
	Group int `json:"group,omitempty"`
}

// EventType names the event.
func (CountyRedefined) EventType() string { return "reference.county_redefined" }

// county is the successor as a county-level unit.
func (e CountyRedefined) county() County {
	return County{Code: e.Code, Name: e.Name, NameEN: e.NameEN, Group: e.Group}
}

// successor returns the redefinition that replaces code, if any.
func (r *Reference) successor(code string) (CountyRedefined, bool) {
	for _, x := range r.Redefinitions {
		if x.Predecessor == code {
			return x, true
		}
	}
	return CountyRedefined{}, false
}

// predecessor returns the redefinition that introduced code, if any.
func (r *Reference) predecessor(code string) (CountyRedefined, bool) {
	for _, x := range r.Redefinitions {
		if x.Code == code {
			return x, true
		}
	}
	return CountyRedefined{}, false
}

// Successor returns the redefinition that replaces code (the code it became and from when).
func (r *Reference) Successor(code string) (CountyRedefined, bool) { return r.successor(code) }

// CountyCodeOn is the code, in force on d, of the county that code names: a predecessor's code
// from the day its successor takes over reads as the successor's, and a successor's code before
// that day reads as its predecessor's. This is the one rule by which every read places an
// employer's recorded county; on a ledger without redefinitions it returns code unchanged.
func (r *Reference) CountyCodeOn(code string, d Date) string {
	for x, ok := r.predecessor(code); ok && d < x.EffectiveFrom; x, ok = r.predecessor(code) {
		code = x.Predecessor
	}
	for x, ok := r.successor(code); ok && x.EffectiveFrom <= d; x, ok = r.successor(code) {
		code = x.Code
	}
	return code
}

// SameCounty reports whether codes a and b name the same county at some date (equal, or one
// the predecessor of the other through any number of redefinitions).
func (r *Reference) SameCounty(a, b string) bool {
	root := func(code string) string {
		for x, ok := r.predecessor(code); ok; x, ok = r.predecessor(code) {
			code = x.Predecessor
		}
		return code
	}
	return root(a) == root(b)
}

// CountiesOn lists the counties in force on d, each successor in its predecessor's place.
func (r *Reference) CountiesOn(d Date) []County {
	if len(r.Redefinitions) == 0 {
		return r.Counties
	}
	out := make([]County, 0, len(r.Counties))
	for _, c := range r.Counties {
		if code := r.CountyCodeOn(c.Code, d); code != c.Code {
			c, _ = r.County(code)
		}
		out = append(out, c)
	}
	return out
}

// GroupsOn lists the supervision groups on d, each with the codes of its counties in force on d.
func (r *Reference) GroupsOn(d Date) []Group {
	if len(r.Redefinitions) == 0 {
		return r.Groups
	}
	counties := r.CountiesOn(d)
	out := make([]Group, 0, len(r.Groups))
	for _, g := range r.Groups {
		g.Counties = nil
		for _, c := range counties {
			if c.Group == g.N {
				g.Counties = append(g.Counties, c.Code)
			}
		}
		out = append(out, g)
	}
	return out
}

// GroupsOfCounty lists the supervision groups the county that code names has been in, under any
// of its codes: the groups in force (GroupsOn) before the first change and from each change on.
// A supervisor of any of them reads the county under every code it has had.
func (r *Reference) GroupsOfCounty(code string) []int {
	dates := []Date{0}
	for _, x := range r.Redefinitions {
		dates = append(dates, x.EffectiveFrom)
	}
	var out []int
	for _, d := range dates {
		for _, g := range r.GroupsOn(d) {
			if !slices.Contains(out, g.N) && slices.ContainsFunc(g.Counties, func(c string) bool { return r.SameCounty(c, code) }) {
				out = append(out, g.N)
			}
		}
	}
	return out
}

// checkRedefinition validates a redefinition against the reference data it would join.
func checkRedefinition(e CountyRedefined, ref *Reference) error {
	switch {
	case e.Predecessor == "":
		return Invalid("predecessor", "is required (the 6-digit code the county had before)")
	case e.Code == "":
		return Invalid("code", "is required (the county's new 6-digit code)")
	case !isCountyCode(e.Code):
		return Invalid("code", "%q is not a 6-digit code", e.Code)
	case e.Name == "":
		return Invalid("name", "is required (the county's new name)")
	case e.EffectiveFrom == 0:
		return Invalid("effective_from", "is required (YYYY-MM-DD)")
	}
	if err := beforeEarliest("effective_from", e.EffectiveFrom); err != nil {
		return err
	}
	// Within the closed books a new code would move closed years' figures from one county to
	// another in an employer's read, not in the views that keep those years compacted.
	if err := checkOpenFrom(e.EffectiveFrom, ref); err != nil {
		return err
	}
	if _, ok := ref.County(e.Predecessor); !ok {
		return Invalid("predecessor", "unknown county %q: want the code of a county-level unit of Ganzhou", e.Predecessor)
	}
	if x, ok := ref.successor(e.Predecessor); ok {
		return Conflict("predecessor", "%s already became %s on %s", e.Predecessor, x.Code, x.EffectiveFrom)
	}
	if _, ok := ref.County(e.Code); ok {
		return Conflict("code", "%s is already in use", e.Code)
	}
	if x, ok := ref.predecessor(e.Predecessor); ok && e.EffectiveFrom <= x.EffectiveFrom {
		return Invalid("effective_from", "%s is not after %s, when %s itself took over from %s", e.EffectiveFrom, x.EffectiveFrom, e.Predecessor, x.Predecessor)
	}
	if e.Group != 0 && !slices.ContainsFunc(ref.Groups, func(g Group) bool { return g.N == e.Group }) {
		return Invalid("group", "unknown supervision group %d", e.Group)
	}
	return nil
}

// applyRedefinition records a redefinition, its group defaulting to the predecessor's.
func (r *Reference) applyRedefinition(e CountyRedefined) {
	if e.Group == 0 {
		old, _ := r.County(e.Predecessor)
		e.Group = old.Group
	}
	r.Redefinitions = append(slices.Clip(r.Redefinitions), e)
}

func isCountyCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
