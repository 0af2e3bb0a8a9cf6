// Over 500 lines for a reason: the province commands (figures across cities, freezes, guards)
// share the request and answer types of a province's cities.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os/user"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FiguresSubject is where a city ledger's serve replicas answer for its live figures (one of them
// answers: they share a queue group). A request may carry {"as_of": "YYYY-MM-DD"}.
func figuresSubject(ledger string) string { return "kz.figures." + ledger }

// figuresAnswer is a city's answer to a request for its live figures.
type figuresAnswer struct {
	Figures *projections.CityFigures `json:"figures,omitempty"`
	Error   string                   `json:"error,omitempty"`
}

// answerFigures lets the province ask this replica for its city's live figures through NATS,
// until the returned func stops it.
func answerFigures(nc *nats.Conn, store *eventstore.Store, runner *projections.Runner, today func() domain.Date, log *slog.Logger) (func(), error) {
	sub, err := nc.QueueSubscribe(figuresSubject(store.Ledger()), "kuozheng", func(m *nats.Msg) {
		// Each on its own: one that waits for the views (min_seq) or computes a large report
		// holds up no other.
		go answerFigure(m, runner, today, log)
	})
	if err != nil {
		return nil, fmt.Errorf("answer for figures on %s: %w", figuresSubject(store.Ledger()), err)
	}
	// Flushed, so that once this returns the server routes requests here: a restore asking
	// whether a serve runs (noServeOf) found none once, the subscription not yet sent.
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("answer for figures on %s: %w", figuresSubject(store.Ledger()), err)
	}
	return func() {
		// Flushed, so that once stopped the server routes no request of the province here, to go
		// unanswered until it gives up, while another replica of the city would answer it.
		_ = sub.Unsubscribe()
		_ = nc.FlushTimeout(time.Second)
	}, nil
}

// answerFigure answers one request of the province for the city's figures.
func answerFigure(m *nats.Msg, runner *projections.Runner, today func() domain.Date, log *slog.Logger) {
	a := figuresAnswer{}
	if f, err := cityFigures(runner, m.Data, today); err != nil {
		a.Error = err.Error()
	} else {
		a.Figures = f
	}
	b, err := json.Marshal(a)
	if err != nil {
		b, _ = json.Marshal(figuresAnswer{Error: fmt.Sprintf("the figures cannot be written as JSON: %v", err)})
	}
	if err := m.Respond(b); err != nil {
		log.Warn("answering the province", "err", err)
	}
}

