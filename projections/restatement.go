package projections

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Change is one figure that moved between a freeze and now, for the same valid-through date.
type Change struct {
	Scope  string `json:"scope"` // a county code, "group:N" or "city"
	Figure string `json:"figure"`
	Frozen int64  `json:"frozen"`
	Now    int64  `json:"now"`
	Delta  int64  `json:"delta"`
}

// flatten lists a figures object's integer leaves by path (rates, names and flag details aside).
func flatten(prefix string, v any, out map[string]int64) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if strings.HasSuffix(k, "_rate") || k == "flags" || k == "group" {
				continue
			}
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, c, out)
		}
	case float64:
		out[prefix] = int64(x)
	}
}

func scopes(r *Report) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	add := func(scope string, f *Figures) {
		var m map[string]any
		b, _ := json.Marshal(f)
		_ = json.Unmarshal(b, &m)
		leaves := map[string]int64{}
		flatten("", m, leaves)
		if !f.HoldsRecovery() { // a freeze made before 清欠率 holds none of it, not zeros
			for k := range leaves {
				if strings.HasSuffix(k, "prior_years_recovered_fen") {
					delete(leaves, k)
				}
			}
		}
		out[scope] = leaves
	}
	for _, c := range r.Counties {
		add(c.Code, c)
	}
	for _, g := range r.Groups {
		add("group:"+strconv.Itoa(g.Group), g)
	}
	add("city", r.City)
	return out
}

// Restate lists every integer figure that differs between a frozen report and a report of the
// same valid-through date computed now, county by county, then groups and the city.
func Restate(frozen, now *Report) []Change {
	a, b := scopes(frozen), scopes(now)
	var out []Change
	names := make([]string, 0, len(a))
	for s := range a {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := scopeRank(names[i]), scopeRank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	for _, s := range names {
		keys := make([]string, 0, len(a[s]))
		for k := range a[s] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if x, y := a[s][k], b[s][k]; x != y {
				out = append(out, Change{Scope: s, Figure: k, Frozen: x, Now: y, Delta: y - x})
			}
		}
	}
	return out
}

func scopeRank(s string) int {
	switch {
	case s == "city":
		return 2
	case strings.HasPrefix(s, "group:"):
		return 1
	}
	return 0
}
