package demo_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
)

// yearly is a campaign played into a ledger of the test's own, year by year, as the event store
// would take it: reference data first, then the steps, then the year closed.
type yearly struct {
	*ledger
	ref *domain.Reference
	// steps are every year's steps; stats the campaign's counts of each year.
	steps map[int][]demo.Step
	stats map[int]demo.YearStats
	// byDate are the steps of each employer, each with its year.
	byYear map[string][]int
}

// playCampaign plays cfg's campaign from 2006 through last in batches of `batch` payers. Every
// step must pass Check and Decide against the employer's state and the reference data of its
// year, with the years before it closed; the test fails at the first that does not.
func playCampaign(t testing.TB, cfg demo.Config, last, batch int) *yearly {
	t.Helper()
	y := &yearly{ledger: newLedger(), ref: reference(), steps: map[int][]demo.Step{}, stats: map[int]demo.YearStats{}, byYear: map[string][]int{}}
	c := demo.NewCampaign(cfg)
	state := func(id string) (*domain.Employer, error) {
		if e := y.employers[id]; e != nil {
			return e.Clone(), nil
		}
		return nil, nil
	}
	var seq uint64
	for year := demo.FirstYear; year <= last; year++ {
		if year > demo.FirstYear {
			if err := c.Next(); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range c.Reference() {
			if err := domain.CheckReference(r.Payload, y.ref); err != nil {
				t.Fatalf("%d: reference %T: %v", year, r.Payload, err)
			}
			y.ref.Apply(r.Payload)
		}
		ctx := domain.Context{Ref: y.ref, Today: c.Today()}
		for lo := 0; lo < c.Payers(); lo += batch {
			steps, err := c.Steps(lo, lo+batch, state)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				seq++
				y.apply(t, ctx, st, seq)
				if d := st.Command.Date(); d.Year() != year {
					t.Fatalf("%d: step %s of %s is dated %s, outside the year", year, cmdType(st.Command), st.EmployerID, d)
				}
				y.byYear[st.EmployerID] = append(y.byYear[st.EmployerID], year)
			}
			y.steps[year] = append(y.steps[year], steps...)
		}
		y.stats[year] = c.Stats()
		if year < last {
			closing := domain.YearClosed{Year: year, FreezeID: fmt.Sprint("freeze-", year), Digest: "d"}
			if err := domain.CheckReference(closing, y.ref); err != nil {
				t.Fatal(err)
			}
			y.ref.Apply(closing)
		}
	}
	return y
}

// active counts the employers registered and not deregistered on d.
func (y *yearly) active(d domain.Date) int {
	n := 0
	for _, e := range y.employers {
		if e.Registered && e.RegisteredOn <= d && !(e.Deregistered && e.DeregisteredOn <= d) {
			n++
		}
	}
	return n
}

// count counts the steps of a year that match.
func (y *yearly) count(year int, match func(demo.Step) bool) int {
	n := 0
	for _, st := range y.steps[year] {
		if match(st) {
			n++
		}
	}
	return n
}

func ofType(name string) func(demo.Step) bool {
	return func(st demo.Step) bool { return cmdType(st.Command) == name }
}

// priorRecovered sums, per employer, the principal recovered (paid after its due date) as of d
// on the lines already overdue when year began.
func (y *yearly) priorRecovered(year int, d domain.Date) map[string]domain.Fen {
	jan1 := domain.MustDate(fmt.Sprint(year, "-01-01"))
	out := map[string]domain.Fen{}
	for id, e := range y.employers {
		for _, l := range e.Account.Statement(d, y.ref.LateFees).Lines {
			if l.DueDate < jan1 {
				out[id] += l.RecoveredFen
			}
		}
	}
	return out
}

