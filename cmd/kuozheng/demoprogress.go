package main

import (
	"fmt"
	"io"
	"time"
)

// demoProgress tells, at most once a second, how far the run is: within the year, commands
// done of about how many, events appended a second, and the time left for the year and the run.
type demoProgress struct {
	w        io.Writer
	last     int // the run's last year
	start    time.Time
	told     time.Time
	perPayer float64 // commands a payer a year, as measured so far
	year     int
	payers   int
	began    time.Time // the year
}

func newDemoProgress(w io.Writer, last int) *demoProgress {
	return &demoProgress{w: w, last: last, start: time.Now(), perPayer: 25}
}

func (p *demoProgress) line(format string, args ...any) {
	if time.Since(p.told) < time.Second {
		return
	}
	p.told = time.Now()
	fmt.Fprintf(p.w, "demo: "+format+"\n", args...)
}

func (p *demoProgress) yearStart(year, payers int) {
	p.year, p.payers, p.began = year, payers, time.Now()
}

func (p *demoProgress) batchDone(payersDone int, ys *yearSummary) {
	if payersDone > 0 {
		p.perPayer = float64(ys.commands) / float64(payersDone)
	}
	el := time.Since(p.began).Seconds()
	rate := float64(ys.commands) / el
	estimate := int(p.perPayer * float64(p.payers))
	left := float64(max(estimate-ys.commands, 0))
	// Later years: as many payers again, growing.
	for y, n := p.year+1, float64(p.payers); y <= p.last; y++ {
		n *= 1.06
		left += n * p.perPayer
	}
	p.line("%d: %d/≈%d commands (%d%%), %.0f events/s; ETA %v for %d, %v for the run", p.year, ys.commands, estimate,
		min(100, ys.commands*100/max(estimate, 1)), float64(ys.events)/el, eta(float64(max(estimate-ys.commands, 0))/rate), p.year, eta(left/rate))
}

func (p *demoProgress) freezing(year int, seq uint64) {
	p.line("%d: the year-end freeze is folding the stream at sequence %d", year, seq)
}

func (p *demoProgress) yearDone(ys yearSummary) {
	if ys.appendedBefore && ys.froze == 0 {
		p.line("%d was appended by an earlier run; it stays open, the run's last year", ys.year)
		return
	}
	if ys.appendedBefore {
		p.line("%d was appended by an earlier run; freeze and closing %v", ys.year, ys.froze.Round(100*time.Millisecond))
		return
	}
	p.line("%d done: %d commands (%d already there), %d payers active at its end, %v; freeze and closing %v; %v since the start",
		ys.year, ys.commands, ys.duplicate, ys.stats.Active, ys.took.Round(time.Second), ys.froze.Round(100*time.Millisecond), time.Since(p.start).Round(time.Second))
}

func eta(seconds float64) time.Duration {
	return (time.Duration(seconds) * time.Second).Round(time.Second)
}
