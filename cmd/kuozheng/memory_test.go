package main

import (
	"flag"
	"runtime/debug"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestMemoryLimitSizes(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     int64
		bad      bool
	}{
		{"binary units", "1GiB", 1 << 30, false},
		{"mebibytes with a space", "512 MiB", 512 << 20, false},
		{"decimal units", "800MB", 800e6, false},
		{"plain bytes", "1073741824", 1 << 30, false},
		{"zero is no limit", "0", 0, false},
		{"off is no limit", "off", 0, false},
		{"negative is refused", "-1GiB", 0, true},
		{"fractions are refused", "1.5GiB", 0, true},
		{"unknown units are refused", "1TB", 0, true},
		{"overflow is refused", "9999999999GiB", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBytes(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Fatalf("parseBytes(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestMemoryLimitFlagSetsTheCollectorsLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	t.Setenv("GOMEMLIMIT", "")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	v := fs.String("memory-limit", defaultMemoryLimit, "")
	if err := fs.Parse([]string{"--memory-limit", "700MiB"}); err != nil {
		t.Fatal(err)
	}
	n, err := applyMemoryLimit(fs, *v)
	if err != nil || n != 700<<20 || debug.SetMemoryLimit(-1) != 700<<20 {
		t.Fatalf("limit %d, %v; collector's %d; want 700 MiB in both", n, err, debug.SetMemoryLimit(-1))
	}
	if _, err := applyMemoryLimit(fs, "lots"); err == nil {
		t.Fatal("--memory-limit lots accepted")
	}
}

// While serve starts the collector runs only near the soft limit, and once started at five
// times what is live (or near the limit); without a limit, or with GOGC set, it is left as it is.
func TestTheCollectorRunsNearTheLimitOnlyWhileServeStarts(t *testing.T) {
	percent := func() int { // reads GOGC's setting without changing it
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "")
	restore := collectNearLimit(896 << 20)
	if p := percent(); p != -1 {
		t.Errorf("with a limit, while starting: GOGC %d, want off (-1)", p)
	}
	restore()
	if p := percent(); p != steadyGCPercent {
		t.Errorf("started: GOGC %d, want %d", p, steadyGCPercent)
	}
	if storetest.ServeGCPercent != steadyGCPercent {
		t.Errorf("the benchmarks run the ledger at GOGC %d (storetest.ServeGCPercent), serve at %d", storetest.ServeGCPercent, steadyGCPercent)
	}
	debug.SetGCPercent(100)
	if n, err := parseBytes(defaultMemoryLimit); err != nil || n != storetest.ServeMemoryLimit {
		t.Errorf("serve's default limit %s (%d, %v) is not the benchmarks' storetest.ServeMemoryLimit %d", defaultMemoryLimit, n, err, storetest.ServeMemoryLimit)
	}
	collectNearLimit(0)()
	if p := percent(); p != 100 {
		t.Errorf("without a limit: GOGC %d, want 100 unchanged", p)
	}
	t.Setenv("GOGC", "50")
	collectNearLimit(896 << 20)
	if p := percent(); p != 100 {
		t.Errorf("with GOGC set: GOGC %d, want it unchanged", p)
	}
}
