// Over 500 lines for a reason: the views' folding is compared over random and hand-made ledgers
// sharing helpers.

package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

func refEvents() []domain.Event {
	var evs []domain.Event
	for _, p := range domain.DefaultReferenceEvents() {
		evs = append(evs, domain.Event{Body: p})
	}
	return evs
}

// randomEvents makes a plausible sequence of events for a few employers.
func randomEvents(rng *rand.Rand, n int) []domain.Event {
	evs := refEvents()
	counties := []string{"360702", "360721", "360782", "360735"}
	var ids []string
	for len(evs) < n {
		if len(ids) == 0 || rng.IntN(10) == 0 {
			id := fmt.Sprintf("e%03d", len(ids))
			ids = append(ids, id)
			evs = append(evs, domain.Event{Envelope: domain.Envelope{EmployerID: id}, Body: domain.EmployerRegistered{
				Profile:      domain.Profile{Name: id, County: counties[rng.IntN(len(counties))], Kind: domain.KindEnterprise, RiskClass: 1 + rng.IntN(3), InIndustrialPark: rng.IntN(3) == 0},
				RegisteredOn: domain.MustDate("2006-04-01").AddDays(rng.IntN(20))}})
			continue
		}
		id := ids[rng.IntN(len(ids))]
		day := domain.MustDate("2006-05-01").AddDays(rng.IntN(240))
		period := domain.MustPeriod("2006-04")
		for range rng.IntN(7) {
			period = period.Next()
		}
		ins := domain.Insurances[rng.IntN(len(domain.Insurances))]
		var body domain.Payload
		switch rng.IntN(9) {
		case 0:
			body = domain.SurveyCounted{AsOf: day, Workforce: int64(10 + rng.IntN(50))}
		case 1:
			body = domain.EnrollmentRecorded{Insurance: ins, Headcount: int64(5 + rng.IntN(40)), EffectiveOn: day}
		case 2, 3:
			body = domain.DeclarationFiled{DeclaredOn: day, Period: period, DueOn: (&domain.Reference{}).DueDate(period),
				Lines: []domain.DeclaredLine{{Insurance: ins, Headcount: 10, WageBaseFen: 1000000, DueFen: domain.Fen(10000 + rng.IntN(90000))}}}
		case 4, 5:
			body = domain.PaymentReceived{PaidOn: day, AmountFen: domain.Fen(1000 + rng.IntN(80000)), ReceiptNo: fmt.Sprint("R", len(evs))}
		case 6:
			body = domain.WaiverGranted{DecidedOn: day, Kind: domain.WaiverLateFee, Insurance: ins, Period: period, AmountFen: domain.Fen(rng.IntN(500)), AccruedFeeFen: 600}
		case 7:
			body = domain.EnforcementStepRecorded{Step: domain.StepNotice, On: day, Deadline: day.AddDays(15), DocNo: "N"}
		case 8:
			body = domain.EmployerTransferred{On: day, To: counties[rng.IntN(len(counties))]}
		}
		evs = append(evs, domain.Event{Envelope: domain.Envelope{EmployerID: id}, Body: body})
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		evs[i].N = uint64(i + 1)
	}
	return evs
}

