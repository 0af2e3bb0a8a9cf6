package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"slices"
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
	sf.registerStream(fs)
	sf.registerListen(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve the API on, over HTTPS with --tls-cert, else plain HTTP")
	var tf tlsFlags
	tf.register(fs)
	var lf logFlags
	lf.register(fs)
	tokens := fs.String("tokens", "", "tokens file (JSON) with roles and county scopes; without it only loopback is allowed, as admin; on a non-loopback --listen it needs --tls-cert or --insecure-http")
	today := fs.String("today", "", "business date: what reads use when no as_of is given, and after which writes are refused as future-dated (default: today in Asia/Shanghai; 2006-12-31 with --demo)")
	metricsAddr := fs.String("metrics-listen", "", "also serve /metrics alone, without a token, on this host:port, always plain HTTP (for a Prometheus scraper; the API's /metrics needs an admin token when --tokens is given)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, for performance work")
	acceptDamage := fs.Bool("accept-damage", false, "report ready even when verification at start found damage (lost or altered events)")
	withDemo := fs.Bool("demo", false, "load the generated Ganzhou 2006 demo ledger on first start (never into a ledger that has employers)")
	demoEmployers := fs.Int("demo-employers", 20000, "payers in the demo ledger")
	noSnapshots := fs.Bool("no-snapshots", false, "start as on a ledger never served: fold the whole stream into the store's indexes and the views, and keep no snapshot of either (for measurement)")
	memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit on the Go heap, such as 1GiB or 0 for none; the default keeps ten years of a city of 40,000 payers within 1 GiB resident (GOMEMLIMIT applies when this is not given)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: kuozheng serve [options]\n\nRuns the ledger: embedded nats-server (or --nats), the API with its health checks over HTTP,\nor HTTPS with --tls-cert and --tls-key. With --tokens on a non-loopback --listen, TLS is\nrequired unless --insecure-http is given. Logs go to standard error (--log-format, --log-level).\n\nOptions:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos)}
	}
	// Outside the ledger's dates every write would be refused, or reads fail.
	fixedToday, err := ledgerDateFlag("today", *today)
	if err != nil {
		return err
	}
	if err := checkTransport(*listen, *tokens != "", tf); err != nil {
		return err
	}
	if err := sf.checkReplicas(); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	limit, err := applyMemoryLimit(fs, *memLimit)
	if err != nil {
		return err
	}
	if err := servePprof(*pprofAddr); err != nil {
		return err
	}
	if *withDemo && sf.ledger != eventstore.DefaultLedger {
		return usageError{fmt.Sprintf("--demo: the demo ledger is Ganzhou's (--ledger %s); ledger %s starts empty, without --demo", eventstore.DefaultLedger, sf.ledger)}
	}
	if *demoEmployers < 1 {
		return usageError{fmt.Sprintf("--demo-employers %d: must be at least 1", *demoEmployers)}
	}
	if *withDemo && fixedToday == 0 {
		fixedToday = demo.Today
	}
	// The certificate and key are read before the ledger is opened: a bad pair fails at once.
	var tlsConfig *tls.Config
	if tf.enabled() {
		var leaf *x509.Certificate
		if tlsConfig, leaf, err = serverTLS(tf, log); err != nil {
			return err
		}
		log.Info("TLS certificate", "subject", leaf.Subject.String(), "dns_names", leaf.DNSNames, "not_after", leaf.NotAfter)
		if why := certValidity(leaf, time.Now()); why != "" {
			log.Warn("the TLS certificate is "+why+": clients will refuse it", "cert", tf.cert)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("memory", "soft_limit_mib", limit>>20)
	go watchMemory(ctx, limit, log)
	collectAsStarted := collectNearLimit(limit)
	sf.replayAll = *noSnapshots
	// A tokens file that cannot be read, or is malformed, is said at once, not after the ledger's
	// replay and without making a ledger; its counties are checked once the ledger is open.
	var openingTokens *api.Tokens // the admins who may read /metrics while the ledger opens
	if *tokens != "" {
		// On a folder that holds no ledger yet its counties are the city's defaults, which the
		// first start writes: an unknown county or group is said before they are.
		var ref *domain.Reference
		if city, ok := domain.CityOf(sf.ledger); ok && sf.natsURL == "" && !hasLedgerFiles(sf.data) {
			ref = &domain.Reference{}
			for _, p := range city.ReferenceEvents() {
				ref.Apply(p)
			}
		}
		var err error
		if openingTokens, err = api.LoadTokens(*tokens, ref, nil); err != nil {
			return fmt.Errorf("--tokens: %w", err)
		}
	}
	metrics := api.NewMetrics()
	sf.metrics = metrics // given at open: the committer reads it from its first batch on
	// The addresses are taken before the ledger opens: one in use fails at once, not after a
	// replay or a demo's writing, and clients meanwhile are told the server is opening.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	handoff := &api.Handoff{Metrics: metrics, Tokens: openingTokens}
	srv := api.HTTPServer(*listen, handoff)
	// net/http's own lines (TLS handshakes that failed, panics) go to the same log, in its format.
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	scheme := "http"
	if tlsConfig != nil {
		scheme, srv.TLSConfig = "https", tlsConfig
	}
	// On a failure before the API is served: until it is handed the requests, none reaches the
	// store, so closing it after the ledger is harmless. A shutdown closes it before (below).
	defer srv.Close()
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		msrv := api.HTTPServer(*metricsAddr, mux)
		msrv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics for scrapers", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	log.Info("listening; opening the ledger (the API answers 503 \"opening\" until it is open)", "url", scheme+"://"+ln.Addr().String())
	// The views start while the store replays the stream, and fold its replay beside it. They
	// stop before the store closes, on every way out: else they would find it closed under them.
	var runner *projections.Runner
	vctx, stopViews := context.WithCancel(ctx)
	endViews := func() {
		stopViews()
		if runner != nil {
			runner.Wait()
		}
	}
	sf.whileReplaying = func(st *eventstore.Store) error {
		runner = projections.NewRunner(st, projections.RunnerConfig{Log: log, Observe: metrics, NoSnapshots: *noSnapshots})
		return runner.Start(vctx)
	}
	led, err := openLedger(ctx, sf, log)
	if err != nil {
		endViews()
		return err
	}
	// Deferred first, logged last: the views and the ledger (and an embedded nats-server) closed.
	defer log.Info("stopped")
	defer led.close()
	defer endViews()
	metrics.Watch(led.store, runner)
	metrics.WatchDisk(sf.filesDir())
	// The tokens file is checked against the ledger's counties before anything is written to it.
	var tokenSet *api.Tokens
	if *tokens != "" {
		if tokenSet, err = api.LoadTokens(*tokens, led.store.Reference(), log); err != nil {
			return fmt.Errorf("--tokens: %w", err)
		}
	}
	if *withDemo {
		cfg := demo.Config{Employers: *demoEmployers, Seed: 2006}
		load, resuming := true, false
		if n := len(led.store.EmployerIDs()); n > 0 {
			begun, whole, err := demoHeld(ctx, led.store, cfg)
			if err != nil {
				return err
			}
			switch {
			case !begun:
				log.Info("--demo: the ledger already holds employers, not this demo's: clerks' records, or a demo of another --demo-employers, which that size finishes; serving it as it is", "employers", n, "demo_employers", cfg.Employers)
			case !whole:
				// A first start stopped while the demo was written: its keys append the rest once.
				log.Warn("--demo: the ledger holds part of the demo, a first start having stopped while writing it; appending the rest", "employers", n)
			}
			load = begun && !whole
			resuming = load
		}
		if load {
			progress := stderr
			if lf.format == "json" { // every line on standard error is then a JSON object
				progress = logLines{log}
			}
			if _, err := loadDemo(ctx, led.store, cfg, progress); err != nil {
				if resuming && ctx.Err() == nil {
					// Finishing a demo begun before: what was written since may make the rest
					// no longer apply.
					return fmt.Errorf("%w; if the ledger was written to since its demo began (served without --demo), the rest of the demo may no longer apply: serve it without --demo, or start the demo in an empty --data folder", err)
				}
				return err
			}
		}
		// The views started before the demo was written: ready once they reflect all of it
		// (what the store holds once caught up with the stream, asked again through an election).
		if err := led.store.CatchUp(ctx); err != nil {
			return err
		}
		runner.CatchUp(led.store.Applied())
	}
	defer func() {
		if err := runner.SaveSnapshot(context.Background()); err != nil && !errors.Is(err, projections.ErrNoSnapshots) {
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
			cfg.AcceptedDamage = damage
			led.store.AcceptLoss()
			runner.AcceptDamage()
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
	cfg.Tokens = tokenSet
	if tokenSet == nil {
		log.Warn("no --tokens: every request is treated as admin; listening on loopback only", "listen", *listen)
	}
	handler := api.New(cfg)
	// A shutdown waits for the requests under way: a dashboard's live stream ends then.
	srv.RegisterOnShutdown(handler.EndStreams)
	stopFigures, err := answerFigures(led.nc, led.store, runner, cfg.Today, log)
	if err != nil {
		return err
	}
	defer stopFigures()
	// The dashboard's figures are computed once the views have caught up, before /readyz says ready.
	warmed := handler.WarmWhenReady(ctx)
	// The data folder's stream is this server's to check whole (on --nats, each node's copy is
	// its cluster's): once the ledger is ready, and stopped before the ledger is closed. A start
	// that folded the stream from its first event checked every chain as it went, and says so.
	own := sf.natsURL == "" && cfg.Damage == "" && cfg.AcceptedDamage == ""
	verify := own && led.store.ResumedAt() > 0
	startedCtx, stopStarted := context.WithCancel(ctx)
	started := make(chan struct{})
	go func() {
		defer close(started)
		select {
		case <-warmed:
		case <-startedCtx.Done():
			return
		}
		switch {
		case verify:
			collectAt(limit, readingGCPercent)
			verifyWhole(startedCtx, led.store, handler, *acceptDamage, log)
		case own:
			handler.Verified(led.store.Applied())
		}
		collectAsStarted()
	}()
	defer func() {
		stopStarted()
		<-started
	}()
	handoff.Serve(handler)
	log.Info("kuozheng serving", "url", scheme+"://"+ln.Addr().String(), "seq", led.store.Applied())
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
		// What is still open is closed before the ledger is.
		_ = srv.Close()
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

// servePprof serves Go's profiler on addr, a loopback address, in the background; "" is none.
func servePprof(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !isLoopback(host) {
		return usageError{fmt.Sprintf("--pprof %q: want a loopback host:port", addr)}
	}
	go func() { _ = http.ListenAndServe(addr, pprofMux()) }()
	return nil
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
	return strings.Join(append(why, integrityDamage(in)...), "; ")
}

// integrityDamage says what a verification found that keeps serve from being ready, if anything:
// events lost, unreadable or altered, or written by a newer build.
func integrityDamage(in eventstore.Integrity) []string {
	var why []string
	if in.LostTail != "" {
		why = append(why, in.LostTail)
	}
	if in.Lost > 0 || in.Deleted > 0 {
		why = append(why, fmt.Sprintf("the stream has %d lost and %d deleted messages", in.Lost, in.Deleted))
	}
	if in.Unreadable > 0 {
		why = append(why, fmt.Sprintf("the stream could not read back %d of its messages%s: their stored bytes fail their checksum", in.Unreadable, seqList(in.UnreadableAt, in.Unreadable)))
	}
	// Not damage, but the same answer: served, the views would leave those events out.
	if i := slices.IndexFunc(in.Breaks, func(b eventstore.BreakEntry) bool { return b.ByNewerBuild() }); i >= 0 {
		why = append(why, fmt.Sprintf("a newer build of kuozheng wrote events this one cannot read (employer %s at sequence %d, and maybe others): run that build or a newer one; --accept-damage would serve figures without them",
			in.Breaks[i].EmployerID, in.Breaks[i].Seq))
	}
	for i, b := range in.Breaks {
		if i == 5 {
			why = append(why, fmt.Sprintf("and %d more employers", len(in.Breaks)-5))
			break
		}
		why = append(why, fmt.Sprintf("employer %s breaks at sequence %d: %s", b.EmployerID, b.Seq, b.Reason))
	}
	return why
}

// verifyWhole checks every chain of the ledger from its first event, again from the stream, once
// serve is ready, and reports damage found as the start's check does (until --accept-damage,
// /readyz answers 503): a start checks only the events after the store's snapshot, and bytes of
// the stream altered before it (a disk's damage while the server was stopped) would be served
// until someone ran kuozheng verify. It returns once done, or once ctx is cancelled.
func verifyWhole(ctx context.Context, store *eventstore.Store, h *api.Server, accept bool, log *slog.Logger) {
	start := time.Now()
	in, err := store.VerifyStream(ctx)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		log.Warn("the verification of every chain could not run; kuozheng verify or GET /v1/verify runs it", "err", err)
		return
	}
	damage := strings.Join(integrityDamage(in), "; ")
	switch {
	case damage == "":
		log.Info("every chain verified from the first event", "through_seq", in.LastSeq, "employers", in.Employers, "took", time.Since(start).Round(time.Millisecond))
		h.Verified(in.LastSeq)
		return
	case accept:
		log.Error("the verification of every chain found damage; serving the ledger as it is because of --accept-damage", "damage", damage)
	default:
		log.Error("the verification of every chain found damage; /readyz answers 503 until restarted with --accept-damage (inspect with kuozheng verify)", "damage", damage)
	}
	h.FoundDamage(damage, accept)
}
