package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// defaultMemoryLimit keeps serve within 1 GiB resident through ten years of Ganzhou (about
// 460 MiB live at 42,000 payers): without a limit the collector lets the heap grow to twice what
// is live before it runs. The limit bounds the memory the Go runtime holds; resident memory adds
// the program's own pages and what the runtime freed but has not yet returned, about 40 MiB at
// the peaks measured, so the limit leaves 128 MiB of the gibibyte to them.
const defaultMemoryLimit = "896MiB"

// minMemoryLimit is the least --memory-limit taken: a bare number is bytes, and "--memory-limit
// 10" would otherwise be taken as ten bytes.
const minMemoryLimit = 64 << 20

// parseBytes reads a size such as 1GiB, 512MiB, 800MB or 1073741824; "0" or "off" is no limit.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return 0, nil
	}
	units := []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a size such as 1GiB, 512MiB or 0 for none")
	}
	return n * mult, nil
}

// applyMemoryLimit sets the collector's soft memory limit from --memory-limit; GOMEMLIMIT in the
// environment wins when the flag is not given. It returns the limit in force (0: none).
func applyMemoryLimit(fs *flag.FlagSet, value string) (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" && !flagSet(fs, "memory-limit") {
		return max(debug.SetMemoryLimit(-1), 0), nil
	}
	n, err := parseBytes(value)
	if err != nil {
		return 0, usageError{fmt.Sprintf("--memory-limit %q: %v", value, err)}
	}
	if n == 0 {
		debug.SetMemoryLimit(1<<63 - 1)
		return 0, nil
	}
	if n < minMemoryLimit {
		return 0, usageError{fmt.Sprintf("--memory-limit %q: below 64MiB, less than the reference data and the views of an empty ledger, the collector would run without pause; give at least 64MiB, or 0 for none", value)}
	}
	debug.SetMemoryLimit(n)
	return n, nil
}

// steadyGCPercent is the collector's GOGC once serve has started, under a soft limit: it runs
// when the heap has grown to five times what is live, or near the limit, whichever comes first.
// At Go's default (100) it ran at every doubling, which on a ledger whose views fit well under
// the limit spent a tenth of a bulk load's or an import's CPU collecting (GOGC 400: 10-14% more
// events a second on both); a heap as large as the limit collects near the limit either way.
// storetest.ServeGCPercent runs the benchmarks' ledger sides the same way.
const steadyGCPercent = 400

// collectNearLimit lets the collector run only as the heap nears the soft limit while serve
// starts, not each time the heap doubles what is live (GOGC off): folding the stream allocates
// fast while what the views keep grows, and on the ten-year ledger collecting at every doubling
// was a fifth of a first start's time. It returns what sets the collector as serve runs once
// started (steadyGCPercent). Without a limit (the heap would grow without bound) or with GOGC
// set it changes nothing.
func collectNearLimit(limit int64) (started func()) {
	if !setsCollector(limit) {
		return func() {}
	}
	debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(steadyGCPercent) }
}

// readingGCPercent is the collector's pace while serve, once started, reads every event of the
// stream again (verifyWhole): Go's default, so that the read's garbage is not let grow to four
// times what is live, as steadyGCPercent would (a few hundred MiB more at the peak).
const readingGCPercent = 100

// collectAt sets the collector's pace to percent where collectNearLimit sets it (a soft limit,
// GOGC not set), and leaves it alone elsewhere.
func collectAt(limit int64, percent int) {
	if setsCollector(limit) {
		debug.SetGCPercent(percent)
	}
}

// setsCollector reports whether serve sets the collector's pace: only under a soft limit (the
// heap would grow without bound otherwise), and not when GOGC is set.
func setsCollector(limit int64) bool { return limit > 0 && os.Getenv("GOGC") == "" }

// watchMemory warns, at most hourly, when what is live approaches the soft limit: the collector
// then runs often and takes CPU from serving, and the limit should be raised.
func watchMemory(ctx context.Context, limit int64, log *slog.Logger) {
	if limit <= 0 {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var warned time.Time
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		live := int64(sample[0].Value.Uint64())
		if live > limit*4/5 && time.Since(warned) > time.Hour {
			warned = time.Now()
			log.Warn("the live heap is near the memory limit: the collector runs often; raise --memory-limit (or GOMEMLIMIT)",
				"live_mib", live>>20, "limit_mib", limit>>20)
		}
	}
}
