package demo_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
)

func reference() *domain.Reference {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	return ref
}

// ledger is the steps folded into employers, the way the event store would do it.
type ledger struct {
	employers map[string]*domain.Employer
	order     []string                       // employer ids in order of entry
	steps     map[string]int                 // count of steps by command type
	byEmp     map[string][]domain.Command    // each employer's commands
	openings  map[string]bool                // employers with prior-year arrears
	waivers   map[string]int                 // waivers by kind
	enforce   map[string]int                 // enforcement steps by step
	startedIn map[string]domain.EmployerKind // kind at entry
}

func cmdType(c domain.Command) string { return strings.TrimPrefix(fmt.Sprintf("%T", c), "*domain.") }

func newLedger() *ledger {
	return &ledger{employers: map[string]*domain.Employer{}, steps: map[string]int{}, byEmp: map[string][]domain.Command{},
		openings: map[string]bool{}, waivers: map[string]int{}, enforce: map[string]int{}, startedIn: map[string]domain.EmployerKind{}}
}

// replay folds the steps in order, checking and deciding each against the employer's state; it
// fails the test at the first refused step, or one dated before the step before it.
func replay(t testing.TB, steps []demo.Step) *ledger {
	t.Helper()
	ctx := domain.Context{Ref: reference(), Today: demo.Today}
	l := newLedger()
	var last domain.Date
	for i, st := range steps {
		l.apply(t, ctx, st, uint64(i+1))
		if d := st.Command.Date(); d < last {
			t.Fatalf("step %d (%s): dated %s, before the step before it (%s)", i, cmdType(st.Command), d, last)
		}
		last = st.Command.Date()
	}
	return l
}

// apply checks and decides one step against its employer's state and folds its events as event
// seq; it fails the test if the step is refused, or dated outside the employer's time in the
// ledger or before the employer's step before it.
func (l *ledger) apply(t testing.TB, ctx domain.Context, st demo.Step, seq uint64) {
	t.Helper()
	cmd := st.Command
	if err := cmd.Check(ctx); err != nil {
		t.Fatalf("%s for employer %s: Check: %v", cmdType(cmd), st.EmployerID, err)
	}
	e := l.employers[st.EmployerID]
	switch {
	case st.Create && e != nil:
		t.Fatalf("Create for employer %s, which exists", st.EmployerID)
	case !st.Create && e == nil:
		t.Fatalf("%s: employer %s does not exist", cmdType(cmd), st.EmployerID)
	case st.Create:
		e = &domain.Employer{}
	}
	var last domain.Date
	if cmds := l.byEmp[st.EmployerID]; len(cmds) > 0 {
		last = cmds[len(cmds)-1].Date()
	}
	payloads, err := cmd.Decide(e, ctx)
	if err != nil {
		t.Fatalf("%s for employer %s: Decide: %v", cmdType(cmd), st.EmployerID, err)
	}
	for _, p := range payloads {
		e.Apply(domain.Event{Envelope: domain.Envelope{EmployerID: st.EmployerID, Seq: seq, N: e.N + 1}, Body: p})
	}
	if st.Create {
		l.employers[st.EmployerID] = e
		l.order = append(l.order, st.EmployerID)
		l.startedIn[st.EmployerID] = e.Kind
	}
	if d := cmd.Date(); d < e.EnteredOn || d > ctx.Today || d < last {
		t.Fatalf("%s of %s: date %s outside %s..%s or before the employer's step before it (%s)", cmdType(cmd), st.EmployerID, d, e.EnteredOn, ctx.Today, last)
	}
	l.steps[cmdType(cmd)]++
	l.byEmp[st.EmployerID] = append(l.byEmp[st.EmployerID], cmd)
	switch c := cmd.(type) {
	case *domain.RecordOpeningBalance:
		l.openings[st.EmployerID] = true
	case *domain.GrantWaiver:
		l.waivers[c.Kind]++
	case *domain.RecordEnforcement:
		l.enforce[c.Step]++
	}
}

// figures are the city and county totals at Today.
type figures struct {
	insured           map[domain.Insurance]int64
	contracts         int64
	dueFen, arrears   map[string]domain.Fen           // by county
	due06, paid06     map[string]domain.Fen           // by county, 2006 periods only
	insDue, insPaid   map[domain.Insurance]domain.Fen // by insurance, 2006 periods only
	priorArrears      domain.Fen
	priorRecovered    int // employers with prior-year principal recovered
	found             int // units found unregistered by the survey
	kinds             map[domain.EmployerKind]int
	park, enterprises int
	risk              [4]int
}

