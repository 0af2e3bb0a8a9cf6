package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address to serve the API on")
	tokens := fs.String("tokens", "", "tokens file (JSON) with roles and county scopes; without it only loopback is allowed, as admin")
	today := fs.String("today", "", "business date that reads use when no as_of is given (default: today in Asia/Shanghai; 2006-12-31 with --demo)")
	metricsAddr := fs.String("metrics-listen", "", "also serve /metrics alone, without a token, on this host:port (for a Prometheus scraper; the API's /metrics needs an admin token when --tokens is given)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, for performance work")
	acceptDamage := fs.Bool("accept-damage", false, "report ready even when verification at start found damage (lost or altered events)")
	withDemo := fs.Bool("demo", false, "load the generated Ganzhou 2006 demo ledger on first start (never into a ledger that has employers)")
	demoEmployers := fs.Int("demo-employers", 20000, "payers in the demo ledger")
	noSnapshots := fs.Bool("no-snapshots", false, "start as on a ledger never served: fold the whole stream into the store's indexes and the views, and keep no snapshot of either (for measurement)")
	memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit on the Go heap, such as 1GiB or 0 for none; the default keeps ten years of a city of 40,000 payers within 1 GiB resident (GOMEMLIMIT applies when this is not given)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: kuozheng serve [options]\n\nRuns the ledger: embedded nats-server (or --nats), the HTTP API and health checks.\n\nOptions:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos)}
	}
	fixedToday, err := parseDateFlag("today", *today)
	if err != nil {
		return err
	}
	limit, err := applyMemoryLimit(fs, *memLimit)
	if err != nil {
		return err
	}
	if *pprofAddr != "" {
		host, _, err := net.SplitHostPort(*pprofAddr)
		if err != nil || !isLoopback(host) {
			return usageError{fmt.Sprintf("--pprof %q: want a loopback host:port", *pprofAddr)}
		}
		go func() { _ = http.ListenAndServe(*pprofAddr, pprofMux()) }()
	}
	if *withDemo && sf.ledger != eventstore.DefaultLedger {
		return usageError{fmt.Sprintf("--demo: the demo ledger is Ganzhou's (--ledger %s); ledger %s starts empty, without --demo", eventstore.DefaultLedger, sf.ledger)}
	}
	if *withDemo && fixedToday == 0 {
		fixedToday = demo.Today
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usageError{fmt.Sprintf("--listen %q: %v", *listen, err)}
	}
	if *tokens == "" && !isLoopback(host) {
		return usageError{fmt.Sprintf("--listen %s is not a loopback address: give --tokens, or the ledger would accept anyone as admin", *listen)}
	}
	log := newLogger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("memory", "soft_limit_mib", limit>>20)
	go watchMemory(ctx, limit, log)
	sf.replayAll = *noSnapshots
	metrics := api.NewMetrics()
	sf.metrics = metrics // given at open: the committer reads it from its first batch on
	led, err := openLedger(ctx, sf, log)
	if err != nil {
		return err
	}
	defer led.close()
	if *withDemo {
		if n := len(led.store.EmployerIDs()); n > 0 {
			log.Info("--demo: the ledger already holds employers; serving it as it is", "employers", n)
		} else if _, err := loadDemo(ctx, led.store, demo.Config{Employers: *demoEmployers, Seed: 2006}, stderr); err != nil {
			return err
		}
	}
	runner := projections.NewRunner(led.store, projections.RunnerConfig{Log: log, Observe: metrics, NoSnapshots: *noSnapshots})
	metrics.Watch(led.store, runner)
	metrics.WatchDisk(sf.filesDir())
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer func() {
		if err := runner.SaveSnapshot(context.Background()); err != nil {
			log.Warn("snapshot at shutdown", "err", err)
		}
	}()
	// /readyz asks the stream too (leader, answering, follower keeping up), at most once a second.
	probe := api.NewStreamProbe(led.store)
	probe.Log = log
	cfg := api.Config{Store: led.store, Runner: runner, Metrics: metrics, Log: log, Connected: led.connected, Probe: probe.Check}
	if damage := startupDamage(ctx, led, runner); damage != "" {
		if *acceptDamage {
			log.Error("the ledger is damaged; serving it as it is because of --accept-damage", "damage", damage)
		} else {
			log.Error("the ledger is damaged; /readyz answers 503 until restarted with --accept-damage (inspect with kuozheng verify)", "damage", damage)
			cfg.Damage = damage
		}
	}
	if fixedToday != 0 {
		cfg.Today = func() domain.Date { return fixedToday }
	} else {
		cfg.Today = todayInShanghai
	}
	if *tokens != "" {
		t, err := api.LoadTokens(*tokens, led.store.Reference(), log)
		if err != nil {
			return err
		}
		cfg.Tokens = t
	} else {
		log.Warn("no --tokens: every request is treated as admin; listening on loopback only", "listen", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	handler := api.New(cfg)
	stopFigures, err := answerFigures(led.nc, led.store, runner, cfg.Today, log)
	if err != nil {
		return err
	}
	defer stopFigures()
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		msrv := api.HTTPServer(*metricsAddr, mux)
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics for scrapers", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	// The dashboard's figures are computed once the views have caught up, before /readyz says ready.
	handler.WarmWhenReady(ctx)
	srv := api.HTTPServer(*listen, handler)
	log.Info("kuozheng serving", "url", "http://"+ln.Addr().String(), "seq", led.store.Applied())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pprofMux serves the profiler on its own listener, never on the API's.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startupDamage checks what the store found while replaying the stream (hash chains, sequence
// links, lost and deleted messages) and whether the views' snapshot is ahead of the stream.
func startupDamage(ctx context.Context, led *ledger, runner *projections.Runner) string {
	var why []string
	if d := runner.Damage(); d != "" {
		why = append(why, d)
	}
	in, err := led.store.Verify(ctx)
	if err != nil {
		return "verification failed: " + err.Error()
	}
	if in.Lost > 0 || in.Deleted > 0 {
		why = append(why, fmt.Sprintf("the stream reports %d lost and %d deleted messages", in.Lost, in.Deleted))
	}
	for i, b := range in.Breaks {
		if i == 5 {
			why = append(why, fmt.Sprintf("and %d more employers", len(in.Breaks)-5))
			break
		}
		why = append(why, fmt.Sprintf("employer %s breaks at sequence %d: %s", b.EmployerID, b.Seq, b.Reason))
	}
	return strings.Join(why, "; ")
}
