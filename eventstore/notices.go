package eventstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// NoticeNumberPrefix is the subject prefix of the stream's claims of notice numbers:
// "ledger.notice.<prefix in hex>.<serial>", one subject a number. Every notice step whose doc_no is
// in the ledger's notice format (domain.ParseNoticeNumber) is appended in one atomic batch with
// the claim of its number, just before it, expecting the claim's subject to be empty: so the
// stream, not the store, keeps a number from being issued twice, also by two API replicas at
// once. Claims are no events: Subscribe leaves them out, and they are folded only into the
// store's heads (which say which numbers are taken).
const NoticeNumberPrefix = "ledger.notice."

// ErrNoticeNumberTaken: a notice step's number is already issued (the stream holds its claim).
// WithNoticeNumbers numbers again when its issue answers it. The error also carries a domain
// conflict (409) on doc_no for a caller that gave the number itself.
var ErrNoticeNumberTaken = errors.New("eventstore: the notice number is already issued")

type numberTakenError struct{ number string }

func (e *numberTakenError) Error() string {
	return fmt.Sprintf("%v: %s", ErrNoticeNumberTaken, e.number)
}

func (e *numberTakenError) Unwrap() []error {
	return []error{ErrNoticeNumberTaken, domain.Conflict("doc_no", "notice number %s is already issued", e.number)}
}

// noticeSubject is the subject of the claim of notice number n of prefix.
func (s *Store) noticeSubject(prefix string, n int) string {
	return s.sub.Notice + hex.EncodeToString([]byte(prefix)) + "." + strconv.Itoa(n)
}

// noticeClaim is what a claim's message holds: an envelope whose type no event has, naming the
// number and the event that took it.
type noticeClaim struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	Schema     int         `json:"schema"`
	OccurredOn domain.Date `json:"occurred_on"`
	Actor      string      `json:"actor"`
	Payload    struct {
		Number     string `json:"number"`
		EmployerID string `json:"employer_id"`
		EventID    string `json:"event_id"`
	} `json:"payload"`
}

// claimNotices adds to u the claim of every notice number its events take, and answers
// ErrNoticeNumberTaken when one is taken already: by a claim folded into the store, or by
// another of the claims the unit's batch carries (before, the events of other requests of a bulk
// unit). The caller holds s.mu.
func (s *Store) claimNotices(u *unit, evs []domain.Event, before []*nats.Msg) error {
	for _, ev := range evs {
		st, ok := ev.Body.(domain.EnforcementStepRecorded)
		if !ok || st.Step != domain.StepNotice {
			continue
		}
		prefix, n, ok := domain.ParseNoticeNumber(st.DocNo)
		if !ok {
			continue
		}
		subject := s.noticeSubject(prefix, n)
		if s.foldHead(subject).seq != 0 {
			return &numberTakenError{number: st.DocNo}
		}
		for _, m := range append(before, u.guards...) {
			if m.Subject == subject {
				return &numberTakenError{number: st.DocNo}
			}
		}
		c := noticeClaim{ID: newID(), Type: "notice.number", Schema: 1, OccurredOn: ev.OccurredOn, Actor: ev.Actor}
		c.Payload.Number, c.Payload.EmployerID, c.Payload.EventID = st.DocNo, ev.EmployerID, ev.ID
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		m := nats.NewMsg(subject)
		m.Data = data
		m.Header.Set(HashHeader, domain.ChainHash("", data))
		u.guards = append(u.guards, m)
	}
	return nil
}

// WithNoticeNumber calls issue with the next notice number of prefix (domain.NoticePrefix): one
// above the highest the stream holds, from 0001. Calls for one prefix run one at a time on a
// store, so a notice issue records (appending it before it returns) takes the number for good and
// the next call gets the following one. Across API replicas the stream keeps numbers unique:
// each notice is appended with its number's claim (NoticeNumberPrefix), and when another replica
// took the number first, the append fails with ErrNoticeNumberTaken and issue is called again
// with the next free number. Numbers stay contiguous as long as every notice issued is recorded.
func (s *Store) WithNoticeNumber(ctx context.Context, prefix string, issue func(number string) error) error {
	return s.WithNoticeNumbers(ctx, prefix, func(next int) error { return issue(domain.NoticeNumber(prefix, next)) })
}

// WithNoticeNumbers is WithNoticeNumber for several notices: issue gets the next number of
// prefix and may record notices numbered on from it, in order, before it returns. When it
// answers ErrNoticeNumberTaken (another replica recorded notices of prefix meanwhile), issue
// is called again with the number after the highest the stream then holds: it must record the
// notices it did not record yet (those whose numbers were taken), numbered from there. Tries
// stop after Config.RetryTimeout, or at ctx's deadline.
func (s *Store) WithNoticeNumbers(ctx context.Context, prefix string, issue func(next int) error) error {
	unlock := s.locks.lock("notice:" + prefix)
	defer unlock()
	retry := s.retrier(ctx)
	for {
		if err := retry.catchUp(ctx); err != nil {
			return err
		}
		s.mu.RLock()
		n := s.notices[prefix] + 1
		s.mu.RUnlock()
		err := issue(n)
		if !errors.Is(err, ErrNoticeNumberTaken) {
			return err
		}
		if err := retry.again(ctx, err); err != nil {
			return err
		}
	}
}