func reportJSON(t *testing.T, l *Ledger, q Query) string {
	t.Helper()
	b, err := json.Marshal(l.Report(q))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFoldingInOnePassOrThroughASnapshotGivesIdenticalViews(t *testing.T) {
	queries := []Query{
		{Period: domain.MustPeriod("2006-06"), AsOf: domain.MustDate("2006-08-31")},
		{Period: domain.MustPeriod("2006-11"), AsOf: domain.MustDate("2006-12-31")},
	}
	for seed := range uint64(25) {
		rng := rand.New(rand.NewPCG(seed, 2006))
		evs := randomEvents(rng, 60+rng.IntN(300))
		whole := NewLedger()
		for _, ev := range evs {
			whole.Apply(ev)
		}
		cut := rng.IntN(len(evs))
		first := NewLedger()
		for _, ev := range evs[:cut] {
			first.Apply(ev)
		}
		var buf bytes.Buffer
		if err := first.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		second, err := RestoreLedger(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs { // replaying from the start must skip what the snapshot holds
			second.Apply(ev)
		}
		for _, q := range queries {
			a, b := reportJSON(t, whole, q), reportJSON(t, second, q)
			if a != b {
				t.Fatalf("seed %d, cut %d of %d, %v: views differ\none pass: %.400s\nsnapshot: %.400s", seed, cut, len(evs), q, a, b)
			}
		}
		for id, e := range whole.Employers.All() {
			a, _ := json.Marshal(e.Account.Statement(domain.MustDate("2006-12-31"), domain.DefaultLateFees))
			b, _ := json.Marshal(second.Employers.Get(id).Account.Statement(domain.MustDate("2006-12-31"), domain.DefaultLateFees))
			if string(a) != string(b) {
				t.Fatalf("seed %d: employer %s statement differs after a snapshot", seed, id)
			}
		}
	}
}

// payersLedger is a ledger of the reference events, and what applies an event of one payer to it.
func payersLedger() (*Ledger, func(id string, body domain.Payload)) {
	l := NewLedger()
	seq := uint64(0)
	for _, ev := range refEvents() {
		seq++
		ev.Seq = seq
		l.Apply(ev)
	}
	return l, func(id string, body domain.Payload) {
		seq++
		l.Apply(domain.Event{Envelope: domain.Envelope{Seq: seq, N: seq, EmployerID: id}, Body: body})
	}
}

func TestRatesAreComputedAsTheDomainDefinesThem(t *testing.T) {
	l, apply := payersLedger()
	reg := func(county string) domain.EmployerRegistered {
		return domain.EmployerRegistered{Profile: domain.Profile{Name: "x", County: county, Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate("2006-04-03")}
	}
	decl := func(period string, due domain.Fen) domain.DeclarationFiled {
		p := domain.MustPeriod(period)
		return domain.DeclarationFiled{DeclaredOn: p.Next().FirstDay(), Period: p, DueOn: l.Ref.DueDate(p),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 80, WageBaseFen: 100, DueFen: due}}}
	}
	// A: 80 insured of 96 surveyed, pays June in full on time.
	apply("A", reg("360724"))
	apply("A", domain.SurveyCounted{AsOf: domain.MustDate("2006-04-10"), Workforce: 96})
	apply("A", domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 80, EffectiveOn: domain.MustDate("2006-05-01")})
	apply("A", decl("2006-05", 10000))
	apply("A", decl("2006-06", 10000))
	apply("A", domain.PaymentReceived{PaidOn: domain.MustDate("2006-07-10"), AmountFen: 20000, ReceiptNo: "A1"})
	// B: 20 insured of 20 surveyed, pays June partly late.
	apply("B", reg("360724"))
	apply("B", domain.SurveyCounted{AsOf: domain.MustDate("2006-04-10"), Workforce: 20})
	apply("B", domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 20, EffectiveOn: domain.MustDate("2006-05-01")})
	apply("B", decl("2006-06", 5000))
	apply("B", domain.PaymentReceived{PaidOn: domain.MustDate("2006-08-01"), AmountFen: 3000, ReceiptNo: "B1"})
	// C: enrolled but never declared June; counts as unpaid.
	apply("C", reg("360724"))
	apply("C", domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 10, EffectiveOn: domain.MustDate("2006-05-01")})

	r := l.Report(Query{Period: domain.MustPeriod("2006-06"), AsOf: domain.MustDate("2006-08-31")})
	c, _ := r.County("360724")
	p := c.Insurances[domain.Pension]
	checks := []struct {
		name      string
		got, want any
	}{
		{"insured is the latest enrollment headcounts", p.Insured, int64(110)},
		{"should insure is the survey, at least the insured", p.ShouldInsure, int64(96 + 20 + 10)},
		{"coverage rate is insured over should insure", p.CoverageRate, Ratio{110, 126}},
		{"paid insured counts employers with nothing outstanding on the period", p.PaidInsured, int64(80)},
		{"contribution rate is paid insured over insured", p.ContributionRate, Ratio{80, 110}},
		{"period due is the June lines", p.PeriodDueFen, domain.Fen(15000)},
		// A's 20000 paid May then June in full; B's 3000 went to June.
		{"period collected is principal paid on June lines", p.PeriodCollectedFen, domain.Fen(13000)},
		{"cumulative runs from January through June", p.CumulativeDueFen, domain.Fen(25000)},
		{"current-year arrears are overdue June principal", c.ArrearsCurrentYearFen, domain.Fen(2000)},
		// A paid May (due 06-15) on 07-10, and B paid June (due 07-15) on 08-01: both overdue.
		{"recovered counts principal paid after its due date", c.RecoveredFen, domain.Fen(13000)},
	}
	for _, tt := range checks {
		if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if city := r.City.Insurances[domain.Pension]; city.Insured != 110 || r.Groups[0].Insurances[domain.Pension].Insured != 110 {
		t.Errorf("city and group 1 should sum the county: %d, %d", city.Insured, r.Groups[0].Insurances[domain.Pension].Insured)
	}
	if b, _ := json.Marshal(Ratio{1, 0}); string(b) != "null" {
		t.Errorf("a rate with denominator 0 is %s, want null", b)
	}
}