func (l *ledger) figures() figures {
	f := figures{insured: map[domain.Insurance]int64{}, dueFen: map[string]domain.Fen{}, arrears: map[string]domain.Fen{},
		due06: map[string]domain.Fen{}, paid06: map[string]domain.Fen{}, insDue: map[domain.Insurance]domain.Fen{},
		insPaid: map[domain.Insurance]domain.Fen{}, kinds: map[domain.EmployerKind]int{}}
	for _, id := range l.order {
		e := l.employers[id]
		for ins, h := range e.Enrolled {
			f.insured[ins] += h
		}
		f.contracts += e.Contracts
		st := e.Account.Statement(demo.Today, domain.DefaultLateFees)
		f.dueFen[e.County] += st.Totals.DueFen
		f.arrears[e.County] += st.Totals.ArrearsCurrentYearFen + st.Totals.ArrearsPriorYearsFen
		f.priorArrears += st.Totals.ArrearsPriorYearsFen
		recovered := false
		for _, ln := range st.Lines {
			if ln.Period.Year() < 2006 && ln.RecoveredFen > 0 {
				recovered = true
			}
			if ln.Period.Year() == 2006 {
				f.due06[e.County] += ln.DueFen
				f.paid06[e.County] += ln.PaidFen
				f.insDue[ln.Insurance] += ln.DueFen
				f.insPaid[ln.Insurance] += ln.PaidFen
			}
		}
		if recovered {
			f.priorRecovered++
		}
		f.kinds[l.startedIn[id]]++
		if e.Kind == domain.KindEnterprise {
			f.enterprises++
			if e.InIndustrialPark {
				f.park++
			}
		}
		f.risk[e.RiskClass]++
	}
	for _, cmds := range l.byEmp {
		if r, ok := cmds[0].(*domain.RegisterEmployer); ok && r.FoundOn != "" {
			f.found++
		}
	}
	return f
}

func TestEveryStepPassesCheckAndDecide(t *testing.T) {
	steps := demo.Generate(demo.Config{Employers: 600})
	l := replay(t, steps)
	if len(l.order) != 600 {
		t.Fatalf("%d employers entered the ledger, want 600", len(l.order))
	}
	for id, cmds := range l.byEmp {
		if _, ok := cmds[0].(*domain.RegisterEmployer); !ok {
			t.Fatalf("employer %s starts with %s, want RegisterEmployer", id, cmdType(cmds[0]))
		}
	}
}

func TestEveryAmountIsWholeFenAndEveryReceiptUnique(t *testing.T) {
	steps := demo.Generate(demo.Config{Employers: 300, Seed: 7})
	whole := regexp.MustCompile(`^[0-9]+$`)
	receipts := map[string]bool{}
	for i, st := range steps {
		b, err := json.Marshal(st.Command)
		if err != nil {
			t.Fatal(err)
		}
		var m any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		var walk func(key string, v any)
		walk = func(key string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, y := range x {
					walk(k, y)
				}
			case []any:
				for _, y := range x {
					walk(key, y)
				}
			case json.Number:
				if !whole.MatchString(string(x)) {
					t.Fatalf("step %d (%s): %s = %v is not a whole non-negative number", i, cmdType(st.Command), key, x)
				}
			}
		}
		walk("", m)
		if p, ok := st.Command.(*domain.RecordPayment); ok {
			k := st.EmployerID + "/" + p.ReceiptNo
			if receipts[k] {
				t.Fatalf("receipt %s used twice by %s", p.ReceiptNo, st.EmployerID)
			}
			receipts[k] = true
		}
	}
}

func TestIdentifiersAreValidAndDeterministic(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, st := range demo.Generate(demo.Config{Employers: 400}) {
		r, ok := st.Command.(*domain.RegisterEmployer)
		if !ok {
			continue
		}
		if seen[st.EmployerID] {
			t.Fatalf("employer id %s used twice", st.EmployerID)
		}
		seen[st.EmployerID] = true
		switch domain.EmployerKind(r.Kind) {
		case domain.KindIndividualBusiness, domain.KindFlexible:
			if r.OrgCode != "" || !uuid.MatchString(st.EmployerID) {
				t.Fatalf("individual payer %q: org code %q, id %s: want no code and a UUIDv5-style id", r.Name, r.OrgCode, st.EmployerID)
			}
		default:
			code, err := domain.NormalizeOrgCode(r.OrgCode)
			if err != nil {
				t.Fatalf("unit %q: %v", r.Name, err)
			}
			if st.EmployerID != domain.EmployerIDForOrgCode(code) {
				t.Fatalf("unit %q: id %s is not the id of its organisation code %s", r.Name, st.EmployerID, code)
			}
		}
	}
}

