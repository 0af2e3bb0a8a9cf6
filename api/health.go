package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// Warm computes the live report, so the first reader does not wait for it.
func (s *Server) Warm() {
	if s.cfg.Runner != nil {
		if _, err := s.cfg.Runner.Report(context.Background(), s.liveQuery()); err != nil {
			s.cfg.Log.Warn("live report", "err", err)
		}
	}
}

// WarmWhenReady computes the live report once the views have caught up, and until then has
// /readyz answer 503 "warming up": the report is seconds of work on a large ledger, and a
// server that reports ready must answer its readers at full speed, not beside it. The channel
// it returns is closed once the report is computed (or ctx ended first).
func (s *Server) WarmWhenReady(ctx context.Context) <-chan struct{} {
	warmed := make(chan struct{})
	if s.cfg.Runner == nil {
		close(warmed)
		return warmed
	}
	s.warming.Store(true)
	go func() {
		defer close(warmed)
		for !s.cfg.Runner.Ready() {
			select {
			case <-ctx.Done():
				return
			case <-s.cfg.Runner.Changed():
			case <-time.After(100 * time.Millisecond):
			}
		}
		start := time.Now()
		s.Warm()
		s.cfg.Log.Info("live report computed", "took", time.Since(start).Round(time.Millisecond))
		s.warming.Store(false)
	}()
	return warmed
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	// The sequence is read once the checks are done: the header and a ready answer's seq agree.
	answer := func(code int, body map[string]any) {
		seq := s.viewsSeq()
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(seq, 10))
		if code == http.StatusOK {
			body["seq"] = seq
		}
		writeJSON(w, code, body)
	}
	if reason, accepted := s.damage(); reason != "" && !accepted {
		answer(http.StatusServiceUnavailable, map[string]any{"status": "damaged", "reason": reason,
			"what_to_do": "inspect with kuozheng verify; restart with --accept-damage to serve the ledger as it is"})
		return
	}
	if s.cfg.Connected != nil {
		if err := s.cfg.Connected(); err != nil {
			answer(http.StatusServiceUnavailable, map[string]any{"status": "disconnected", "reason": err.Error()})
			return
		}
	}
	body := map[string]any{}
	var err error
	if s.cfg.Probe != nil {
		var detail any
		if detail, err = s.cfg.Probe(r.Context()); detail != nil {
			body["stream"] = detail
		}
	}
	code, status := http.StatusServiceUnavailable, ""
	var nr *NotReady
	switch {
	case errors.As(err, &nr):
		status, body["reason"] = nr.Status, nr.Reason
	case err != nil:
		status, body["reason"] = "not ready", err.Error()
	case s.cfg.Runner == nil || !s.cfg.Runner.Ready():
		status = "catching up"
	case s.warming.Load():
		status = "warming up"
	default:
		code, status = http.StatusOK, "ready"
	}
	body["status"] = status
	answer(code, body)
}

// Probe says whether the ledger can take writes now: nil, or why not. A *NotReady error gives
// /readyz its status and reason; detail, when not nil, is shown in /readyz's answer either way.
// StreamProbe.Check is one; a store's own health check can take its place.
type Probe func(ctx context.Context) (detail any, err error)

// NotReady is why the ledger cannot take writes: Status is a short phrase for monitors
// ("no stream leader"), Reason says it for people.
type NotReady struct {
	Status, Reason string
}

func (e *NotReady) Error() string { return e.Status + ": " + e.Reason }

// StreamSource is what StreamProbe reads: *eventstore.Store is one.
type StreamSource interface {
	Stream() string
	JetStream() jetstream.JetStream
	Applied() uint64
	Reached(seq uint64) bool
	DiskCheck() error
}

