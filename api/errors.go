package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail"`
}

var statusOf = map[domain.Kind]int{
	domain.KindInvalid:             http.StatusBadRequest,
	domain.KindNotFound:            http.StatusNotFound,
	domain.KindConflict:            http.StatusConflict,
	domain.KindStale:               http.StatusPreconditionFailed,
	domain.KindIdempotencyMismatch: http.StatusUnprocessableEntity,
	domain.KindUnauthorized:        http.StatusUnauthorized,
	domain.KindForbidden:           http.StatusForbidden,
	domain.KindTooLarge:            http.StatusRequestEntityTooLarge,
	domain.KindUnavailable:         http.StatusServiceUnavailable,
	domain.KindUnsupportedMedia:    http.StatusUnsupportedMediaType,
	domain.KindYearClosed:          http.StatusConflict,
}

// retryNotFinal ends a 503 of a write: what this attempt could not do says nothing of an earlier
// attempt with the same key answered 504, which a cluster that lost its quorum may still record
// once it has it back, however long that takes.
const retryNotFinal = "retry with the same Idempotency-Key: an earlier attempt with it answered 504 may yet be recorded, and only a 2xx or 4xx answer is final"

// The codes of an error answer that are the API's own, not a domain.Kind.
const (
	errOutcomeUnknown   = "outcome_unknown"
	errMethodNotAllowed = "method_not_allowed"
	errInternal         = "internal"
)

func writeError(w http.ResponseWriter, err error) {
	var de *domain.Error
	var disk *eventstore.DiskError
	switch {
	case errors.As(err, &de):
	case errors.Is(err, eventstore.ErrOutcomeUnknown):
		// Sent but not acknowledged: it may yet be recorded (within eventstore.PublishTimeoutBound
		// of being sent), so the client must not take it for refused.
		writeErrorBody(w, http.StatusGatewayTimeout, ErrorBody{Error: errOutcomeUnknown,
			Detail: "the ledger did not confirm the write in time: it may or may not be recorded; retry with the same Idempotency-Key to learn which (a retry never records it twice)"})
		return
	case errors.As(err, &disk):
		// The operator's fault to mend, not the client's: say which folder and what to do.
		id := internalError(w, err)
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "this attempt was not recorded: " + disk.Error() + "; " + retryNotFinal + " (request " + id + ")"}
	case errors.Is(err, eventstore.ErrNotRecorded) && errors.Is(err, context.Canceled):
		// The client went away (or the server is stopping) before the write was sent: nothing
		// for an operator to mend, so not logged as a failure.
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "this attempt was not recorded (the request was canceled before it was sent); " + retryNotFinal}
	case errors.Is(err, eventstore.ErrNotRecorded):
		id := internalError(w, err)
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "this attempt was not recorded (the ledger could not take it now); " + retryNotFinal + " (request " + id + ")"}
	case errors.Is(err, eventstore.ErrStale):
		de = &domain.Error{Kind: domain.KindStale, Field: "If-Match", Detail: "the employer changed since the version you read; read it again"}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "the ledger did not answer in time; retry (a write with the same Idempotency-Key)"}
	case unavailable(err):
		id := internalError(w, err)
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "the ledger's store is unavailable; retry (a write with the same Idempotency-Key) (request " + id + ")"}
	default:
		// Not the client's error: its text (paths, addresses, internals) goes to the log only.
		id := internalError(w, err)
		writeErrorBody(w, http.StatusInternalServerError, ErrorBody{Error: errInternal,
			Detail: "the server failed to complete the request; it logged the cause under request id " + id})
		return
	}
	code := statusOf[de.Kind]
	if code == 0 {
		code = http.StatusInternalServerError
	}
	writeErrorBody(w, code, ErrorBody{Error: de.Kind.String(), Field: de.Field, Detail: de.Detail})
}

// writeErrorBody answers an error with code, telling the metrics decorator which.
func writeErrorBody(w http.ResponseWriter, code int, body ErrorBody) {
	noteError(w, body.Error)
	writeJSON(w, code, body)
}

// noteError tells the metrics decorator, wherever among w's wrappers it is, the error w answers.
func noteError(w http.ResponseWriter, name string) {
	for {
		if n, ok := w.(interface{ answerError(string) }); ok {
			n.answerError(name)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// unavailable reports an error of the connection to the ledger's store, or of its stream
// without a leader (an election, or a quorum lost), which a retry may cure.
func unavailable(err error) bool {
	// A request made while the connection is down fails at once with ErrReconnectBufExceeded
	// (serve keeps no buffer of what it would send: a write must not go out minutes later).
	for _, e := range []error{nats.ErrConnectionClosed, nats.ErrNoServers, nats.ErrTimeout, nats.ErrNoResponders,
		nats.ErrConnectionDraining, nats.ErrDisconnected, nats.ErrConnectionReconnecting, nats.ErrReconnectBufExceeded,
		jetstream.ErrNoStreamResponse, jetstream.ErrJetStreamNotEnabled, eventstore.ErrNoLeader} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = jsonEncoder(w).Encode(v)
}

// jsonEncoder encodes answers as every JSON answer is: names, codes and details as they are
// written (no HTML escaping of <, > and &), a newline after each value.
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
