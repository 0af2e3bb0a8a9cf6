package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// cityLedger is one city's ledger in a province test: its store, its views and its answers to
// the province.
type cityLedger struct {
	code   string
	store  *eventstore.Store
	runner *projections.Runner
	// stopFigures stops answering the province for the city's figures.
	stopFigures func()
}

// startCity opens city code's ledger (three replicas, led from node leader; one without a leader
// named) through nc, fills it
// with the demo's steps for payers payers moved to the city's counties, and answers the province
// for it.
func startCity(t *testing.T, nc *nats.Conn, code string, payers int, leader string) *cityLedger {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	replicas := 3
	if leader == "" { // a single server
		replicas = 1
	}
	st, err := eventstore.Open(ctx, nc, eventstore.Config{Ledger: code, Replicas: replicas, PreferLeader: leader})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	var counties []string
	for _, c := range st.Reference().Counties {
		counties = append(counties, c.Code)
	}
	var reqs []eventstore.Request
	for i, s := range demo.Generate(demo.Config{Employers: payers, Seed: 2006}) {
		switch c := s.Command.(type) {
		case *domain.RegisterEmployer:
			c.County, c.Park = counties[s.Payer%len(counties)], nil
		case *domain.Transfer:
			c.County = counties[(s.Payer+1)%len(counties)]
		}
		reqs = append(reqs, eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today,
			Actor: "test", IdempotencyKey: fmt.Sprintf("%s-%d", code, i), BodyHash: fmt.Sprint(i)})
	}
	for i, r := range st.ExecuteBulk(ctx, reqs) {
		if r.Err != nil {
			t.Fatalf("city %s: step %d (%T): %v", code, i, reqs[i].Command, r.Err)
		}
	}
	runner := projections.NewRunner(st, projections.RunnerConfig{NoSnapshots: true})
	follow, stopFollowing := context.WithCancel(context.Background()) // the views follow until the test ends
	t.Cleanup(stopFollowing)
	if err := runner.Start(follow); err != nil {
		t.Fatal(err)
	}
	storetest.CheckFor(t, time.Minute, 20*time.Millisecond, func() error {
		if !runner.Ready() {
			return fmt.Errorf("city %s: views not caught up", code)
		}
		return nil
	})
	stop, err := answerFigures(nc, st, runner, func() domain.Date { return demo.Today }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return &cityLedger{code: code, store: st, runner: runner, stopFigures: stop}
}

