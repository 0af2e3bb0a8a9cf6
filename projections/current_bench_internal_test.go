package projections

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
)

// BenchmarkCurrentAfterAWrite folds a write by one payer into the live views and then takes
// their read-only copy (Runner.Current, which every read after a write starts from), at three
// sizes of ledger. ns/op is the write and the copy; µs/copy the copy alone.
func BenchmarkCurrentAfterAWrite(b *testing.B) {
	for _, payers := range []int{20_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("payers=%d", payers), func(b *testing.B) {
			r := NewRunner(nil, RunnerConfig{})
			ids := make([]string, payers)
			evs := make([]domain.Event, payers)
			for i := range ids {
				ids[i] = uuid.NewString()
				evs[i] = domain.Event{Envelope: domain.Envelope{Seq: uint64(i + 1), EmployerID: ids[i]}, Body: domain.RegistrationCompleted{RegisteredOn: domain.MustDate("2006-01-04")}}
			}
			r.applyAll(evs)
			r.Current()
			seq := uint64(payers)
			var elapsed time.Duration
			for b.Loop() {
				seq++
				r.applyAll([]domain.Event{{Envelope: domain.Envelope{Seq: seq, EmployerID: ids[int(seq)%payers]}, Body: domain.RegistrationCompleted{RegisteredOn: domain.MustDate("2006-02-06")}}})
				start := time.Now()
				if r.Current().Seq != seq {
					b.Fatal("the copy is not of the last write")
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed.Nanoseconds())/1000/float64(b.N), "µs/copy")
		})
	}
}