func TestCampaignStepsPassCheckAndDecideAcrossClosedYears(t *testing.T) {
	y := playCampaign(t, demo.Config{Employers: 300}, 2008, 97)
	for year := 2006; year <= 2008; year++ {
		t.Logf("%d: %+v active at the end %d", year, y.stats[year], y.active(domain.MustDate(fmt.Sprint(year, "-12-31"))))
	}
	logSteps(t, y.steps[2008])
	end := func(year int) domain.Date { return domain.MustDate(fmt.Sprint(year, "-12-31")) }

	t.Run("the payers grow year on year", func(t *testing.T) {
		for year := 2007; year <= 2008; year++ {
			if before, after := y.active(end(year-1)), y.active(end(year)); after <= before {
				t.Errorf("%d: %d active payers at the end, %d a year before", year, after, before)
			}
		}
	})
	t.Run("every later year has its business", func(t *testing.T) {
		for year := 2007; year <= 2008; year++ {
			for _, name := range []string{"RegisterEmployer", "CompleteRegistration", "RecordSurvey", "RecordEnrollment", "FileDeclaration",
				"RecordPayment", "MakeAssessment", "RecordAuditFinding", "RecordEnforcement", "GrantWaiver", "RecordContracts", "Deregister"} {
				if y.count(year, ofType(name)) == 0 {
					t.Errorf("%d: no %s", year, name)
				}
			}
		}
	})
	t.Run("audits find on periods of earlier years, dated in the current one", func(t *testing.T) {
		n := y.count(2008, func(st demo.Step) bool {
			f, ok := st.Command.(*domain.RecordAuditFinding)
			return ok && f.Period < "2008-01"
		})
		if n == 0 {
			t.Error("no 2008 finding on a period before 2008")
		}
	})
	t.Run("prior-year arrears are carried and some recovered in a later year", func(t *testing.T) {
		for year := 2007; year <= 2008; year++ {
			jan1 := domain.MustDate(fmt.Sprint(year, "-01-01"))
			var carried domain.Fen
			owing := 0
			for _, e := range y.employers {
				if a := e.Account.Statement(jan1, y.ref.LateFees).Totals.ArrearsPriorYearsFen; a > 0 {
					carried += a
					owing++
				}
			}
			before, after := y.priorRecovered(year, jan1), y.priorRecovered(year, end(year))
			recovered := 0
			for id, v := range after {
				if v > before[id] {
					recovered++
				}
			}
			t.Logf("%d: %d employers carry %s yuan of prior-year arrears; %d recovered some during the year", year, owing, carried, recovered)
			if carried == 0 || recovered == 0 || recovered > owing {
				t.Errorf("%d: %d employers carry prior-year arrears of %s; %d recovered some", year, owing, carried, recovered)
			}
		}
	})
	t.Run("prior-year late fees are paid or waived", func(t *testing.T) {
		n := y.count(2008, func(st demo.Step) bool {
			w, ok := st.Command.(*domain.GrantWaiver)
			return ok && w.Kind == domain.WaiverLateFee && w.Period < "2008-01"
		})
		if n == 0 {
			t.Error("no 2008 late-fee waiver on a period before 2008")
		}
	})
}