// report is the city's own report as of the demo's today, as its API computes it.
func (c *cityLedger) report(t *testing.T) *projections.Report {
	t.Helper()
	var q projections.Query
	c.runner.View(func(l *projections.Ledger) {
		q = projections.Query{AsOf: demo.Today, Period: projections.DefaultPeriod(&l.Ref, demo.Today)}
	})
	r, err := c.runner.Report(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Three cities' ledgers on a three-node cluster, each through another node: the province's
// live figures are each city's own and their sum, the cities are ranked by the counties' rule
// against their own targets, and a province freeze made from the cities' December freezes
// reproduces its digest from them, also after the cities write on, and not from a freeze that
// is not the one its manifest names.
func TestTheProvinceSumsRanksAndFreezesItsCitiesLedgersOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-node cluster and three ledgers")
	}
	servers := storetest.StartCluster(t)
	codes := []string{"360300", "360500", "360700"}
	var cities []*cityLedger
	for i, code := range codes {
		cities = append(cities, startCity(t, connect(t, servers[i].ClientURL()), code, 30+15*i, servers[i].Name()))
	}
	for i, c := range cities {
		info, err := c.store.JetStream().Stream(context.Background(), c.store.Stream())
		if err != nil {
			t.Fatal(err)
		}
		if cfg := info.CachedInfo().Config; cfg.Replicas != 3 || cfg.Subjects[0] != eventstore.SubjectsOf(c.code).All {
			t.Fatalf("city %s: stream %s has %d replicas and subjects %v", c.code, cfg.Name, cfg.Replicas, cfg.Subjects)
		}
		// Each city's stream is led from the node it asked for: the three commit on three nodes.
		if leader, want := info.CachedInfo().Cluster.Leader, servers[i].Name(); leader != want {
			t.Fatalf("city %s: stream led from %s, asked for %s", c.code, leader, want)
		}
	}
	nc := connect(t, servers[2].ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	p, err := provinceFigures(nc, domain.Province, codes, demo.Today)
	if err != nil {
		t.Fatal(err)
	}
	var employers, insured, collected, arrears int64
	for i, c := range cities {
		own := c.report(t).City
		got := p.Cities[i]
		if got.Ledger != c.code || got.Seq == 0 {
			t.Fatalf("city %d of the province is %s at seq %d, want %s", i, got.Ledger, got.Seq, c.code)
		}
		own.Code, own.Name = got.City.Code, got.City.Name // the province names its rows by city
		if a, b := mustJSON(t, got.City), mustJSON(t, own); a != b {
			t.Fatalf("city %s: the province's row\n%s\nthe city's own\n%s", c.code, a, b)
		}
		if own.Employers == 0 || own.Insurances[domain.Pension].Insured == 0 {
			t.Fatalf("city %s has no figures to sum: %s", c.code, mustJSON(t, own))
		}
		employers += own.Employers
		insured += own.Insurances[domain.Pension].Insured
		collected += int64(own.Insurances[domain.Pension].YearCollectedFen)
		arrears += int64(own.ArrearsCurrentYearFen + own.ArrearsPriorYearsFen)
	}
	tot := p.Total
	if tot.Employers != employers || tot.Insurances[domain.Pension].Insured != insured ||
		int64(tot.Insurances[domain.Pension].YearCollectedFen) != collected || int64(tot.ArrearsCurrentYearFen+tot.ArrearsPriorYearsFen) != arrears {
		t.Fatalf("province total %d employers, %d pension insured, %d fen collected, %d fen arrears; the cities' sum %d, %d, %d, %d",
			tot.Employers, tot.Insurances[domain.Pension].Insured, tot.Insurances[domain.Pension].YearCollectedFen,
			tot.ArrearsCurrentYearFen+tot.ArrearsPriorYearsFen, employers, insured, collected, arrears)
	}

	// Ranking: every city has 2006 targets (Ganzhou's from the plan, the others' illustrative).
	if len(p.Ranking) != 3 || len(p.Unranked) != 0 {
		t.Fatalf("ranking %+v, unranked %v: want the three cities ranked", p.Ranking, p.Unranked)
	}
	for i, r := range p.Ranking {
		city, _ := domain.CityOf(r.Code)
		var c *projections.CityFigures
		for _, x := range p.Cities {
			if x.Ledger == r.Code {
				c = x
			}
		}
		// By hand: the mean over the 8 measures of min(actual/target, 1.2), in millionths.
		var sum int64
		for _, m := range r.Measures {
			if m.Target != c.Targets[m.Measure] {
				t.Fatalf("city %s: measure %s against %d, the city's target is %d", r.Code, m.Measure, m.Target, c.Targets[m.Measure])
			}
			v := m.Actual * 1_000_000 / m.Target
			if (m.Actual*1_000_000)%m.Target*2 >= m.Target {
				v++
			}
			sum += min(v, 1_200_000)
		}
		if len(r.Measures) != 8 || r.Score.Num != sum || r.Score.Den != 8_000_000 || r.Name != city.Name || r.Rank != i+1 {
			t.Fatalf("ranking %d: %+v; by hand the score is %d/8000000", i+1, r, sum)
		}
		if i > 0 && p.Ranking[i-1].Score.Num < r.Score.Num {
			t.Fatalf("ranking not by score: %+v", p.Ranking)
		}
	}

	// Each city's assessment team freezes its December figures; the province freezes from them.
	end := domain.MustDate("2006-12-31")
	for _, c := range cities {
		if _, _, err := projections.Freeze(ctx, c.store, projections.FreezeRequest{ValidThrough: end, Today: demo.Today,
			FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}}); err != nil {
			t.Fatal(err)
		}
	}
	made, err := freezeProvince(ctx, js, domain.Province, codes, 2006)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := eventstore.OpenProvince(ctx, js, domain.Province, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := prov.AppendFreeze(ctx, made, "assessor:test", "province-2006"); err != nil {
		t.Fatal(err)
	}
	stored, err := prov.Freeze(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Cities) != 3 || stored.Digest != made.Digest {
		t.Fatalf("stored province freeze: %d cities, digest %s; made %s", len(stored.Cities), stored.Digest, made.Digest)
	}
	for i, m := range stored.Cities {
		refs := cities[i].store.Freezes()
		if last := refs[len(refs)-1]; m.Ledger != codes[i] || m.FreezeID != last.ID || m.Digest != last.Digest {
			t.Fatalf("manifest names %+v, city %s's freeze is %s with digest %s", m, codes[i], last.ID, last.Digest)
		}
	}
	var frozen projections.ProvinceReport
	if err := json.Unmarshal(stored.Figures, &frozen); err != nil {
		t.Fatal(err)
	}
	if frozen.Total.Employers != employers {
		t.Fatalf("the frozen province counts %d employers, the cities %d", frozen.Total.Employers, employers)
	}
	if err := verifyProvinceFreeze(ctx, js, stored); err != nil {
		t.Fatal(err)
	}
	provinceCLIShowsFigures(t, servers[2].ClientURL(), codes, employers)

	// The cities write on: a freeze is what it was, live figures move.
	first := cities[0]
	res, err := first.store.Execute(ctx, eventstore.Request{Create: true, Today: demo.Today, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "萍乡市新登记单位", County: "360302", OrgCode: domain.NumberedOrgCode(990001), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-12-20"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.runner.WaitSeq(ctx, res.Seq); err != nil {
		t.Fatal(err)
	}
	if err := verifyProvinceFreeze(ctx, js, stored); err != nil {
		t.Fatalf("after a city wrote on: %v", err)
	}
	again, err := provinceFigures(nc, domain.Province, codes, demo.Today)
	if err != nil {
		t.Fatal(err)
	}
	if again.Cities[0].Seq <= p.Cities[0].Seq || mustJSON(t, again.Cities[0].City) == mustJSON(t, p.Cities[0].City) || mustJSON(t, again.Cities[1].City) != mustJSON(t, p.Cities[1].City) {
		t.Fatalf("live figures after one city's payment: seqs %d→%d, the other cities changed: %v",
			p.Cities[0].Seq, again.Cities[0].Seq, mustJSON(t, again.Cities[1].City) != mustJSON(t, p.Cities[1].City))
	}

	// A manifest naming another digest, or a freeze the city does not have, does not reproduce.
	tampered := stored
	tampered.Cities = append([]domain.CityFreeze(nil), stored.Cities...)
	tampered.Cities[1].Digest = strings.Repeat("0", 64)
	if err := verifyProvinceFreeze(ctx, js, tampered); err == nil || !strings.Contains(err.Error(), "360500") {
		t.Fatalf("a manifest with another digest for 360500: %v", err)
	}
	tampered.Cities[1] = stored.Cities[1]
	tampered.Cities[1].FreezeID = "no-such-freeze"
	if err := verifyProvinceFreeze(ctx, js, tampered); err == nil || !strings.Contains(err.Error(), "no-such-freeze") {
		t.Fatalf("a manifest naming a freeze the city lacks: %v", err)
	}
	tampered.Cities[1] = stored.Cities[1]
	tampered.Digest = strings.Repeat("f", 64)
	if err := verifyProvinceFreeze(ctx, js, tampered); err == nil {
		t.Fatal("a province freeze with another digest verified")
	}
}

// provinceCLIShowsFigures freezes the province through the command line and checks that what
// freeze and show print are the stored freeze, figures included, and that freezes lists the
// freezes without a figures key that would read as none.
func provinceCLIShowsFigures(t *testing.T, url string, codes []string, employers int64) {
	t.Helper()
	province := func(args ...string) string {
		var out, errs strings.Builder
		if err := provinceCmd(append(args, "--nats", url), &out, &errs); err != nil {
			t.Fatalf("province %v: %v (%s)", args, err, errs.String())
		}
		return out.String()
	}
	var made domain.ProvinceFreezeMade
	if err := json.Unmarshal([]byte(province("freeze", "--cities", strings.Join(codes, ","), "--year", "2006")), &made); err != nil {
		t.Fatal(err)
	}
	var shown domain.ProvinceFreezeMade
	if err := json.Unmarshal([]byte(province("show", made.ID)), &shown); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]domain.ProvinceFreezeMade{"freeze": made, "show": shown} {
		var figures projections.ProvinceReport
		if err := json.Unmarshal(f.Figures, &figures); err != nil || figures.Total == nil {
			t.Fatalf("province %s printed figures %s: %v", name, f.Figures, err)
		}
		if figures.Total.Employers != employers || f.Digest != made.Digest {
			t.Fatalf("province %s: %d employers, digest %s; the cities count %d, the freeze's digest is %s",
				name, figures.Total.Employers, f.Digest, employers, made.Digest)
		}
	}
	var listed []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(province("freezes")), &listed); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range listed {
		if _, ok := f["figures"]; ok {
			t.Fatalf("province freezes lists figures: %s", f["figures"])
		}
		found = found || string(f["id"]) == `"`+made.ID+`"`
	}
	if !found {
		t.Fatalf("province freezes does not list %s: %v", made.ID, listed)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
