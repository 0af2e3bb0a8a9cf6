package projections_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// memSource keeps every employer's events in memory, standing in for the event store when the
// views fold an employer again.
type memSource = projections.HeldEvents

// yearsLedger feeds a ledger P payers' monthly declarations and payments, year after year,
// closing each year at the end of the following January; after each year it calls measure.
// Payers pay on time mostly, late or partly sometimes, and leave some months unpaid, which they
// pay off the next year (prior-year arrears recovered).
type yearsLedger struct {
	l   *projections.Ledger
	src memSource
	seq uint64
}

func (y *yearsLedger) apply(id string, on domain.Date, p domain.Payload) {
	y.seq++
	ev := domain.Event{Envelope: domain.Envelope{EmployerID: id, Seq: y.seq, OccurredOn: on}, Body: p}
	if id != "" {
		ev.N = uint64(len(y.src[id]) + 1)
		y.src[id] = append(y.src[id], ev)
	}
	y.l.Apply(ev)
}

// viewsHeap is the live heap the ledger holds: the heap with it, less the heap once it is
// released (kept meanwhile as a snapshot, whose bytes are not counted), then restored.
func (y *yearsLedger) viewsHeap() uint64 {
	with := liveHeap()
	buf, err := y.l.SnapshotBytes()
	if err != nil {
		panic(err)
	}
	source := y.l.Source
	y.l = nil
	without := liveHeap() - uint64(cap(buf))
	if y.l, err = projections.RestoreLedger(bytes.NewReader(buf)); err != nil {
		panic(err)
	}
	y.l.Source = source
	return with - without
}

func runYears(payers, years int, compact bool, measure func(year int, events uint64, views uint64)) {
	y := &yearsLedger{l: projections.NewLedger(), src: memSource{}}
	if compact {
		y.l.Source = y.src
	}
	for _, p := range domain.DefaultReferenceEvents() {
		y.apply("", domain.MustDate("2006-01-01"), p)
	}
	ids := make([]string, payers)
	for i := range ids {
		ids[i] = fmt.Sprintf("payer-%05d", i)
		y.apply(ids[i], domain.MustDate("2006-01-02"), domain.EmployerRegistered{Profile: domain.Profile{Name: ids[i], County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
			RegisteredOn: domain.MustDate("2006-01-02")})
	}
	unpaid := map[string][]domain.Period{}
	for year := 2006; year < 2006+years; year++ {
		for m := 1; m <= 12; m++ {
			period := domain.MustPeriod(fmt.Sprintf("%d-%02d", year, m))
			declared := period.Next().FirstDay().AddDays(4)
			dueOn := period.Next().FirstDay().AddDays(14)
			for i, id := range ids {
				fen := domain.Fen(20000 + 100*(i%50))
				y.apply(id, declared, domain.DeclarationFiled{DeclaredOn: declared, Period: period, DueOn: dueOn, Lines: []domain.DeclaredLine{
					{Insurance: domain.Pension, Headcount: 2, WageBaseFen: fen * 5, DueFen: fen},
					{Insurance: domain.Unemployment, Headcount: 2, WageBaseFen: fen * 5, DueFen: fen / 10}}})
				due := fen + fen/10
				switch (i + m + year) % 10 {
				case 9: // unpaid, paid off in the next year's March
					unpaid[id] = append(unpaid[id], period)
				case 8: // late
					on := dueOn.AddDays(20)
					y.apply(id, on, domain.PaymentReceived{PaidOn: on, AmountFen: due + 50, ReceiptNo: fmt.Sprintf("L-%s-%s", id, period)})
				default:
					on := dueOn.AddDays(-3)
					y.apply(id, on, domain.PaymentReceived{PaidOn: on, AmountFen: due, ReceiptNo: fmt.Sprintf("P-%s-%s", id, period)})
				}
				if m == 3 && len(unpaid[id]) > 0 {
					on := domain.MustDate(fmt.Sprintf("%d-03-20", year))
					var owed domain.Fen
					for range unpaid[id] {
						owed += due * 2
					}
					y.apply(id, on, domain.PaymentReceived{PaidOn: on, AmountFen: owed, ReceiptNo: fmt.Sprintf("Q-%s-%d", id, year)})
					unpaid[id] = nil
				}
			}
		}
		// The next January's declarations are in; the year is closed.
		y.apply("", domain.MustDate(fmt.Sprintf("%d-02-01", year+1)), domain.YearClosed{Year: year, FreezeID: "f" + strconv.Itoa(year)})
		measure(year, y.seq, y.viewsHeap())
	}
	runtime.KeepAlive(y)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkViewsMemoryAcrossClosedYears measures the views' live heap after each closed year, with
// compaction (the default) and without (no event source), over the same ledger: P payers (default
// 2,000; KUOZHENG_BENCH_PAYERS) declaring and paying monthly for ten years, about 25 events a payer
// a year. It reports the heap the views hold after each year (the heap with them less without
// them) and its growth per event from the end of 2008 to the end of 2015.
//
//	go test -run XXX -bench ViewsMemoryAcrossClosedYears -benchtime 1x ./projections/
func BenchmarkViewsMemoryAcrossClosedYears(b *testing.B) {
	payers := 2000
	if v, err := strconv.Atoi(os.Getenv("KUOZHENG_BENCH_PAYERS")); err == nil && v > 0 {
		payers = v
	}
	for _, compact := range []bool{true, false} {
		name := "compacted"
		if !compact {
			name = "never-compacted"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				var third, tenth uint64
				var events3, events10 uint64
				start := time.Now()
				runYears(payers, 10, compact, func(year int, events, h uint64) {
					b.ReportMetric(float64(h)/(1<<20), fmt.Sprintf("MiB-after-%d", year))
					if year == 2008 {
						third, events3 = h, events
					}
					if year == 2015 {
						tenth, events10 = h, events
					}
				})
				b.ReportMetric(float64(int64(tenth)-int64(third))/float64(events10-events3), "B/event-after-2008")
				b.ReportMetric(time.Since(start).Seconds(), "s")
			}
		})
	}
}
