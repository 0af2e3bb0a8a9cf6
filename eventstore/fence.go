package eventstore

import (
	"encoding/json"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// A write dated in a year that has ended may be decided, through one replica, on reference data
// in which the year is open, while an admin closes it through another: a closing is checked
// against the stream as it stood, but the write lands after it, and the year's closed figures
// would leave out what its writer was told is recorded. Such a write is fenced: its batch
// carries a fence message, stored only if the years' subject (closings and reopenings) still
// ends where the write's replica had folded it, so the write is refused as a conflict and
// decided again, on the closed year, if a closing landed first. Writes dated in the current
// year need none (a year is closed once it has ended), nor do those of a store that is the
// stream's only writer (Config.SoleWriter), but while it is unsure of its own closing (a hold
// whose append went unanswered: HoldWrites); rates and other reference data are not fenced.

// fenceType is the type a fence message's body names. Fences go on the subject of the claims
// (Subjects.Notice), which are no events: readers of the stream leave them out.
const fenceType = "years.fence"

// Fence is the subject of the stream's fences: messages that are no events (see Store.fenced).
func (sub Subjects) Fence() string { return sub.Notice + "fence" }

// yearsSubject is the subject of sub's closings and reopenings of years.
func yearsSubject(sub Subjects) string { return sub.Ref + domain.RefKind(domain.YearClosed{}) }

// fenced reports whether req is fenced: it is dated in a year its business date has ended, or
// it is decided on the employer's events (a void, refused when the event it voids is dated in a
// closed year), and other stores may write the stream, or this store has not read the stream
// since a hold's own append went unanswered (a closing that may be stored). A caller without a
// business date (a generated ledger) is not.
func (s *Store) fenced(req Request) bool {
	if s.cfg.SoleWriter && s.unsettled.Load() == 0 || req.Today == 0 || req.Command == nil {
		return false
	}
	if _, onEvents := req.Command.(domain.EventsDecider); onEvents {
		return true
	}
	d := req.Command.Date()
	return d != 0 && d.Year() < req.Today.Year()
}

// fence is the message that stores a batch only if the years' subject ends at yearsSeq.
func (c *committer) fence(yearsSeq uint64) (*nats.Msg, error) {
	body := struct {
		Type     string `json:"type"`
		Schema   int    `json:"schema"`
		YearsSeq uint64 `json:"years_seq"`
	}{fenceType, 1, yearsSeq}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(c.fenceSubject)
	m.Data = data
	m.Header.Set(HashHeader, domain.ChainHash("", data))
	m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(yearsSeq, 10))
	m.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", c.yearsSubject)
	return m, nil
}