// TestContractsCountWhereAndWhenSigned: contracts signed count in as_of's year, in the county
// the payer was in when it signed them, whatever it became since (moved, closed), as its lines do.
func TestContractsCountWhereAndWhenSigned(t *testing.T) {
	l, apply := payersLedger()
	reg := func(county, on string) domain.EmployerRegistered {
		return domain.EmployerRegistered{Profile: domain.Profile{Name: "x", County: county, Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate(on)}
	}
	signed := func(on string, n int64) domain.ContractsSigned {
		return domain.ContractsSigned{SignedOn: domain.MustDate(on), Count: n}
	}
	apply("moved", reg("360702", "2006-04-03"))
	apply("moved", signed("2006-06-01", 5))
	apply("moved", domain.EmployerTransferred{On: domain.MustDate("2006-12-10"), From: "360702", To: "360723"})
	apply("moved", signed("2006-12-15", 2))
	apply("closed", reg("360724", "2005-03-01"))
	apply("closed", signed("2005-11-01", 7))
	apply("closed", signed("2006-03-01", 3))
	apply("closed", domain.EmployerDeregistered{On: domain.MustDate("2006-12-20"), Reason: "bankrupt"})

	contracts := func(asOf string) map[string]int64 {
		r := l.Report(Query{Period: domain.MustPeriod("2006-11"), AsOf: domain.MustDate(asOf)})
		out := map[string]int64{}
		for _, code := range []string{"360702", "360723", "360724"} {
			c, _ := r.County(code)
			out[code] = c.ContractsSigned
		}
		out["city"] = r.City.ContractsSigned
		return out
	}
	for _, tt := range []struct {
		name, asOf string
		want       map[string]int64
	}{
		{"before the move, with the county they were signed in", "2006-12-09", map[string]int64{"360702": 5, "360723": 0, "360724": 3, "city": 8}},
		{"after the move and the closing, still where they were signed", "2006-12-31", map[string]int64{"360702": 5, "360723": 2, "360724": 3, "city": 10}},
		{"the year before counts its own year only", "2005-12-31", map[string]int64{"360702": 0, "360723": 0, "360724": 7, "city": 7}},
	} {
		if got := contracts(tt.asOf); !maps.Equal(got, tt.want) {
			t.Errorf("%s: contracts as of %s are %v, want %v", tt.name, tt.asOf, got, tt.want)
		}
	}
}

// TestASnapshotInPartsRestoresEveryEmployerInOrder writes a ledger of several snapshot parts
// (decoded in parallel) and checks the restored one employer by employer; a damaged part is an
// error, never a ledger with employers missing.
func TestASnapshotInPartsRestoresEveryEmployerInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 2006))
	l := NewLedger()
	for i, ev := range randomEvents(rng, 50000) {
		ev.Seq = uint64(i + 1)
		l.Apply(ev)
	}
	if len(l.Order) <= 2*snapshotChunk {
		t.Fatalf("%d employers: the snapshot would not have three parts", len(l.Order))
	}
	snap, back := snapshotAndRestore(t, l)
	if !slices.Equal(back.Order, l.Order) || back.Seq != l.Seq {
		t.Fatalf("restored %d employers through %d, want %d through %d, in the same order", len(back.Order), back.Seq, len(l.Order), l.Seq)
	}
	asOf := domain.MustDate("2006-12-31")
	for _, id := range l.Order {
		a, _ := json.Marshal(l.Employers.Get(id).Account.Statement(asOf, domain.DefaultLateFees))
		b, _ := json.Marshal(back.Employers.Get(id).Account.Statement(asOf, domain.DefaultLateFees))
		if string(a) != string(b) || l.Employers.Get(id).Version != back.Employers.Get(id).Version {
			t.Fatalf("employer %s differs after a snapshot", id)
		}
	}
	damaged := slices.Clone(snap)
	damaged[len(damaged)-20] ^= 0x55
	if _, err := RestoreLedger(bytes.NewReader(damaged)); err == nil {
		t.Fatal("a snapshot damaged in its last part restored without error")
	}
	if _, err := RestoreLedger(bytes.NewReader(snap[:len(snap)/2])); err == nil {
		t.Fatal("half a snapshot restored without error")
	}
}

