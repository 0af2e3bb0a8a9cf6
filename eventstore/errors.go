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

// ErrNotRecorded: the write was never sent (the store closed while it waited its turn); nothing
// of it was stored.
var ErrNotRecorded = errors.New("eventstore: the write was not recorded")

// ErrClosed: the store is closed; writes fail with it (wrapped in ErrNotRecorded).
var ErrClosed = errors.New("eventstore: the store is closed")

// errDuplicate: JetStream already holds a message with one of the batch's message ids.
var errDuplicate = errors.New("eventstore: duplicate message id")

func classify(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case codeWrongLastSequence, codeWrongLastSequenceBatch:
			return fmt.Errorf("%w: %v", ErrConflict, ae)
		case codeBatchDuplicateMsgID:
			return fmt.Errorf("%w: %v", errDuplicate, ae)
		}
	}
	return err
}