// StreamProbe checks that the ledger's stream answers within a short timeout and has a leader,
// and that the store's follower is not stuck behind it: a write, a conflict's catch-up and the
// views all wait on those. A ready result is kept for Every, so /readyz stays cheap however
// often it is asked; a not-ready one for a quarter of that, so that a ledger that recovers says
// so soon. Concurrent callers share one check.
type StreamProbe struct {
	// Info asks the stream for its state (with the context's deadline).
	Info func(ctx context.Context) (*jetstream.StreamInfo, error)
	// Applied is the last stream sequence the store has folded.
	Applied func() uint64
	// Reached, if set, says whether the store has followed the stream through a sequence, which
	// it may have passed unfolded (eventstore.Store.Reached: the stream's last messages lost);
	// without it, whether Applied is at or past it.
	Reached func(seq uint64) bool
	// Disk, if set, says why the data folder can take no write now (full, read-only, or a
	// write fault of the server), or nil.
	Disk func() error
	// Timeout bounds one check (default 2 s): a stream that does not answer within it is not ready.
	Timeout time.Duration
	// Every is how long a ready result is kept (default 1 s; less than 0: never kept).
	Every time.Duration
	// EveryNotReady is how long a not-ready result is kept (default Every/4; less than 0: only
	// for the callers that waited for its check).
	EveryNotReady time.Duration
	// Stalled is how many checks in a row the follower may fail to reach the last sequence the
	// check before saw, before the ledger is not ready (default 3).
	Stalled int
	// Log, if set, hears when the result changes from ready to not ready and back.
	Log *slog.Logger

	mu      sync.Mutex
	checked time.Time
	detail  *StreamState
	err     *NotReady
	seen    uint64    // the stream's last sequence at the last check that reached it
	behind  int       // checks in a row at which the follower had not reached seen
	created time.Time // when the stream the first check found was made
}

// StreamState is what a check found, shown by /readyz.
type StreamState struct {
	Name     string        `json:"name"`
	Leader   string        `json:"leader"`
	LastSeq  uint64        `json:"last_seq"`
	Applied  uint64        `json:"applied"`
	Replicas []ReplicaInfo `json:"replicas,omitempty"`
	// CheckedAt is when the stream was asked: the answer is no older.
	CheckedAt time.Time `json:"checked_at"`
}

// ReplicaInfo is one of the stream's followers as its leader sees it.
type ReplicaInfo struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	Offline bool   `json:"offline,omitempty"`
	Lag     uint64 `json:"lag,omitempty"`
}

// NewStreamProbe probes the store's stream with the defaults.
func NewStreamProbe(st StreamSource) *StreamProbe {
	return &StreamProbe{
		Info: func(ctx context.Context) (*jetstream.StreamInfo, error) {
			s, err := st.JetStream().Stream(ctx, st.Stream())
			if err != nil {
				return nil, err
			}
			return s.CachedInfo(), nil
		},
		Applied: st.Applied,
		Reached: st.Reached,
		Disk:    st.DiskCheck,
	}
}

// Check is the probe as a Probe: the result of the last check, or of a new one when that is
// older than Every.
func (p *StreamProbe) Check(ctx context.Context) (any, error) {
	asked := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	every, notReady := p.Every, p.EveryNotReady
	if every == 0 {
		every = time.Second
	}
	if notReady == 0 {
		notReady = every / 4
	}
	if p.err != nil {
		every = notReady
	}
	switch {
	case p.checked.IsZero():
	case p.checked.After(asked):
		return p.result() // checked while this caller waited
	case time.Since(p.checked) < every:
		return p.result()
	}
	was := p.err
	p.detail, p.err = p.check(ctx)
	p.checked = time.Now()
	if p.Log != nil {
		switch {
		case p.err != nil && (was == nil || was.Status != p.err.Status):
			p.Log.Warn("/readyz: the ledger cannot take writes", "why", p.err)
		case p.err == nil && was != nil:
			p.Log.Info("/readyz: the ledger can take writes again", "leader", p.detail.Leader, "last_seq", p.detail.LastSeq)
		}
	}
	return p.result()
}

// result is the last check's as a Probe's: nothing rather than typed nils.
func (p *StreamProbe) result() (detail any, err error) {
	if p.detail != nil {
		detail = p.detail
	}
	if p.err != nil {
		err = p.err
	}
	return detail, err
}