// digest is a hash of every step's employer, kind and command as JSON.
func digest(t *testing.T, steps []demo.Step) string {
	h := sha256.New()
	for _, st := range steps {
		b, err := json.Marshal(st.Command)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s|%v|%s|%s\n", st.EmployerID, st.Create, cmdType(st.Command), b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSameConfigGivesSameStepsAndAnotherSeedOthers(t *testing.T) {
	a := digest(t, demo.Generate(demo.Config{Employers: 500, Seed: 42}))
	for _, tc := range []struct {
		name string
		cfg  demo.Config
		same bool
	}{
		{"same config", demo.Config{Employers: 500, Seed: 42}, true},
		{"another seed", demo.Config{Employers: 500, Seed: 43}, false},
		{"another size", demo.Config{Employers: 501, Seed: 42}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b := digest(t, demo.Generate(tc.cfg)); (a == b) != tc.same {
				t.Fatalf("digest %s vs %s: want same=%v", a, b, tc.same)
			}
		})
	}
	if digest(t, demo.Generate(demo.Config{Employers: 50})) != digest(t, demo.Generate(demo.Config{Employers: 50, Seed: 2006})) {
		t.Fatal("Seed 0 is not the default seed 2006")
	}
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*want }

func TestLedgerAt2000MatchesThePlan(t *testing.T) {
	const n = 2000
	l := replay(t, demo.Generate(demo.Config{Employers: n}))
	f := l.figures()
	logFigures(t, l, f)
	scale := float64(n) / 20000

	t.Run("insured near the scaled targets", func(t *testing.T) {
		for _, tc := range []struct {
			ins  domain.Insurance
			want float64
			tol  float64
		}{
			{domain.Pension, 275000, 0.12},
			{domain.Medical, 380000, 0.15},
			{domain.Unemployment, 300000, 0.15},
			{domain.WorkInjury, 180000, 0.15},
			{domain.Maternity, 110000, 0.15},
		} {
			if got := float64(f.insured[tc.ins]); !within(got, tc.want*scale, tc.tol) {
				t.Errorf("%s insured %v, want %v ±%v%%", tc.ins, got, tc.want*scale, tc.tol*100)
			}
		}
		if !within(float64(f.contracts), 242000*scale, 0.1) {
			t.Errorf("contracts signed %d, want about %v", f.contracts, 242000*scale)
		}
	})
	t.Run("payer mix", func(t *testing.T) {
		for _, tc := range []struct {
			kind  domain.EmployerKind
			share float64
		}{{domain.KindEnterprise, 0.5}, {domain.KindInstitution, 0.1}, {domain.KindIndividualBusiness, 0.25}, {domain.KindFlexible, 0.15}} {
			if got := float64(f.kinds[tc.kind]) / n; math.Abs(got-tc.share) > 0.04 {
				t.Errorf("%s share %.3f, want %.2f", tc.kind, got, tc.share)
			}
		}
		if got := float64(f.park) / float64(f.enterprises); got < 0.14 || got > 0.26 {
			t.Errorf("enterprises in industrial parks %.3f, want about 0.20", got)
		}
		for rc, want := range []float64{0, 0.6, 0.3, 0.1} {
			if got := float64(f.risk[rc]) / n; rc > 0 && math.Abs(got-want) > 0.05 {
				t.Errorf("risk class %d share %.3f, want %.2f", rc, got, want)
			}
		}
	})
	t.Run("every county has employers and discipline differs", func(t *testing.T) {
		var shares []float64
		for _, c := range domain.DefaultCounties {
			if f.dueFen[c.Code] == 0 {
				t.Fatalf("county %s %s has no dues", c.Code, c.Name)
			}
			shares = append(shares, float64(f.arrears[c.Code])/float64(f.dueFen[c.Code]))
		}
		sort.Float64s(shares)
		// The three most disciplined counties carry at most half the arrears share of the three
		// least disciplined.
		if k := len(shares); shares[2]*2 > shares[k-3] {
			t.Errorf("arrears shares %.4f: the 3rd best is not at most half the 3rd worst", shares)
		}
	})
	t.Run("the campaign's events all occur", func(t *testing.T) {
		units := f.kinds[domain.KindEnterprise] + f.kinds[domain.KindInstitution]
		if got := float64(f.found) / float64(units); got < 0.08 || got > 0.16 {
			t.Errorf("units found unregistered %.3f, want about 0.12", got)
		}
		for _, tc := range []struct {
			what string
			n    int
		}{
			{"completed registrations", l.steps["CompleteRegistration"]},
			{"employers with prior-year arrears", len(l.openings)},
			{"employers with prior-year arrears recovered", f.priorRecovered},
			{"assessments", l.steps["MakeAssessment"]},
			{"audit findings", l.steps["RecordAuditFinding"]},
			{"late-fee waivers", l.waivers[domain.WaiverLateFee]},
			{"principal waivers", l.waivers[domain.WaiverPrincipal]},
			{"inspections", l.enforce[domain.StepInspection]},
			{"forced collections", l.enforce[domain.StepForcedCollection]},
			{"payment reversals", l.steps["ReversePayment"]},
			{"transfers", l.steps["Transfer"]},
			{"deregistrations", l.steps["Deregister"]},
		} {
			if tc.n == 0 {
				t.Errorf("no %s", tc.what)
			}
		}
		if f.priorArrears == 0 {
			t.Error("no prior-year arrears remain at the year end")
		}
		if got := float64(len(l.openings)) / float64(units); got < 0.05 || got > 0.11 {
			t.Errorf("units with prior-year arrears %.3f, want about 0.08", got)
		}
	})
}