// campaignDigest hashes a campaign's steps of every year with their payer and number.
func campaignDigest(t *testing.T, y *yearly) string {
	h := sha256.New()
	for year := demo.FirstYear; len(y.steps[year]) > 0; year++ {
		for _, st := range y.steps[year] {
			b, err := json.Marshal(st.Command)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%d|%d|%d|%s|%v|%s|%s\n", year, st.Payer, st.N, st.EmployerID, st.Create, cmdType(st.Command), b)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestCampaignIsDeterministicWhateverTheBatches(t *testing.T) {
	a := campaignDigest(t, playCampaign(t, demo.Config{Employers: 120, Seed: 9}, 2008, 1000))
	for _, tc := range []struct {
		name  string
		cfg   demo.Config
		batch int
		same  bool
	}{
		{"the same seed in other batches", demo.Config{Employers: 120, Seed: 9}, 17, true},
		{"another seed", demo.Config{Employers: 120, Seed: 10}, 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b := campaignDigest(t, playCampaign(t, tc.cfg, 2008, tc.batch)); (a == b) != tc.same {
				t.Fatalf("digest %s vs %s: want same=%v", a, b, tc.same)
			}
		})
	}
}

func TestCampaignFirstYearIsGenerate(t *testing.T) {
	cfg := demo.Config{Employers: 400, Seed: 11}
	want := map[string][]demo.Step{}
	for _, st := range demo.Generate(cfg) {
		want[st.EmployerID] = append(want[st.EmployerID], st)
	}
	c := demo.NewCampaign(cfg)
	got := map[string][]demo.Step{}
	for lo := 0; lo < c.Payers(); lo += 64 {
		steps, err := c.Steps(lo, lo+64, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			got[st.EmployerID] = append(got[st.EmployerID], st)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d employers, Generate has %d", len(got), len(want))
	}
	for id, steps := range want {
		a, _ := json.Marshal(steps)
		b, _ := json.Marshal(got[id])
		if string(a) != string(b) {
			t.Fatalf("employer %s: the campaign's 2006 steps differ from Generate's:\n%s\n%s", id, b, a)
		}
	}
}

func TestYearReference(t *testing.T) {
	ref := reference()
	redefined := map[int]domain.CountyRedefined{}
	for year := demo.FirstYear; year <= 2016; year++ {
		kinds := map[string]int{}
		for _, r := range demo.YearReference(year) {
			if err := domain.CheckReference(r.Payload, ref); err != nil {
				t.Fatalf("%d: %T: %v", year, r.Payload, err)
			}
			ref.Apply(r.Payload)
			kinds[domain.RefKind(r.Payload)]++
			switch p := r.Payload.(type) {
			case domain.CountyRedefined:
				redefined[year] = p
			case domain.AverageWageSet:
				if p.Wage.Source != demo.Illustrative {
					t.Errorf("%d: the average wage's source %q does not say it is illustrative", year, p.Wage.Source)
				}
			case domain.BaselineSet:
				if !strings.HasPrefix(p.Baseline.Source, demo.Illustrative) {
					t.Errorf("%d: the baseline's source %q does not say it is illustrative", year, p.Baseline.Source)
				}
			}
		}
		if year > demo.FirstYear && (kinds["average-wage"] != 1 || kinds["targets"] != 1) {
			t.Errorf("%d: reference data %v, want the year's average wage and targets", year, kinds)
		}
		if year == demo.FirstYear && kinds["baselines"] != 1 {
			t.Errorf("%d: reference data %v, want 2005's baseline", year, kinds)
		}
	}
	for _, tc := range []struct {
		name  string
		year  int
		code  string
		was   string
		on    string
		after string
	}{
		{"南康市 becomes 南康区 on 2013-11-18", 2013, "360703", "360782", "2013-11-18", "2013-11-17"},
		{"赣县 becomes 赣县区 on 2016-10-08", 2016, "360704", "360721", "2016-10-08", "2016-10-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, ok := redefined[tc.year]
			if !ok || x.Code != tc.code || x.Predecessor != tc.was {
				t.Fatalf("%d: redefinition %+v", tc.year, x)
			}
			if got := ref.CountyCodeOn(tc.was, domain.MustDate(tc.on)); got != tc.code {
				t.Errorf("on %s %s reads as %s, want %s", tc.on, tc.was, got, tc.code)
			}
			if got := ref.CountyCodeOn(tc.was, domain.MustDate(tc.after)); got != tc.was {
				t.Errorf("on %s %s reads as %s, want itself", tc.after, tc.was, got)
			}
		})
	}
	if wage, _ := ref.AverageWageOn(domain.MustDate("2015-06-30")); wage <= domain.DefaultAverageWage.MonthlyFen*2 {
		t.Errorf("the 2015 average wage %s is not above twice 2006's", wage)
	}
	if bp, _ := ref.Rate(domain.Unemployment, domain.PayerUnit, 1, domain.MustDate("2015-03-01")); bp != 200 {
		t.Errorf("unemployment from 2015-03-01 at %d bp, want 200", bp)
	}
}

func TestNewNankangEmployersRegisterUnder360703FromTheChange(t *testing.T) {
	y := playCampaign(t, demo.Config{Employers: 150, Seed: 5}, 2014, 1000)
	change := domain.MustDate("2013-11-18")
	// Registrations in 南康 by code, before and from the change.
	var before, from map[string]int = map[string]int{}, map[string]int{}
	for _, steps := range y.steps {
		for _, st := range steps {
			r, ok := st.Command.(*domain.RegisterEmployer)
			if !ok || (r.County != "360782" && r.County != "360703") {
				continue
			}
			if r.Date() < change {
				before[r.County]++
			} else {
				from[r.County]++
			}
		}
	}
	t.Logf("Nankang registrations before 2013-11-18: %v, from it: %v", before, from)
	if before["360782"] == 0 || before["360703"] != 0 {
		t.Errorf("before the change: registrations %v, want 360782 only", before)
	}
	if from["360703"] == 0 || from["360782"] != 0 {
		t.Errorf("from the change: registrations %v, want 360703 only", from)
	}
	if !slices.ContainsFunc(slices.Concat(y.steps[2013], y.steps[2014]), func(st demo.Step) bool {
		r, ok := st.Command.(*domain.RegisterEmployer)
		return ok && r.County == "360703" && !slices.Contains([]string{"南康市"}, r.Name[:min(len(r.Name), len("南康市"))])
	}) {
		t.Error("no registration in 360703 without the old county name")
	}
}

func TestUnitsEnteringFrom2016RegisterWithACreditCode(t *testing.T) {
	y := playCampaign(t, demo.Config{Employers: 40, Seed: 3}, 2016, 1000)
	units := map[int]int{}
	for year, steps := range y.steps {
		for _, st := range steps {
			r, ok := st.Command.(*domain.RegisterEmployer)
			if !ok || r.Kind == string(domain.KindIndividualBusiness) || r.Kind == string(domain.KindFlexible) {
				continue
			}
			units[year]++
			switch cc, err := domain.NormalizeCreditCode(r.CreditCode); {
			case year < 2016 && r.CreditCode != "":
				t.Errorf("%d: unit %s registers with credit code %s before 2016", year, r.Name, r.CreditCode)
			case year >= 2016 && err != nil:
				t.Errorf("%d: unit %s: %v", year, r.Name, err)
			case year >= 2016 && domain.OrgCodeOfCreditCode(cc) != r.OrgCode:
				t.Errorf("%d: unit %s: credit code %s does not hold its organisation code %s", year, r.Name, cc, r.OrgCode)
			}
		}
	}
	if units[2016] == 0 {
		t.Fatalf("no unit entered in 2016: %v", units)
	}
}

func TestPlayingAYearAgainGivesTheSameSteps(t *testing.T) {
	c := demo.NewCampaign(demo.Config{Employers: 80, Seed: 4})
	l, ref := newLedger(), reference()
	state := func(id string) (*domain.Employer, error) {
		if e := l.employers[id]; e != nil {
			return e.Clone(), nil
		}
		return nil, nil
	}
	var seq uint64
	for year := demo.FirstYear; year <= 2007; year++ {
		if year > demo.FirstYear {
			ref.Apply(domain.YearClosed{Year: year - 1, FreezeID: "f", Digest: "d"})
			if err := c.Next(); err != nil {
				t.Fatal(err)
			}
			for _, r := range c.Reference() {
				ref.Apply(r.Payload)
			}
		}
		first, err := c.Steps(0, c.Payers(), state)
		if err != nil {
			t.Fatal(err)
		}
		stats := c.Stats()
		again, err := c.Steps(0, c.Payers(), state)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(again)
		if len(first) == 0 || string(a) != string(b) {
			t.Fatalf("%d: %d steps, then %d different ones", year, len(first), len(again))
		}
		if c.Stats() != stats {
			t.Fatalf("%d: the year's counts were %+v, and %+v after playing it again", year, stats, c.Stats())
		}
		ctx := domain.Context{Ref: ref, Today: c.Today()}
		for _, st := range first {
			seq++
			l.apply(t, ctx, st, seq)
		}
	}
}

// A payer's later years read its statements from its account compacted through the year
// before (what is settled folded away): the years play exactly as from the whole account.
func TestLaterYearsPlayTheSameFromACompactedAccount(t *testing.T) {
	cfg := demo.Config{Employers: 150, Seed: 11}
	compacted := playCampaign(t, cfg, 2011, 1000)
	restore := demo.WholeAccounts()
	whole := playCampaign(t, cfg, 2011, 1000)
	restore()
	if a, b := campaignDigest(t, compacted), campaignDigest(t, whole); a != b {
		for year := demo.FirstYear; year <= 2011; year++ {
			if len(compacted.steps[year]) != len(whole.steps[year]) {
				t.Errorf("%d: %d steps from compacted accounts, %d from whole ones", year, len(compacted.steps[year]), len(whole.steps[year]))
			}
		}
		t.Fatalf("the campaign's digest from compacted accounts %s, from whole ones %s", a, b)
	}
}