func cityFigures(runner *projections.Runner, body []byte, today func() domain.Date) (*projections.CityFigures, error) {
	var req struct {
		AsOf domain.Date `json:"as_of"`
		// MinSeq, if set, is a sequence the figures must reflect: the answer waits for the
		// views to reach it (a replica behind would answer figures older than asked).
		MinSeq uint64 `json:"min_seq"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fmt.Errorf("request: %w", err)
		}
	}
	if req.AsOf == 0 {
		req.AsOf = today()
	}
	if err := domain.CheckWithinLedger("as_of", req.AsOf); err != nil {
		return nil, err
	}
	if !runner.Ready() {
		return nil, errors.New("the views are catching up; ask again")
	}
	if req.MinSeq > 0 {
		wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := runner.WaitSeq(wctx, req.MinSeq)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("the views did not reach sequence %d within 30 s (at %d): ask again", req.MinSeq, runner.Seq())
		}
	}
	var ref domain.Reference
	var q projections.Query
	runner.View(func(l *projections.Ledger) {
		ref = l.Ref
		q = projections.Query{AsOf: req.AsOf, Period: projections.DefaultPeriod(&l.Ref, req.AsOf)}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := runner.Report(ctx, q)
	if err != nil {
		return nil, err
	}
	f := projections.CityFiguresOf(&ref, r)
	return &f, nil
}

const provinceHelp = `Usage: kuozheng province COMMAND --nats URL [options]

The province's view of its cities' ledgers, read through NATS: each city runs its own
'kuozheng serve --ledger CODE' on the same NATS (cluster); nothing is shared but NATS.

Commands:
  figures   the cities' live figures (asked of their serve replicas), their sum and ranking
  freeze    freeze the province's December figures of --year from each city's year-end freeze
            (the one the city closed the year after; else its latest through that 31 December),
            and store them with a manifest naming each city's freeze and digest in the
            province's stream; a city that reopened the year and has not closed it is refused
  freezes   list the province's freezes (each one's manifest and digest)
  show ID   print freeze ID whole: its manifest, digest and figures
  verify ID read the cities' freezes named in freeze ID again and check its digest

Run 'kuozheng province COMMAND --help' for a command's options.`

// provinceFlags are the options each province command takes beside --nats and --province,
// whether it takes an argument (the freeze's id), and its usage line and description for its
// --help.
var provinceFlags = map[string]struct {
	flags       []string
	id          bool
	usage, what string
}{
	"figures": {flags: []string{"cities", "as-of"},
		usage: "figures --nats URL --cities CODE,CODE,... [--as-of YYYY-MM-DD] [--province CODE]",
		what:  "Prints the cities' live figures (asked of their serve replicas), their sum and ranking."},
	"freeze": {flags: []string{"cities", "year", "replicas", "idempotency-key"},
		usage: "freeze --nats URL --cities CODE,CODE,... --year YYYY [--replicas N] [--idempotency-key KEY] [--province CODE]",
		what: "Freezes the province's December figures of --year from each city's year-end freeze: the one\n" +
			"the city closed the year after, or, for a year it never closed, its freeze valid through that\n" +
			"31 December through the latest sequence, checked against the city's live figures of that day\n" +
			"(asked of its serve replicas; a stale one is refused). A city that reopened the year and has not closed it\n" +
			"again is refused. The figures are stored with a manifest naming each city's freeze and digest\n" +
			"in the province's stream."},
	"freezes": {usage: "freezes --nats URL [--province CODE]",
		what: "Lists the province's freezes (each one's manifest and digest)."},
	"show": {id: true, usage: "show ID --nats URL [--province CODE]",
		what: "Prints freeze ID whole: its manifest, digest and figures."},
	"verify": {id: true, usage: "verify ID --nats URL [--province CODE]",
		what: "Reads the cities' freezes named in freeze ID again and checks its digest."},
}

func provinceCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(stdout, provinceHelp)
			return errHelp
		}
		return usageError{"province: give a command (figures, freeze, freezes, show, verify); run 'kuozheng province --help'"}
	}
	sub, args := args[0], args[1:]
	takes, known := provinceFlags[sub]
	if !known {
		return usageError{fmt.Sprintf("province: unknown command %q; run 'kuozheng province --help'", sub)}
	}
	fs := flag.NewFlagSet("province "+sub, flag.ContinueOnError)
	fs.Usage = func() {
		// This command's own usage and options only: the others' would read as taken here, and
		// are refused if given.
		fmt.Fprintf(stdout, "Usage: kuozheng province %s\n\n%s\n\nOptions:\n", takes.usage, takes.what)
		own := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		own.SetOutput(stdout)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "nats" || f.Name == "province" || slices.Contains(takes.flags, f.Name) {
				own.Var(f.Value, f.Name, f.Usage)
				own.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		own.PrintDefaults()
	}
	natsURL := fs.String("nats", "", "the NATS server or cluster the cities' ledgers are on (required)")
	cities := fs.String("cities", "", "the cities' codes, comma-separated (for figures and freeze; known: "+domain.CityCodes()+")")
	province := fs.String("province", domain.Province, "the province's code")
	asOf := fs.String("as-of", "", "business date of the live figures (default: the cities' today, when they agree)")
	year := fs.Int("year", 0, "the year whose December figures freeze freezes")
	replicas := fs.Int("replicas", 0, "make or update the province's stream with this many replicas (3 on a three-node cluster); 0 keeps the stream's own (for a new one, as many as the most any city's ledger on the NATS has)")
	key := fs.String("idempotency-key", "", "a retry of freeze with the same key stores nothing more and prints the freeze the key stored")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	var misplaced []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "nats" && f.Name != "province" && !slices.Contains(takes.flags, f.Name) {
			misplaced = append(misplaced, "--"+f.Name)
		}
	})
	switch {
	case len(misplaced) > 0:
		return usageError{fmt.Sprintf("province %s does not take %s ('kuozheng province %s --help' lists its options)", sub, strings.Join(misplaced, ", "), sub)}
	case takes.id && len(pos) != 1:
		return usageError{fmt.Sprintf("province %s: give the freeze's id, once", sub)}
	case !takes.id && len(pos) > 0:
		return usageError{fmt.Sprintf("province %s takes no argument, and was given %q", sub, strings.Join(pos, " "))}
	case *natsURL == "":
		return usageError{"province: --nats is required"}
	}
	if err := domain.CheckProvince("--province", *province); err != nil {
		return usageError{err.Error()}
	}
	var codes []string
	if *cities != "" {
		for _, c := range strings.Split(*cities, ",") {
			c = strings.TrimSpace(c)
			if err := domain.CheckCity("--cities", c); err != nil {
				return usageError{err.Error()}
			}
			if err := domain.CheckCityIn("--cities", c, *province); err != nil {
				return usageError{err.Error()}
			}
			if slices.Contains(codes, c) {
				return usageError{fmt.Sprintf("--cities: city %s is given twice", c)}
			}
			codes = append(codes, c)
		}
	}
	if slices.Contains(takes.flags, "cities") && len(codes) == 0 {
		return usageError{fmt.Sprintf("province %s: --cities is required", sub)}
	}
	d, err := ledgerDateFlag("as-of", *asOf)
	if err != nil {
		return err
	}
	if first, last := domain.EarliestDate.Year(), domain.LatestDate.Year(); sub == "freeze" && (*year < first || *year > last) {
		if *year == 0 {
			return usageError{"province freeze: --year is required (such as 2006)"}
		}
		return usageError{fmt.Sprintf("--year %d: want a year from %d to %d", *year, first, last)}
	}
	nc, err := nats.Connect(*natsURL, nats.Name("kuozheng province"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redactURL(*natsURL), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx := context.Background()
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	switch sub {
	case "figures":
		p, err := provinceFigures(nc, *province, codes, d)
		if err != nil {
			return err
		}
		return out.Encode(p)
	case "freeze":
		actor := "assessor:cli"
		if u, err := user.Current(); err == nil {
			actor = "assessor:" + u.Username + "@cli"
		}
		f, stored, err := storeProvinceFreeze(ctx, js, provinceOrder{province: *province, codes: codes, year: *year, replicas: *replicas, actor: actor, key: *key})
		if err != nil {
			return err
		}
		if stored == 0 {
			fmt.Fprintf(stderr, "province freeze %s was stored before under --idempotency-key %q; nothing more is stored\n", f.ID, *key)
		} else {
			fmt.Fprintf(stderr, "stored province freeze %s at sequence %d of %s\n", f.ID, stored, eventstore.ProvinceStream(*province))
		}
		return out.Encode(f)
	}
	// Reading commands make no stream: a province with none has no freeze.
	p, found, err := eventstore.FindProvince(ctx, js, *province)
	if err != nil {
		return err
	}
	switch {
	case sub == "freezes" && !found:
		return out.Encode([]struct{}{})
	case !found:
		return fmt.Errorf("province %s has no freeze %q: no freeze of the province is stored on this NATS (no stream %s)", *province, pos[0], eventstore.ProvinceStream(*province))
	case sub == "freezes":
		list, err := p.Freezes(ctx)
		if err != nil {
			return err
		}
		// The list names each freeze and its manifest; 'show ID' gives one's figures.
		type listed struct {
			domain.ProvinceFreezeMade
			Figures json.RawMessage `json:"figures,omitempty"`
		}
		entries := make([]listed, len(list))
		for i := range list {
			entries[i].ProvinceFreezeMade = list[i]
		}
		return out.Encode(entries)
	}
	f, err := p.Freeze(ctx, pos[0])
	if err != nil {
		return err
	}
	if sub == "show" {
		return out.Encode(f)
	}
	if err := verifyProvinceFreeze(ctx, js, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "province freeze %s: digest %s reproduced from %d cities' freezes\n", f.ID, f.Digest, len(f.Cities))
	return nil
}

// provinceOrder is an order to freeze the province's December figures of a year.
type provinceOrder struct {
	province string
	codes    []string
	year     int
	replicas int
	actor    string
	// key makes a retry store nothing more: it answers the freeze the key stored, if it was for
	// the same cities and year, and is refused otherwise.
	key string
}

// storeProvinceFreeze makes and stores the province freeze o orders, or finds the one its key
// stored before (stored 0). The province's stream is made only when a freeze is to be stored.
func storeProvinceFreeze(ctx context.Context, js jetstream.JetStream, o provinceOrder) (f domain.ProvinceFreezeMade, stored uint64, err error) {
	same := func(f domain.ProvinceFreezeMade) error {
		var had []string
		for _, c := range f.Cities {
			had = append(had, c.Ledger)
		}
		// The same cities in another order are the same freeze (its figures do not depend on it).
		if f.Year != o.year || !slices.Equal(slices.Sorted(slices.Values(had)), slices.Sorted(slices.Values(o.codes))) {
			return domain.Conflict("idempotency_key", "--idempotency-key %q stored freeze %s of %d for cities %s; this asks for %d for cities %s: give another key",
				o.key, f.ID, f.Year, strings.Join(had, ","), o.year, strings.Join(o.codes, ","))
		}
		return nil
	}
	if o.key != "" {
		p, found, err := eventstore.FindProvince(ctx, js, o.province)
		if err != nil {
			return f, 0, err
		}
		if found {
			if had, ok, err := p.FreezeByKey(ctx, o.key); err != nil || ok {
				if err == nil {
					err = same(had)
				}
				return had, 0, err
			}
		}
	}
	f, err = freezeProvince(ctx, js, o.province, o.codes, o.year)
	if err != nil {
		return f, 0, err
	}
	p, err := eventstore.OpenProvince(ctx, js, o.province, o.replicas)
	if err != nil {
		return f, 0, err
	}
	got, seq, err := p.AppendFreeze(ctx, f, o.actor, o.key)
	if err != nil {
		return f, 0, err
	}
	if got.ID != f.ID { // the key's freeze, stored by a retry running beside this one
		return got, 0, same(got)
	}
	return f, seq, nil
}

// provinceFigures asks each city's serve replicas for its live figures as of asOf (0: each city's
// today, which must then agree), all at once, and sums and ranks them.
func provinceFigures(nc *nats.Conn, province string, codes []string, asOf domain.Date) (*projections.ProvinceReport, error) {
	body, _ := json.Marshal(map[string]any{"as_of": asOf})
	if asOf == 0 {
		body = nil
	}
	cities := make([]projections.CityFigures, len(codes))
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() { cities[i], errs[i] = askCity(nc, code, body) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if asOf == 0 && len(cities) > 0 {
		asOf = cities[0].AsOf
		var days []string
		for _, c := range cities {
			days = append(days, c.Ledger+" "+c.AsOf.String())
			if c.AsOf != asOf {
				asOf = 0
			}
		}
		if asOf == 0 {
			return nil, fmt.Errorf("the cities' business dates differ (%s): give --as-of, the day the province's figures are of", strings.Join(days, ", "))
		}
	}
	return projections.Province(province, asOf, cities)
}

// cityAnswerWait is how long a city's serve replicas have to answer for its figures: a report
// of a large city as of a past date can take seconds.
const cityAnswerWait = time.Minute

// askCity asks city code's serve replicas for its live figures.
func askCity(nc *nats.Conn, code string, body []byte) (projections.CityFigures, error) {
	msg, err := nc.Request(figuresSubject(code), body, cityAnswerWait)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return projections.CityFigures{}, fmt.Errorf("city %s: no serve replica answers on %s: is 'kuozheng serve --ledger %s' running on this NATS?", code, figuresSubject(code), code)
	case errors.Is(err, nats.ErrTimeout):
		return projections.CityFigures{}, fmt.Errorf("city %s: its serve replicas gave no answer within %v (stopped or overloaded): ask again, or look at its /readyz", code, cityAnswerWait)
	case err != nil:
		return projections.CityFigures{}, fmt.Errorf("city %s: %w", code, err)
	}
	var a figuresAnswer
	if err := json.Unmarshal(msg.Data, &a); err != nil {
		return projections.CityFigures{}, fmt.Errorf("city %s: answer: %w", code, err)
	}
	if a.Error != "" || a.Figures == nil {
		return projections.CityFigures{}, fmt.Errorf("city %s: %s", code, a.Error)
	}
	if a.Figures.Ledger != code {
		return projections.CityFigures{}, fmt.Errorf("city %s: answered by ledger %s", code, a.Figures.Ledger)
	}
	return *a.Figures, nil
}

// freezeProvince makes the province's freeze of year from each city's year-end freeze (cityYearEnd).
func freezeProvince(ctx context.Context, js jetstream.JetStream, province string, codes []string, year int) (domain.ProvinceFreezeMade, error) {
	end, err := domain.ParseDate(fmt.Sprintf("%04d-12-31", year))
	if err != nil {
		return domain.ProvinceFreezeMade{}, err
	}
	f := domain.ProvinceFreezeMade{ID: uuid.Must(uuid.NewV7()).String(), Province: province, Year: year, ValidThrough: end,
		CodeVersion: projections.CodeVersion}
	var open []int // the cities whose year is not closed: their freeze may be stale
	for _, code := range codes {
		city, err := eventstore.OpenCityLedger(ctx, js, code)
		if err != nil {
			return f, err
		}
		refs, _, err := city.Freezes(ctx)
		if err != nil {
			return f, err
		}
		last, final, err := cityYearEnd(ctx, city, refs, year, end)
		if err != nil {
			return f, err
		}
		if !final {
			open = append(open, len(f.Cities))
		}
		name := code
		if c, ok := domain.CityOf(code); ok {
			name = c.Name
		}
		f.Cities = append(f.Cities, domain.CityFreeze{Ledger: code, Name: name, FreezeID: last.ID, Seq: last.Seq, ThroughSeq: last.ThroughSeq, Digest: last.Digest})
	}
	figures, digest, frozen, err := provinceFreezeFigures(ctx, js, province, end, f.Cities)
	if err != nil {
		return f, err
	}
	for _, i := range open {
		if err := stillCurrent(ctx, js, f.Cities[i], frozen[i], year); err != nil {
			return f, err
		}
	}
	f.Figures, f.Digest = figures, digest
	return f, nil
}

// stillCurrent checks a city's freeze c of a year it has not closed against its live figures of
// the year's last day, asked of its serve replicas: a write dated in the year that landed after
// the freeze (a payment imported late) changes them, and the province would otherwise sum the
// stale figures unsaid, as a closing of the year refuses to close on them.
func stillCurrent(ctx context.Context, js jetstream.JetStream, c domain.CityFreeze, frozen projections.CityFigures, year int) error {
	// The figures asked must reflect the city's stream as it is now, whichever replica answers.
	stream, err := js.Stream(ctx, eventstore.SubjectsOf(c.Ledger).Stream)
	if err != nil {
		return fmt.Errorf("city %s: its stream: %w", c.Ledger, err)
	}
	last := stream.CachedInfo().State.LastSeq
	body, _ := json.Marshal(map[string]any{"as_of": frozen.AsOf, "min_seq": last})
	live, err := askCity(js.Conn(), c.Ledger, body)
	if err == nil && live.Seq < last {
		err = fmt.Errorf("its figures answered at sequence %d, behind the stream's %d", live.Seq, last)
	}
	if err != nil {
		return fmt.Errorf("city %s has not closed %d, so its freeze %s is checked against its live figures of %s before the province sums it, and they could not be read: %w (or the city closes the year)",
			c.Ledger, year, c.FreezeID, frozen.AsOf, err)
	}
	if diff := summedDiff(frozen, live); len(diff) > 0 {
		return fmt.Errorf("city %s: its freeze %s (through sequence %d) is stale: its live figures of %s differ (%s): writes dated in %d landed since; "+
			"the city freezes %s again (or closes the year after a freeze), then the province freezes it",
			c.Ledger, c.FreezeID, c.ThroughSeq, frozen.AsOf, strings.Join(diff, "; "), year, frozen.AsOf)
	}
	return nil
}

// summedDiff names the figures the province sums and ranks by (the city's totals and targets)
// that differ between a and b, "name a → b", at most three.
func summedDiff(a, b projections.CityFigures) []string {
	flat := func(c projections.CityFigures) map[string]string {
		out := map[string]string{}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					walk(prefix+"."+k, e)
				}
			default:
				// Rates follow from the counts and amounts compared; figures read back from JSON
				// (a city's answer) keep none (projections.Ratio).
				if !strings.HasSuffix(prefix, "_rate") {
					out[strings.TrimPrefix(prefix, ".")] = fmt.Sprint(x)
				}
			}
		}
		f := c.City
		if f == nil {
			f = &projections.Figures{}
		}
		b, _ := json.Marshal(map[string]any{"employers": f.Employers, "insurances": f.Insurances, "arrears_current_year_fen": f.ArrearsCurrentYearFen,
			"arrears_prior_years_fen": f.ArrearsPriorYearsFen, "recovered_fen": f.RecoveredFen, "prior_years_recovered_fen": f.PriorYearsRecoveredFen,
			"late_fee_fen": f.LateFeeFen, "contracts_signed": f.ContractsSigned, "targets": c.Targets})
		var m any
		_ = json.Unmarshal(b, &m)
		walk("", m)
		return out
	}
	fa, fb := flat(a), flat(b)
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		if fa[k] != fb[k] && len(out) < 3 {
			out = append(out, fmt.Sprintf("%s %s → %s", k, orNone(fa[k]), orNone(fb[k])))
		}
	}
	return out
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// cityYearEnd is the freeze of city, among its freezes refs, that the province sums for year,
// whose last day is end: the one the city closed the year after; for a year the city never
// closed, its year-end freeze through the latest sequence (a freeze made later through an
// earlier sequence, a historical cut, is not the year's), made since the closing of a later year
// closed it if one did (final: the year is closed, its figures cannot change). A year the city
// reopened and has not closed again is refused: its figures may still change.
func cityYearEnd(ctx context.Context, city *eventstore.CityLedger, refs []eventstore.FreezeRef, year int, end domain.Date) (ref *eventstore.FreezeRef, final bool, err error) {
	r, err := city.ReferenceAt(ctx, math.MaxUint64)
	if err != nil {
		return nil, false, err
	}
	st, recorded := r.Year(year)
	switch {
	case recorded && st.Closed:
		for i := range refs {
			if refs[i].ID == st.FreezeID {
				return &refs[i], true, nil
			}
		}
		return nil, false, fmt.Errorf("city %s closed %d after freeze %s, which its stream does not hold", city.Ledger, year, st.FreezeID)
	case recorded:
		return nil, false, fmt.Errorf("city %s reopened %d (%s) and has not closed it again: its figures of %d may still change; "+
			"it closes the year again after a year-end freeze, then the province freezes it (or leave the city out of --cities)",
			city.Ledger, year, st.ReopenReason, year)
	}
	var last *eventstore.FreezeRef
	for i := range refs {
		if refs[i].ValidThrough == end && (last == nil || refs[i].ThroughSeq >= last.ThroughSeq) {
			last = &refs[i]
		}
	}
	if last == nil {
		return nil, false, fmt.Errorf("city %s has no freeze valid through %s: its assessment team freezes it first (POST /v1/freezes)", city.Ledger, end)
	}
	// A year closed with a later one is final from that closing on: a freeze made before it
	// may lack writes dated in the year that landed between.
	if !r.BooksClosed(end) {
		return last, false, nil
	}
	since, closed, err := city.BooksClosedSince(ctx, end)
	if err != nil {
		return nil, false, err
	}
	if closed && last.ThroughSeq < since {
		first, _ := r.FirstClosed()
		with, _ := r.Year(first)
		return nil, false, fmt.Errorf("city %s closed %d with %d (after freeze %s) at sequence %d, after its latest freeze valid through %s (%s, through sequence %d): "+
			"writes dated %d may have landed between; the city freezes %s again (its books are closed, the figures final), then the province freezes it",
			city.Ledger, year, first, with.FreezeID, since, end, last.ID, last.ThroughSeq, year, end)
	}
	return last, closed, nil
}

