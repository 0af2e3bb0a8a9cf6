package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// codeNoMessageFound is JetStream's "no message found" (a get of a sequence or subject it does
// not hold).
const codeNoMessageFound = 10037

// readTimeout bounds one read of a message when the caller's context has no deadline.
const readTimeout = 5 * time.Second

// getMsg reads one message of the stream: the one at seq or, with a subject, the first of that
// subject at or after seq. The stream allows direct gets, which any of its replicas answers,
// possibly one that has not applied the newest messages yet (on a cluster, a follower lags the
// leader by the time it takes to apply what was committed); such a replica answers "not found"
// for a message it does not have yet, never another message. A "not found" is asked again of the
// leader, whose answer covers what it has applied.
func (s *Store) getMsg(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	var opts []jetstream.GetMsgOpt
	if subject != "" {
		opts = append(opts, jetstream.WithGetMsgSubject(subject))
	}
	raw, err := s.directGet(ctx, seq, opts...)
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return raw, err
	}
	return s.leaderGet(ctx, seq, subject)
}

// Pauses between reads of a folded message the leader has not applied yet.
const (
	foldedPauseMin = time.Millisecond
	foldedPauseMax = 50 * time.Millisecond
)

// getFolded is getMsg for a message the store's indexes folded, so one the stream committed.
// Even the leader can answer "not found" for it for a moment: it applies what was committed on
// its own schedule, and the replica that delivered the message to the follower (a consumer's
// leader) or a newly elected stream leader may be ahead of it. The leader is asked again until it
// answers, within the caller's deadline or readTimeout.
func (s *Store) getFolded(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	raw, err := s.getMsg(ctx, seq, subject)
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return raw, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readTimeout)
		defer cancel()
	}
	for wait := foldedPauseMin; errors.Is(err, jetstream.ErrMsgNotFound); wait = min(2*wait, foldedPauseMax) {
		if pause(ctx, wait); ctx.Err() != nil {
			return nil, fmt.Errorf("message %d, which the store has folded, is not found on the stream's leader: %w", seq, err)
		}
		raw, err = s.leaderGet(ctx, seq, subject)
	}
	return raw, err
}

// directGet is the stream's GetMsg (a direct get); a test replaces it with one that lags.
func (s *Store) directGet(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
	if s.lagDirect != nil {
		return s.lagDirect(ctx, seq, opts...)
	}
	return s.stream.GetMsg(ctx, seq, opts...)
}

// leaderGet reads a message from the stream's leader ($JS.API.STREAM.MSG.GET, not a direct
// get): what the leader has applied, whichever other replica is behind.
func (s *Store) leaderGet(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	if s.leaderBehind != nil && s.leaderBehind() {
		return nil, jetstream.ErrMsgNotFound
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readTimeout)
		defer cancel()
	}
	req, err := json.Marshal(struct {
		Seq     uint64 `json:"seq"`
		NextFor string `json:"next_by_subj,omitempty"`
	}{seq, subject})
	if err != nil {
		return nil, err
	}
	resp, err := s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.cfg.Stream, req)
	if err != nil {
		return nil, fmt.Errorf("read message %d from the stream's leader: %w", seq, err)
	}
	var r struct {
		Message *struct {
			Subject  string    `json:"subject"`
			Sequence uint64    `json:"seq"`
			Header   []byte    `json:"hdrs"`
			Data     []byte    `json:"data"`
			Time     time.Time `json:"time"`
		} `json:"message"`
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, fmt.Errorf("read message %d from the stream's leader: %w", seq, err)
	}
	if r.Error != nil {
		if r.Error.Code == codeNoMessageFound {
			return nil, jetstream.ErrMsgNotFound
		}
		return nil, fmt.Errorf("read message %d from the stream's leader: %w", seq, r.Error)
	}
	if r.Message == nil {
		return nil, fmt.Errorf("read message %d from the stream's leader: %w", seq, jetstream.ErrInvalidJetStreamResponse)
	}
	m := r.Message
	var hdr nats.Header
	if len(m.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(m.Header); err != nil {
			return nil, err
		}
	}
	return &jetstream.RawStreamMsg{Subject: m.Subject, Sequence: m.Sequence, Header: hdr, Data: m.Data, Time: m.Time}, nil
}