// TestTheViewsKeepNoStateOnlyDecidingReads: an employer's receipts and declared periods grow with
// every payment and period ever, and only deciding a command reads them. The views, folded or
// restored from a snapshot, keep neither; the same events folded for deciding keep both.
func TestTheViewsKeepNoStateOnlyDecidingReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2006))
	l := NewLedger()
	deciding := map[string]*domain.Employer{}
	for i, ev := range randomEvents(rng, 3000) {
		ev.Seq = uint64(i + 1)
		l.Apply(ev)
		if ev.EmployerID == "" || ev.Body == nil {
			continue
		}
		if deciding[ev.EmployerID] == nil {
			deciding[ev.EmployerID] = &domain.Employer{}
		}
		deciding[ev.EmployerID].Apply(ev)
	}
	_, back := snapshotAndRestore(t, l)
	receipts, declared := 0, 0
	for id, e := range deciding {
		receipts += len(e.Receipts)
		declared += len(e.Declared)
		for name, v := range map[string]*domain.Employer{"folded": l.Employers.Get(id), "restored": back.Employers.Get(id)} {
			if !v.SkipDecisions || v.Receipts != nil || v.Declared != nil {
				t.Fatalf("%s views of %s keep %d receipts and %d declared periods (SkipDecisions %v)", name, id, len(v.Receipts), len(v.Declared), v.SkipDecisions)
			}
		}
	}
	if receipts == 0 || declared == 0 {
		t.Fatalf("%d receipts, %d declared periods folded for deciding: the test exercises too little", receipts, declared)
	}
}

// snapshotAndRestore writes l's snapshot and restores views from it.
func snapshotAndRestore(t *testing.T, l *Ledger) ([]byte, *Ledger) {
	t.Helper()
	snap, err := l.SnapshotBytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := RestoreLedger(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	return snap, back
}

// A report computes each payer's figures apart from the others', on as many goroutines as it may
// use: they are the figures computed one after another, in the same order.
func TestAReportComputedOnSeveralCoresEqualsOneComputedOnOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 2006))
	l := NewLedger()
	for _, ev := range randomEvents(rng, 6000) {
		l.Apply(ev)
	}
	if n := l.Employers.Len(); n < 2*contributionChunk {
		t.Fatalf("the ledger holds %d employers, too few for two workers' chunks", n)
	}
	for _, q := range []Query{
		{Period: domain.MustPeriod("2006-06"), AsOf: domain.MustDate("2006-08-31")},
		{Period: domain.MustPeriod("2006-11"), AsOf: domain.MustDate("2006-12-31")},
	} {
		var one []contribution
		for _, id := range l.Employers.IDs() {
			one = append(one, employerFigures(id, l.Employers.Get(id), &l.Ref, q))
		}
		if several := l.contributionsOn(q, 4); !reflect.DeepEqual(one, several) {
			t.Fatalf("%v: the payers' figures computed by four goroutines differ from those computed by one", q)
		}
		if a, b := reportJSON(t, l, q), mustJSON(t, aggregate(&l.Ref, q, l.Seq, one, "")); a != b {
			t.Fatalf("%v: the report differs from one aggregated from figures computed one after another\nreport: %.400s\none: %.400s", q, a, b)
		}
	}
}

