package domain

import "fmt"

// Kind classifies an error so that every edge (HTTP, command line) can answer it the same way.
type Kind int

// The kinds of error the ledger reports.
const (
	// KindInvalid: the input is malformed or breaks a validation rule; nothing was appended.
	KindInvalid Kind = iota + 1
	// KindNotFound: the employer (or other named thing) does not exist.
	KindNotFound
	// KindConflict: the input is well formed but breaks a rule given the current state.
	KindConflict
	// KindStale: the caller's expected version is no longer the current one.
	KindStale
	// KindIdempotencyMismatch: an idempotency key was reused with a different request.
	KindIdempotencyMismatch
	// KindUnauthorized: no valid credentials.
	KindUnauthorized
	// KindForbidden: valid credentials, but outside the caller's role or scope.
	KindForbidden
	// KindTooLarge: the request body is over the limit.
	KindTooLarge
	// KindUnavailable: the ledger cannot answer now (store down, deadline passed); retry later.
	KindUnavailable
	// KindUnsupportedMedia: the body is not of a type the route reads.
	KindUnsupportedMedia
	// KindYearClosed: the input is dated in a closed year (年度结转); nothing was appended.
	KindYearClosed
)

var kindNames = map[Kind]string{
	KindInvalid:             "invalid",
	KindNotFound:            "not_found",
	KindConflict:            "conflict",
	KindStale:               "stale",
	KindIdempotencyMismatch: "idempotency_mismatch",
	KindUnauthorized:        "unauthorized",
	KindForbidden:           "forbidden",
	KindTooLarge:            "too_large",
	KindUnavailable:         "unavailable",
	KindUnsupportedMedia:    "unsupported_media_type",
	KindYearClosed:          "year_closed",
}

// String names the kind as it appears in JSON error bodies.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a ledger error: what kind it is, which input field it concerns (a path such as
// "lines[0].wage_base_fen", or empty) and a sentence for people.
type Error struct {
	Kind   Kind
	Field  string
	Detail string
	// onReference says the refusal rests on the reference data it was checked on (a county
	// code unknown there); a closed year always does.
	onReference bool
}

// OnReference reports whether the refusal rests on the reference data the input was checked
// on: a year closed, a county code unknown. Reference data that moved since (a year reopened,
// a county redefined) may answer otherwise.
func (e *Error) OnReference() bool { return e.Kind == KindYearClosed || e.onReference }

// Error formats the error as "field: detail".
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Conflict reports a rule broken by the current state.
func Conflict(field, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// NotFound reports that something named does not exist.
func NotFound(field, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Field: field, Detail: fmt.Sprintf(format, args...)}
}