func (p *StreamProbe) check(ctx context.Context) (*StreamState, *NotReady) {
	timeout, stalled := p.Timeout, p.Stalled
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if stalled <= 0 {
		stalled = 3
	}
	// Not the asking request's context: others share the result, and a reader who hung up
	// must not make the stream look unanswering.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	asked := time.Now().UTC()
	folded := p.Applied() // before the answer: all of it was in the stream when it answered
	info, err := p.Info(ictx)
	cancel()
	if err != nil {
		return nil, &NotReady{Status: "stream not answering",
			Reason: fmt.Sprintf("the stream did not answer within %v (%v); writes wait for it", timeout, err)}
	}
	// Read after the answer: the follower had the round trip's time too.
	st := &StreamState{Name: info.Config.Name, LastSeq: info.State.LastSeq, Applied: p.Applied(), CheckedAt: asked}
	if c := info.Cluster; c != nil {
		st.Leader = c.Leader
		for _, r := range c.Replicas {
			st.Replicas = append(st.Replicas, ReplicaInfo{Name: r.Name, Current: r.Current, Offline: r.Offline, Lag: r.Lag})
		}
		if c.Leader == "" {
			// Followers answer for a stream whose leader is gone once they know it: until one
			// of them is elected, no write can be stored.
			return st, &NotReady{Status: "no stream leader",
				Reason: fmt.Sprintf("stream %s has no leader; writes wait until its replicas elect one", st.Name)}
		}
		// A leader that lost its quorum answers for a while before it knows (about 20 s after
		// two of three nodes died): no write can be stored meanwhile.
		up := 1
		for _, r := range c.Replicas {
			if !eventstore.ReplicaDown(info, r) {
				up++
			}
		}
		if n := len(c.Replicas) + 1; up < n/2+1 {
			return st, &NotReady{Status: "no stream quorum",
				Reason: fmt.Sprintf("stream %s has %d of its %d replicas up, its leader %s among them; a write needs %d: none can be stored until enough are back", st.Name, up, n, c.Leader, n/2+1)}
		}
	}
	if p.created.IsZero() {
		p.created = info.Created
	}
	if !info.Created.Equal(p.created) {
		// Made again under this replica (a restore --replace while it ran), longer or not:
		// what it folded is another stream's.
		return st, &NotReady{Status: "stream replaced",
			Reason: fmt.Sprintf("stream %s was made again at %s; this replica follows the one made at %s: restart this replica", st.Name,
				info.Created.UTC().Format(time.RFC3339), p.created.UTC().Format(time.RFC3339))}
	}
	if folded > st.LastSeq {
		// The stream was replaced under this replica (a restore --replace while it ran): what it
		// folded is no longer the ledger, and its writes would be decided on it.
		return st, &NotReady{Status: "stream shorter than folded",
			Reason: fmt.Sprintf("this replica has folded the stream to sequence %d, but stream %s ends at %d: it was replaced or lost messages; restart this replica", folded, st.Name, st.LastSeq)}
	}
	if p.Disk != nil {
		if err := p.Disk(); err != nil {
			status := "disk full"
			if de := (*eventstore.DiskError)(nil); errors.As(err, &de) {
				switch {
				case de.ReadOnly:
					status = "disk read-only"
				case de.Fault != "":
					status = "disk write fault"
				}
			}
			return st, &NotReady{Status: status, Reason: err.Error() + "; reads go on"}
		}
	}
	reached := func(seq uint64) bool { return st.Applied >= seq }
	if p.Reached != nil {
		reached = p.Reached
	}
	if p.seen > 0 && !reached(p.seen) {
		p.behind++
	} else {
		p.behind = 0
	}
	before := p.seen
	p.seen = max(p.seen, st.LastSeq)
	if p.behind >= stalled {
		return st, &NotReady{Status: "follower behind",
			Reason: fmt.Sprintf("the store has folded the stream to sequence %d and for %d checks has not reached %d, which the stream held before; reads and catch-ups wait for it",
				st.Applied, p.behind, before)}
	}
	return st, nil
}

// viewsSeq is the sequence the views reflect, or the store's where no views run.
func (s *Server) viewsSeq() uint64 {
	if s.cfg.Runner == nil {
		return s.cfg.Store.Applied()
	}
	return s.cfg.Runner.Seq()
}