// provinceFreezeFigures reads the cities' freezes a manifest names, checks each has the digest the
// manifest gives, and sums and ranks their figures.
func provinceFreezeFigures(ctx context.Context, js jetstream.JetStream, province string, end domain.Date, manifest []domain.CityFreeze) ([]byte, string, []projections.CityFigures, error) {
	var cities []projections.CityFigures
	for _, m := range manifest {
		city, err := eventstore.OpenCityLedger(ctx, js, m.Ledger)
		if err != nil {
			return nil, "", nil, err
		}
		made, seq, err := city.Freeze(ctx, m.FreezeID)
		if err != nil {
			return nil, "", nil, err
		}
		if made.Digest != m.Digest || made.ValidThrough != end {
			return nil, "", nil, fmt.Errorf("city %s: freeze %s has digest %s valid through %s, the manifest says %s through %s",
				m.Ledger, m.FreezeID, made.Digest, made.ValidThrough, m.Digest, end)
		}
		if seq != m.Seq || made.ThroughSeq != m.ThroughSeq {
			return nil, "", nil, fmt.Errorf("city %s: freeze %s is at sequence %d through %d, the manifest says at %d through %d",
				m.Ledger, m.FreezeID, seq, made.ThroughSeq, m.Seq, m.ThroughSeq)
		}
		if c, ok := domain.CityOf(m.Ledger); ok && c.Name != m.Name {
			return nil, "", nil, fmt.Errorf("city %s is %s, the manifest names it %s", m.Ledger, c.Name, m.Name)
		}
		r, err := projections.FrozenReport(made)
		if err != nil {
			return nil, "", nil, err
		}
		ref, err := city.ReferenceAt(ctx, made.ThroughSeq)
		if err != nil {
			return nil, "", nil, err
		}
		r.AsOf = made.ValidThrough
		cities = append(cities, projections.CityFiguresOf(ref, r))
	}
	p, err := projections.Province(province, end, cities)
	if err != nil {
		return nil, "", nil, err
	}
	figures, digest, err := projections.ProvinceFigures(p)
	return figures, digest, cities, err
}

// verifyProvinceFreeze reproduces a province freeze's digest from the cities' freezes its manifest
// names, each checked against the manifest. (Loading a freeze checks its figures give its digest.)
func verifyProvinceFreeze(ctx context.Context, js jetstream.JetStream, f domain.ProvinceFreezeMade) error {
	_, digest, _, err := provinceFreezeFigures(ctx, js, f.Province, f.ValidThrough, f.Cities)
	if err != nil {
		return err
	}
	if digest != f.Digest {
		return fmt.Errorf("province freeze %s: its cities' freezes give digest %s, it stored %s", f.ID, digest, f.Digest)
	}
	return nil
}