// TestADroppedLineIsNoLineForTheContributionRate: a declaration that replaces a period's earlier
// one without an insurance leaves that insurance undeclared (DOMAIN.md: "an enrolled employer
// with no line for the period … counts as unpaid"), not paid in full on nothing due; a freeze
// made by views-14 is still counted as it was.
func TestADroppedLineIsNoLineForTheContributionRate(t *testing.T) {
	l, apply := payersLedger()
	june := domain.MustPeriod("2006-06")
	decl := func(on string, ins ...domain.Insurance) domain.DeclarationFiled {
		d := domain.DeclarationFiled{DeclaredOn: domain.MustDate(on), Period: june, DueOn: l.Ref.DueDate(june)}
		for _, i := range ins {
			d.Lines = append(d.Lines, domain.DeclaredLine{Insurance: i, Headcount: 10, WageBaseFen: 100, DueFen: 1000})
		}
		return d
	}
	apply("D", domain.EmployerRegistered{Profile: domain.Profile{Name: "x", County: "360724", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate("2006-04-03")})
	for _, ins := range []domain.Insurance{domain.Pension, domain.Unemployment, domain.Medical} {
		apply("D", domain.EnrollmentRecorded{Insurance: ins, Headcount: 10, EffectiveOn: domain.MustDate("2006-05-01")})
	}
	apply("D", decl("2006-07-05", domain.Pension, domain.Unemployment)) // unemployment by mistake
	apply("D", decl("2006-07-06", domain.Pension, domain.Medical))      // the right insurances
	apply("D", domain.PaymentReceived{PaidOn: domain.MustDate("2006-07-10"), AmountFen: 2000, ReceiptNo: "D1"})

	paid := func(rules int) map[domain.Insurance]int64 {
		q := Query{Period: june, AsOf: domain.MustDate("2006-07-31"), rules: rules}
		c, _ := l.Report(q).County("360724")
		out := map[domain.Insurance]int64{}
		for _, ins := range []domain.Insurance{domain.Pension, domain.Unemployment, domain.Medical} {
			out[ins] = c.Insurances[ins].PaidInsured
		}
		return out
	}
	if got, want := paid(0), map[domain.Insurance]int64{domain.Pension: 10, domain.Unemployment: 0, domain.Medical: 10}; !maps.Equal(got, want) {
		t.Errorf("paid insured %v, want %v: unemployment was never declared for June", got, want)
	}
	if got, want := paid(rulesDroppedLines-1), map[domain.Insurance]int64{domain.Pension: 10, domain.Unemployment: 10, domain.Medical: 10}; !maps.Equal(got, want) {
		t.Errorf("by views-14's rules, paid insured %v, want %v", got, want)
	}
}

// TestTheMiningSegmentCountsMinesOtherThanCoal: DOMAIN.md lists mining (非煤矿山) among the
// plan's segments beside coal; both are in high_risk.
func TestTheMiningSegmentCountsMinesOtherThanCoal(t *testing.T) {
	l, apply := payersLedger()
	mine := func(id, sector string, heads int64) {
		apply(id, domain.EmployerRegistered{Profile: domain.Profile{Name: id, County: "360723", Kind: domain.KindEnterprise, RiskClass: 2,
			Industry: "B", Sector: sector}, RegisteredOn: domain.MustDate("2006-04-03")})
		apply(id, domain.EnrollmentRecorded{Insurance: domain.WorkInjury, Headcount: heads, EffectiveOn: domain.MustDate("2006-05-01")})
	}
	mine("tungsten", domain.SectorMining, 40)
	mine("coal", domain.SectorCoal, 7)
	q := Query{Period: domain.MustPeriod("2006-11"), AsOf: domain.MustDate("2006-12-31")}
	for _, tt := range []struct {
		seg                domain.Segment
		employers, insured int64
	}{{domain.SegmentMining, 1, 40}, {domain.SegmentCoal, 1, 7}, {domain.SegmentHighRisk, 2, 47}} {
		c, _ := l.SegmentReport(q, tt.seg).County("360723")
		if c.Employers != tt.employers || c.Insurances[domain.WorkInjury].Insured != tt.insured {
			t.Errorf("segment %s: %d payers, %d insured in work injury; want %d and %d", tt.seg, c.Employers, c.Insurances[domain.WorkInjury].Insured, tt.employers, tt.insured)
		}
	}
}

// TestATransferOnTheEntryDayCorrectsTheCountyOfEveryLine: a payer registered in the wrong county
// (360782) and moved on the same day (to 360702) counts every line there, those of periods begun
// before it entered too (its April and a back-paid February); a payer that moved a month after
// entering keeps April with the county it entered in. A freeze made by views-15 is counted as it
// was (every line of a period begun before the entry in the county registered in).
func TestATransferOnTheEntryDayCorrectsTheCountyOfEveryLine(t *testing.T) {
	l, apply := payersLedger()
	decl := func(period string, due domain.Fen) domain.DeclarationFiled {
		p := domain.MustPeriod(period)
		return domain.DeclarationFiled{DeclaredOn: domain.MustDate("2006-05-20"), Period: p, DueOn: l.Ref.DueDate(p),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: 100, DueFen: due}}}
	}
	for _, id := range []string{"W", "M"} {
		apply(id, domain.EmployerRegistered{Profile: domain.Profile{Name: id, County: "360782", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate("2006-04-10")})
	}
	apply("W", domain.EmployerTransferred{On: domain.MustDate("2006-04-10"), From: "360782", To: "360702"})
	apply("M", domain.EmployerTransferred{On: domain.MustDate("2006-05-10"), From: "360782", To: "360702"})
	apply("W", decl("2006-02", 100))
	apply("W", decl("2006-04", 1000))
	apply("M", decl("2006-04", 10000))
	due := func(rules int) string {
		q := Query{Period: domain.MustPeriod("2006-04"), AsOf: domain.MustDate("2006-06-30"), rules: rules}
		return pensionIn702And782(l.Report(q), func(x *InsuranceFigures) domain.Fen { return x.CumulativeDueFen })
	}
	if got, want := due(0), "360702 1100, 360782 10000"; got != want {
		t.Errorf("cumulative due %s, want %s", got, want)
	}
	if got, want := due(rulesEntryCounty-1), "360702 0, 360782 11100"; got != want {
		t.Errorf("by views-15's rules, cumulative due %s, want %s", got, want)
	}
	// The dashboard's series counts the months so too.
	series := l.Series(domain.MustDate("2006-06-30"), domain.MustPeriod("2006-02"), domain.MustPeriod("2006-04"))
	var got []string
	for _, c := range series.Counties {
		if c.Code == "360702" || c.Code == "360782" {
			got = append(got, fmt.Sprintf("%s %v", c.Code, c.DueFen))
		}
	}
	if want := "360702 [1.00 0.00 10.00], 360782 [0.00 0.00 100.00]"; strings.Join(got, ", ") != want {
		t.Errorf("the series' dues %q, want %q", strings.Join(got, ", "), want)
	}
}

