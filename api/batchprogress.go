package api

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
)

// BatchProgress is how far a county's notice batch is: GET /v1/counties/{code}/notices/progress.
type BatchProgress struct {
	County string `json:"county"`
	// State is running, done or failed.
	State string `json:"state"`
	// Employers is the count of the county's employers with arrears; Read how many of them have
	// been read; Eligible how many are overdue long enough for a notice; Issued how many notices
	// are recorded and printed so far.
	Employers int `json:"employers"`
	Read      int `json:"read"`
	Eligible  int `json:"eligible"`
	Issued    int `json:"issued"`
	// Unprintable counts the overdue employers left out because their notice cannot be printed
	// (a character the font lacks; listed in the zip's unprintable.csv).
	Unprintable int `json:"unprintable,omitempty"`
	// Escalated counts the overdue employers left out because a case of theirs stands open past
	// a notice on the issue date (an inspection, media exposure, forced collection or an
	// application to court): a notice would take it back down the ladder (listed in the zip's
	// escalated.csv).
	Escalated int `json:"escalated,omitempty"`
	// Left counts, in a retry of a batch whose dates are refused now (its year closed since),
	// the payers the batch would have reached that no earlier try reached: they get no notice.
	Left int `json:"left,omitempty"`
	// Error is why a failed batch stopped (retry with the same Idempotency-Key to finish it).
	Error string `json:"error,omitempty"`
}

// batchesKept bounds the finished batches whose progress is still answered.
const batchesKept = 64

// batches are the notice batches of this server with an Idempotency-Key, by the key scoped to
// its principal (Server.idempotencyKey).
type batches struct {
	mu       sync.Mutex
	byKey    map[string]*batchProgress
	finished []string // oldest first
	// running are the keys of the batches under way, each with a channel closed when it ends.
	running map[string]chan struct{}
}

// exclusive waits, within ctx, until no batch under key runs on this server, then holds key
// until release is first called. Without a key it holds nothing. A wait ctx ends is answered
// unavailable: the batch under the key still runs.
func (b *batches) exclusive(ctx context.Context, key string) (release func(), err error) {
	if key == "" {
		return func() {}, nil
	}
	for {
		b.mu.Lock()
		busy, ok := b.running[key]
		if !ok {
			if b.running == nil {
				b.running = map[string]chan struct{}{}
			}
			ended := make(chan struct{})
			b.running[key] = ended
			b.mu.Unlock()
			return sync.OnceFunc(func() {
				b.mu.Lock()
				delete(b.running, key)
				b.mu.Unlock()
				close(ended)
			}), nil
		}
		b.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, &domain.Error{Kind: domain.KindUnavailable, Field: "Idempotency-Key",
				Detail: "a batch under this key is still running on this server: nothing was recorded by this request; send it again with the key once that one has answered"}
		}
	}
}

type batchProgress struct {
	mu sync.Mutex
	p  BatchProgress
}

// start registers a batch under key; without a key nobody can ask for its progress.
func (b *batches) start(county, key string) *batchProgress {
	bp := &batchProgress{p: BatchProgress{County: county, State: "running"}}
	if key == "" {
		return bp
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byKey == nil {
		b.byKey = map[string]*batchProgress{}
	}
	b.byKey[key] = bp
	return bp
}

func (b *batches) get(key string) (BatchProgress, bool) {
	b.mu.Lock()
	bp, ok := b.byKey[key]
	b.mu.Unlock()
	if !ok {
		return BatchProgress{}, false
	}
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.p, true
}

// done forgets the oldest finished batches beyond batchesKept.
func (b *batches) done(key string) {
	if key == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finished = append(b.finished, key)
	for len(b.finished) > batchesKept {
		delete(b.byKey, b.finished[0])
		b.finished = b.finished[1:]
	}
}

func (bp *batchProgress) set(f func(*BatchProgress)) {
	bp.mu.Lock()
	f(&bp.p)
	bp.mu.Unlock()
}

// snapshot is the batch's progress as it stands.
func (bp *batchProgress) snapshot() BatchProgress {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.p
}

func (bp *batchProgress) finish(issued int, err error) {
	bp.set(func(p *BatchProgress) {
		p.Issued, p.State = issued, "done"
		if err != nil {
			p.State, p.Error = "failed", "the batch's answer gave the cause"
			if de := (*domain.Error)(nil); errors.As(err, &de) {
				p.Error = de.Error()
			}
		}
	})
}

// noticeProgress is GET /v1/counties/{code}/notices/progress: the progress of the caller's
// batch of that county with the Idempotency-Key given, running or among the last finished.
func (s *Server) noticeProgress(w http.ResponseWriter, r *http.Request) error {
	key, err := s.idempotencyKey(r)
	if err != nil {
		return err
	}
	if key == "" {
		return domain.Invalid("Idempotency-Key", "is required: the key the batch was posted with")
	}
	p, ok := s.batches.get(key)
	if !ok || p.County != r.PathValue("code") {
		return domain.NotFound("Idempotency-Key", "no notice batch of county %s with that key on this server", domain.Clip(r.PathValue("code"), 32))
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
