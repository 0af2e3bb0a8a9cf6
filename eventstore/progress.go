package eventstore

import (
	"log/slog"
	"sync"
	"time"
)

// ProgressEvery is how often a long fold of the stream logs how far it has come.
const ProgressEvery = 10 * time.Second

// ReportProgress logs msg every interval until stop is called: the sequence at() has reached
// between from and to, the rate since the start and the time left at that rate. A first start
// folds millions of events: minutes that would otherwise pass in silence.
func ReportProgress(log *slog.Logger, msg string, from, to uint64, at func() uint64, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				seq := at()
				if seq < from || seq >= to {
					continue
				}
				elapsed := time.Since(start)
				rate := float64(seq-from) / elapsed.Seconds()
				left := "unknown"
				if rate > 0 {
					left = time.Duration(float64(to-seq) / rate * float64(time.Second)).Round(time.Second).String()
				}
				log.Info(msg, "seq", seq, "of", to, "events_per_s", int64(rate), "eta", left)
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(done); wg.Wait() })
	}
}