// pensionIn702And782 is a pension figure of 360702 and 360782 in r, as "360702 n, 360782 n" (fen).
func pensionIn702And782(r *Report, figure func(*InsuranceFigures) domain.Fen) string {
	var out []string
	for _, code := range []string{"360702", "360782"} {
		c, _ := r.County(code)
		out = append(out, fmt.Sprintf("%s %d", code, figure(c.Insurances[domain.Pension])))
	}
	return strings.Join(out, ", ")
}

// TestACompactedYearKeepsTheCountyEachRulesCountIn: once 2006 is closed and compacted, what was
// recovered of a payer corrected on its entry day counts in the corrected county, and by views-15's
// rules (a freeze they made, verified again) where they counted it before the compaction.
func TestACompactedYearKeepsTheCountyEachRulesCountIn(t *testing.T) {
	l, applyRef := payersLedger()
	held := heldEvents{}
	l.Source = held // a compaction folds employers again from their events
	apply := func(id string, body domain.Payload) {
		if id != "" {
			held[id] = append(held[id], domain.Event{Envelope: domain.Envelope{Seq: l.Seq + 1, N: uint64(len(held[id]) + 1), EmployerID: id}, Body: body})
		}
		applyRef(id, body)
	}
	apply("W", domain.EmployerRegistered{Profile: domain.Profile{Name: "W", County: "360782", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate("2006-04-10")})
	apply("W", domain.EmployerTransferred{On: domain.MustDate("2006-04-10"), From: "360782", To: "360702"})
	nov := domain.MustPeriod("2005-11")
	apply("W", domain.OpeningBalanceRecorded{AsOf: domain.MustDate("2006-04-10"), Lines: []domain.OpeningLine{{Period: nov, Insurance: domain.Pension, OutstandingFen: 1000, DueOn: l.Ref.DueDate(nov)}}})
	apply("W", domain.PaymentReceived{PaidOn: domain.MustDate("2006-05-01"), AmountFen: 2000, ReceiptNo: "W1"}) // the principal and its late fee: settled
	recovered := func(rules int) string {
		q := Query{Period: domain.MustPeriod("2007-06"), AsOf: domain.MustDate("2007-06-30"), rules: rules}
		return pensionIn702And782(l.Report(q), func(x *InsuranceFigures) domain.Fen { return x.RecoveredFen })
	}
	before := []string{recovered(0), recovered(rulesEntryCounty - 1)}
	apply("", domain.YearClosed{Year: 2006, FreezeID: "f2006"})
	if l.Boundary == 0 {
		t.Fatal("closing 2006 compacted nothing")
	}
	for i, want := range []string{"360702 1000, 360782 0", "360702 0, 360782 1000"} {
		rules := []string{"today's", "views-15's"}[i]
		if before[i] != want {
			t.Errorf("by %s rules before the close: recovered %s, want %s", rules, before[i], want)
		}
		if got := recovered([]int{0, rulesEntryCounty - 1}[i]); got != want {
			t.Errorf("by %s rules once 2006 is compacted: recovered %s, want %s", rules, got, want)
		}
	}
}
