package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/kuozheng/kuozheng/domain"
)

// Roles.
const (
	RoleClerk      = "clerk"
	RoleAuditor    = "auditor"
	RoleSupervisor = "supervisor"
	RoleAssessor   = "assessor"
	RoleAdmin      = "admin"
)

// Principal is who a request acts for.
type Principal struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Counties []string `json:"counties,omitempty"`
	Groups   []int    `json:"groups,omitempty"`
}

// Admin is the principal of a server run without tokens (loopback only).
var Admin = Principal{Name: "local-admin", Role: RoleAdmin}

// TokenEntry is one line of the tokens file.
type TokenEntry struct {
	TokenSHA256 string   `json:"token_sha256"`
	Token       string   `json:"token"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Counties    []string `json:"counties"`
	Groups      []int    `json:"groups"`
}

// maxNameBytes is the longest name a token may have: events record it with every write.
const maxNameBytes = 128

// dropControl drops control characters (strings.Map).
func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// Tokens maps SHA-256 digests of bearer tokens to principals.
type Tokens struct {
	byHash map[[32]byte]Principal
}

// LoadTokens reads a tokens file (JSON list), refusing unknown roles and, given the ledger's
// reference data, unknown counties (a nil ref checks all but the counties).
func LoadTokens(path string, ref *domain.Reference, log *slog.Logger) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	var entries []TokenEntry
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("tokens file %s names no token: every request would be refused (401); give an entry for each user, or leave --tokens out to serve localhost alone", path)
	}
	t := &Tokens{byHash: map[[32]byte]Principal{}}
	names := map[string]int{}
	digests := map[[32]byte]int{}
	for i, e := range entries {
		// The name is who an event records, whose idempotency keys a request uses and whom four
		// eyes compare: two names that read alike ("alice" and "Alice", or one with a zero-width
		// space) would let one person void their own payment under a second token.
		if domain.NormalizeText(e.Name) == "" {
			return nil, fmt.Errorf("tokens file %s: entry %d has no name", path, i)
		}
		if strings.TrimSpace(e.Name) != e.Name || strings.IndexFunc(e.Name, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) }) >= 0 {
			return nil, fmt.Errorf("tokens file %s: entry %d: the name %q has white space at an end, a control or an invisible character: write it %q", path, i, domain.Clip(e.Name, maxNameBytes), domain.Clip(domain.NormalizeText(strings.Map(dropControl, e.Name)), maxNameBytes))
		}
		if len(e.Name) > maxNameBytes {
			return nil, fmt.Errorf("tokens file %s: entry %d: the name %q is longer than %d bytes", path, i, domain.Clip(e.Name, maxNameBytes), maxNameBytes)
		}
		// Names compare as they read: case, full-width forms and white space aside.
		key := strings.Join(strings.Fields(domain.NormalizeCode(e.Name)), "")
		if j, ok := names[key]; ok {
			return nil, fmt.Errorf("tokens file %s: entries %d and %d are named %q and %q, which read as one name: each token needs a name of its own", path, j, i, entries[j].Name, e.Name)
		}
		names[key] = i
		var h [32]byte
		switch {
		case e.TokenSHA256 != "":
			raw, err := hex.DecodeString(e.TokenSHA256)
			if err != nil || len(raw) != 32 {
				return nil, fmt.Errorf("tokens file %s: entry %d: token_sha256 is not 64 hex digits (sha256sum prints the digest and then \"  -\": keep the 64 hex digits alone)", path, i)
			}
			copy(h[:], raw)
		case e.Token != "":
			if log != nil {
				log.Warn("tokens file holds a plain token; store token_sha256 instead", "entry", i, "name", e.Name)
			}
			h = sha256.Sum256([]byte(e.Token))
		default:
			return nil, fmt.Errorf("tokens file %s: entry %d has neither token_sha256 nor token", path, i)
		}
		if j, ok := digests[h]; ok {
			// The later entry would replace the earlier one's role in silence.
			return nil, fmt.Errorf("tokens file %s: entries %d (%s) and %d (%s) hold the same token: each name needs a token of its own", path, j, entries[j].Name, i, e.Name)
		}
		digests[h] = i
		if !slices.Contains([]string{RoleClerk, RoleAuditor, RoleSupervisor, RoleAssessor, RoleAdmin}, e.Role) {
			return nil, fmt.Errorf("tokens file %s: entry %d: unknown role %q", path, i, e.Role)
		}
		// Counties and groups scope clerks and supervisors only: on another role they would
		// restrict nothing while the file said they did.
		if len(e.Counties) > 0 && e.Role != RoleClerk && e.Role != RoleSupervisor {
			return nil, fmt.Errorf("tokens file %s: entry %d (%s): an %s reads every county: \"counties\" would not restrict it; leave it out", path, i, e.Name, e.Role)
		}
		if len(e.Groups) > 0 && e.Role != RoleSupervisor {
			return nil, fmt.Errorf("tokens file %s: entry %d (%s): \"groups\" scope supervisors only; a %s's scope is its \"counties\" or every county", path, i, e.Name, e.Role)
		}
		for _, g := range e.Groups {
			if ref != nil && !slices.ContainsFunc(ref.Groups, func(x domain.Group) bool { return x.N == g }) {
				return nil, fmt.Errorf("tokens file %s: entry %d (%s): unknown supervision group %d", path, i, e.Name, g)
			}
		}
		for _, c := range e.Counties {
			if ref == nil {
				break
			}
			if _, ok := ref.County(c); !ok {
				return nil, fmt.Errorf("tokens file %s: entry %d (%s): unknown county %q", path, i, e.Name, c)
			}
		}
		// A clerk without counties, or a supervisor without groups, would read and write nothing,
		// answered as if the ledger were empty.
		if e.Role == RoleClerk && len(e.Counties) == 0 {
			return nil, fmt.Errorf("tokens file %s: entry %d (%s): a clerk needs \"counties\", the counties it records for", path, i, e.Name)
		}
		if e.Role == RoleSupervisor && len(e.Groups) == 0 {
			return nil, fmt.Errorf("tokens file %s: entry %d (%s): a supervisor needs \"groups\", the supervision groups it reads", path, i, e.Name)
		}
		t.byHash[h] = Principal{Name: e.Name, Role: e.Role, Counties: e.Counties, Groups: e.Groups}
	}
	return t, nil
}

// Lookup finds the principal of a bearer token.
func (t *Tokens) Lookup(token string) (Principal, bool) {
	h := sha256.Sum256([]byte(token))
	for k, p := range t.byHash {
		if subtle.ConstantTimeCompare(k[:], h[:]) == 1 {
			return p, true
		}
	}
	return Principal{}, false
}

// canWriteEmployer: clerks in their counties, under every code each has had (a clerk of 南康区
// 360703 writes the payers recorded under 南康市 360782 before the change, as it reads them),
// admins everywhere.
func (p Principal) canWriteEmployer(county string, ref *domain.Reference) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleClerk:
		return slices.ContainsFunc(p.Counties, func(c string) bool { return ref.SameCounty(c, county) })
	}
	return false
}

// actor is how events and keys name p: its role and name, "clerk:wang".
func (p Principal) actor() string { return p.Role + ":" + p.Name }

// readsAll reports whether the principal reads every county's employers and figures.
func (p Principal) readsAll() bool {
	return p.Role == RoleAdmin || p.Role == RoleAuditor || p.Role == RoleAssessor
}

// canReadCounty: what a principal may read of a county's employers and figures. A token naming
// a county reads it under every code it has had (a clerk of 360782 reads 360703 after 2013), and
// a supervisor of a group the county has been in reads it too (Reference.GroupsOfCounty).
func (p Principal) canReadCounty(county string, ref *domain.Reference) bool {
	if p.readsAll() {
		return true
	}
	switch p.Role {
	case RoleClerk:
		return slices.ContainsFunc(p.Counties, func(c string) bool { return ref.SameCounty(c, county) })
	case RoleSupervisor:
		c, ok := ref.County(county)
		if !ok {
			return false
		}
		if slices.ContainsFunc(p.Counties, func(c string) bool { return ref.SameCounty(c, county) }) || slices.Contains(p.Groups, c.Group) {
			return true
		}
		// A supervisor of any group the county has been in (the groups in force before and
		// after each redefinition) reads it under every code it has had.
		return len(ref.Redefinitions) > 0 && slices.ContainsFunc(ref.GroupsOfCounty(county), func(g int) bool { return slices.Contains(p.Groups, g) })
	}
	return false
}

func forbidden(format string, args ...any) error {
	return &domain.Error{Kind: domain.KindForbidden, Detail: fmt.Sprintf(format, args...)}
}

// notYours answers a principal about an employer of a county it may not read (API.md: a single
// read outside scope is 403). Only the id is named: the employer's name and county stay unsaid.
func notYours(id string) error {
	return forbidden("employer %s is in a county you may not read", domain.Clip(id, 64))
}

// noEmployer answers about an employer id the ledger does not hold, naming field.
func noEmployer(field, id string) error {
	return domain.NotFound(field, "no employer %s in the ledger", domain.Clip(id, 64))
}

type ctxKey struct{}

func principalOf(r *http.Request) Principal { return r.Context().Value(ctxKey{}).(Principal) }

// auth resolves the bearer token to a principal: 401 when missing or unknown.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, ok := authenticate(s.cfg.Tokens, w, r); ok {
			h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
		}
	}
}

// authenticate resolves r's bearer token to a principal among tokens (Admin when tokens is nil),
// or answers w 400 or 401 and reports false.
func authenticate(tokens *Tokens, w http.ResponseWriter, r *http.Request) (Principal, bool) {
	if tokens == nil {
		return Admin, true
	}
	if len(r.Header.Values("Authorization")) > 1 {
		// Which of two credentials is meant is not ours to guess.
		writeError(w, domain.Invalid("Authorization", "is given more than once: send one bearer token"))
		return Principal{}, false
	}
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kuozheng"`)
		writeError(w, &domain.Error{Kind: domain.KindUnauthorized, Field: "Authorization", Detail: "a bearer token is required"})
		return Principal{}, false
	}
	p, ok := tokens.Lookup(strings.TrimSpace(tok))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kuozheng", error="invalid_token"`)
		writeError(w, &domain.Error{Kind: domain.KindUnauthorized, Field: "Authorization", Detail: "unknown token"})
	}
	return p, ok
}

// bearer returns the token of an Authorization header of the Bearer scheme, whose name is
// case-insensitive (RFC 9110 §11.1): "bearer t" as well as "Bearer t".
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return tok, true
}
