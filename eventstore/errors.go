package eventstore

import (
	"errors"
	"fmt"
)

// JetStream error codes the store acts on.
const (
	codeWrongLastSequence      = 10071
	codeWrongLastSequenceBatch = 10164
	codeBatchDuplicateMsgID    = 10201
	codeDuplicateInProcess     = 10158
	codeIncompleteBatch        = 10176
	codeTooManyBatches         = 10210
	codeInsufficientResources  = 10023
)

// APIError is an error answered by JetStream, with its numeric code.
type APIError struct {
	Status      int    `json:"code"`
	Code        int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("jetstream: %s (code %d)", e.Description, e.Code)
}

// ErrConflict: the employer changed since its state was read (another writer won).
var ErrConflict = errors.New("eventstore: the employer changed concurrently")

// ErrOutcomeUnknown: the write was sent to JetStream but no acknowledgement came before the
// caller's context ended or the publish timed out, so it may or may not be stored. Retrying it
// with the same Idempotency-Key answers which: the first result as a duplicate, or a new
// append. The store stops waiting for it, and sending it again (on a clustered stream), at most
// PublishTimeoutBound (Config.Timeout) after it was first sent.
var ErrOutcomeUnknown = errors.New("eventstore: the write was sent but not acknowledged in time; its outcome is unknown")

// ErrNotRecorded: the write was never sent (its caller's context ended while it waited its
// turn, the store closed, NATS was unreachable) or nothing of it was stored; retrying is safe.
var ErrNotRecorded = errors.New("eventstore: the write was not recorded")

// ErrMoved: a write conditional on the stream's last sequence (RefRequest.AfterSeq) found the
// stream past it: something was appended since the write was decided, by this store or another
// replica. Nothing was recorded (it wraps ErrNotRecorded); decide again on the stream as it now
// stands.
var ErrMoved = errors.New("eventstore: the stream moved past the sequence the write was decided at")

// ErrClosed: the store is closed; writes fail with it (wrapped in ErrNotRecorded).
var ErrClosed = errors.New("eventstore: the store is closed")

// errDuplicate: JetStream already holds a message with one of the batch's message ids.
var errDuplicate = errors.New("eventstore: duplicate message id")

// errInProcess: a duplicate whose outcome is not known yet. A clustered stream checks message ids
// before expected sequences and answers an id whose first message it is still committing (sent
// through another API replica a moment before) with error 10158; that message may yet be stored
// or refused. Like errDuplicate (which it wraps) it spoils only its own unit of a batch.
var errInProcess = fmt.Errorf("%w whose first message is still being committed", errDuplicate)

func classify(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case codeWrongLastSequence, codeWrongLastSequenceBatch:
			return fmt.Errorf("%w: %v", ErrConflict, ae)
		case codeBatchDuplicateMsgID:
			return fmt.Errorf("%w: %v", errDuplicate, ae)
		case codeDuplicateInProcess:
			return fmt.Errorf("%w: %v", errInProcess, ae)
		case codeInsufficientResources:
			// The server's storage limit (max_file_store) is reached: a full disk, as it sees it.
			return notRecorded(&DiskError{Fault: ae.Error()})
		case codeIncompleteBatch, codeTooManyBatches:
			// The leader has not seen the batch begin (a new leader), or takes no more now.
			return notRecorded(ae)
		}
		if ae.Status >= 500 {
			return notRecorded(ae) // a stream that cannot take it now (no leader, no quorum)
		}
	}
	return err
}