// logSteps logs how many steps there are of each command.
func logSteps(t *testing.T, steps []demo.Step) {
	counts := map[string]int{}
	for _, st := range steps {
		counts[cmdType(st.Command)]++
	}
	var types []string
	for k := range counts {
		types = append(types, k)
	}
	slices.Sort(types)
	var b strings.Builder
	for _, k := range types {
		fmt.Fprintf(&b, " %s=%d", k, counts[k])
	}
	t.Logf("%d steps:%s", len(steps), b.String())
}

func logFigures(t *testing.T, l *ledger, f figures) {
	var types []string
	for k := range l.steps {
		types = append(types, k)
	}
	slices.Sort(types)
	var b strings.Builder
	for _, k := range types {
		fmt.Fprintf(&b, " %s=%d", k, l.steps[k])
	}
	t.Logf("steps:%s", b.String())
	t.Logf("insured: %v; contracts %d; waivers %v; enforcement %v", f.insured, f.contracts, l.waivers, l.enforce)
	var arrears, due domain.Fen
	for _, c := range domain.DefaultCounties {
		arrears += f.arrears[c.Code]
		due += f.dueFen[c.Code]
		t.Logf("  %s %-10s due %14s arrears %12s (%.2f%%), 2006 collected %.1f%%", c.Code, c.Name, f.dueFen[c.Code], f.arrears[c.Code],
			100*float64(f.arrears[c.Code])/float64(f.dueFen[c.Code]), 100*float64(f.paid06[c.Code])/float64(f.due06[c.Code]))
	}
	t.Logf("city: due %s yuan, arrears %s yuan (prior years %s), found unregistered %d", due, arrears, f.priorArrears, f.found)
	for _, ins := range domain.Insurances {
		t.Logf("  2006 %-12s due %14s collected %14s (%.1f%%)", ins, f.insDue[ins], f.insPaid[ins], 100*float64(f.insPaid[ins])/float64(f.insDue[ins]))
	}
}

func TestGenerateFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size ledger")
	}
	start := time.Now()
	steps := demo.Generate(demo.Config{})
	t.Logf("Generate(20000): %d steps in %v", len(steps), time.Since(start))
	counts := map[string]int{}
	for _, st := range steps {
		counts[cmdType(st.Command)]++
	}
	t.Logf("steps by command: %v", counts)
	if counts["RegisterEmployer"] != 20000 {
		t.Errorf("the zero Config gives %d employers, want 20000", counts["RegisterEmployer"])
	}
	var pension int64
	last := map[string]int64{}
	for _, st := range steps {
		if e, ok := st.Command.(*domain.RecordEnrollment); ok && e.Insurance == string(domain.Pension) {
			var h int64
			fmt.Sscan(string(e.Headcount), &h)
			pension += h - last[st.EmployerID]
			last[st.EmployerID] = h
		}
	}
	if !within(float64(pension), 275000, 0.1) {
		t.Errorf("pension insured %d, want 275000 ±10%%", pension)
	}
	t.Logf("pension insured %d", pension)
}
