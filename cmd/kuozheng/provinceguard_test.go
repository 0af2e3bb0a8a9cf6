package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startNATS runs one nats-server with JetStream in a temporary folder, listening on loopback.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(time.Minute) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// provinceOfTwo runs the ledgers of 萍乡 and 新余 on one server, each with its December freeze.
func provinceOfTwo(t *testing.T) (url string, js jetstream.JetStream, cities []*cityLedger) {
	t.Helper()
	s := startNATS(t)
	nc := connect(t, s.ClientURL())
	for _, code := range []string{"360300", "360500"} {
		c := startCity(t, nc, code, 20, "")
		if _, _, err := projections.Freeze(context.Background(), c.store, projections.FreezeRequest{ValidThrough: domain.MustDate("2006-12-31"),
			Today: demo.Today, FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}}); err != nil {
			t.Fatal(err)
		}
		cities = append(cities, c)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return s.ClientURL(), js, cities
}

// publishPast appends data on subject as someone writing to the stream past kuozheng would: a
// well-formed message with the hash its bytes give.
func publishPast(t *testing.T, js jetstream.JetStream, subject string, data []byte) {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(eventstore.HashHeader, domain.ChainHash("", data))
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// forged is the event stored on subject with its body changed by edit, its figures' digest left.
func forged(t *testing.T, js jetstream.JetStream, stream, subject string, edit func(domain.Payload) domain.Payload) []byte {
	t.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := domain.Decode(msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	data, err := domain.Encode(ev.Envelope, edit(ev.Body))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A province freeze is what the province stored from what the cities froze: a second message
// written on a freeze's subject past the ledger, a freeze whose figures are not its digest's, or
// an id that is a wildcard, is never read as a freeze, and verify says so.
func TestAProvinceFreezeReadsOnlyWhatTheLedgerStored(t *testing.T) {
	url, js, cities := provinceOfTwo(t)
	ctx := context.Background()
	order := provinceOrder{province: domain.Province, codes: []string{"360300", "360500"}, year: 2006, actor: "assessor:test"}
	f, _, err := storeProvinceFreeze(ctx, js, order)
	if err != nil {
		t.Fatal(err)
	}
	province := func(args ...string) (int, string) {
		code, out, errs := runCmd(append(append([]string{"province"}, args...), "--nats", url)...)
		return code, out + errs
	}
	if code, out := province("verify", f.ID); code != 0 || !strings.Contains(out, "reproduced from 2 cities") {
		t.Fatalf("verify of the stored freeze: exit %d, %s", code, out)
	}
	for _, id := range []string{">", "*", "a.b"} {
		if code, out := province("show", id); code != 1 || !strings.Contains(out, "a freeze's id is a UUID") {
			t.Fatalf("show %q: exit %d, %s; want no freeze", id, code, out)
		}
	}

	// The province's figures rewritten in a second message on the freeze's subject.
	subject := "province." + domain.Province + ".freeze." + f.ID
	publishPast(t, js, subject, forged(t, js, eventstore.ProvinceStream(domain.Province), subject, func(p domain.Payload) domain.Payload {
		pf := p.(domain.ProvinceFreezeMade)
		pf.Figures = []byte(strings.Replace(string(pf.Figures), `"employers":`, `"employers":9`, 1))
		sum := sha256.Sum256(pf.Figures)
		pf.Digest = hex.EncodeToString(sum[:]) // figures and digest agree: only the second message tells
		return pf
	}))
	for _, cmd := range [][]string{{"verify", f.ID}, {"show", f.ID}, {"freezes"}} {
		if code, out := province(cmd...); code != 1 || !strings.Contains(out, "damaged") {
			t.Fatalf("province %v after a second message on %s: exit %d, %s; want it refused as damage", cmd, subject, code, out)
		}
	}

	// A city freeze whose figures are not its digest's, written as the city's latest of 2006.
	city := cities[0]
	last := city.store.Freezes()[0]
	citySubject := city.store.Subjects().Freeze + last.ID
	bad := forged(t, js, city.store.Stream(), citySubject, func(p domain.Payload) domain.Payload {
		cf := p.(domain.FreezeMade)
		cf.ID = uuid.Must(uuid.NewV7()).String()
		cf.Figures = []byte(strings.Replace(string(cf.Figures), `"employers":`, `"employers":9`, 1))
		return cf
	})
	var ev domain.Event
	if ev, err = domain.Decode(bad); err != nil {
		t.Fatal(err)
	}
	publishPast(t, js, city.store.Subjects().Freeze+ev.Body.(domain.FreezeMade).ID, bad)
	if _, _, err := storeProvinceFreeze(ctx, js, order); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "360300") {
		t.Fatalf("a province freeze from a city freeze whose figures are not its digest's: %v", err)
	}
	// The same city freeze rewritten in a second message on its subject.
	publishPast(t, js, citySubject, forged(t, js, city.store.Stream(), citySubject, func(p domain.Payload) domain.Payload {
		cf := p.(domain.FreezeMade)
		cf.Figures = []byte(strings.Replace(string(cf.Figures), `"employers":`, `"employers":9`, 1))
		sum := sha256.Sum256(cf.Figures)
		cf.Digest = hex.EncodeToString(sum[:])
		return cf
	}))
	cl, err := eventstore.OpenCityLedger(ctx, js, "360300")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Freeze(ctx, last.ID); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a city freeze with a second message on its subject: %v", err)
	}
}

// An idempotency key stores one province freeze: a retry prints the one it stored, also once
// the cities have frozen again, and the same key for other cities or another year is refused.
func TestAProvinceFreezeKeyStoresOneFreeze(t *testing.T) {
	_, js, cities := provinceOfTwo(t)
	ctx := context.Background()
	order := provinceOrder{province: domain.Province, codes: []string{"360300", "360500"}, year: 2006, actor: "assessor:test", key: "k1"}
	first, seq, err := storeProvinceFreeze(ctx, js, order)
	if err != nil || seq == 0 {
		t.Fatalf("first freeze: seq %d, %v", seq, err)
	}
	if _, _, err := projections.Freeze(ctx, cities[0].store, projections.FreezeRequest{ValidThrough: domain.MustDate("2006-12-31"),
		Today: demo.Today, FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}}); err != nil {
		t.Fatal(err)
	}
	made, err := freezeProvince(ctx, js, order.province, order.codes, order.year)
	if err != nil {
		t.Fatal(err)
	}
	// Two retries at once: the stream's duplicate window (2 minutes; this is a moment after the
	// first) answers the second with the first.
	stream, _, err := eventstore.FindProvince(ctx, js, domain.Province)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := stream.AppendFreeze(ctx, made, "assessor:test", "k1"); err != nil || got.ID != first.ID {
		t.Fatalf("an append under the key within the window stored %s (%v); want %s", got.ID, err, first.ID)
	}
	// A retry answers what the key stored without making the freeze again: a city's latest freeze
	// since damaged does not stop it.
	city := cities[1]
	latest := city.store.Freezes()[0]
	id := uuid.Must(uuid.NewV7()).String()
	publishPast(t, js, city.store.Subjects().Freeze+id, forged(t, js, city.store.Stream(),
		city.store.Subjects().Freeze+latest.ID, func(p domain.Payload) domain.Payload {
			cf := p.(domain.FreezeMade)
			cf.ID, cf.Digest = id, strings.Repeat("0", 64)
			return cf
		}))
	if _, err := freezeProvince(ctx, js, order.province, order.codes, order.year); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a freeze made anew after 360500's latest freeze is damaged: %v", err)
	}
	again, seq, err := storeProvinceFreeze(ctx, js, order)
	if err != nil || seq != 0 || again.ID != first.ID || again.Digest != first.Digest {
		t.Fatalf("retry: freeze %s at seq %d, %v; want %s stored before", again.ID, seq, err, first.ID)
	}
	p, _, err := eventstore.FindProvince(ctx, js, domain.Province)
	if err != nil {
		t.Fatal(err)
	}
	if list, err := p.Freezes(ctx); err != nil || len(list) != 1 {
		t.Fatalf("the province holds %d freezes (%v); want 1", len(list), err)
	}
	// The same cities in another order are the same order.
	reordered := order
	reordered.codes = []string{"360500", "360300"}
	if again, seq, err := storeProvinceFreeze(ctx, js, reordered); err != nil || seq != 0 || again.ID != first.ID {
		t.Fatalf("the key with the cities reordered: freeze %s at seq %d, %v; want %s stored before", again.ID, seq, err, first.ID)
	}
	for name, o := range map[string]provinceOrder{
		"other cities": {province: domain.Province, codes: []string{"360300"}, year: 2006, key: "k1"},
		"another year": {province: domain.Province, codes: order.codes, year: 2007, key: "k1"},
	} {
		var e *domain.Error
		if _, _, err := storeProvinceFreeze(ctx, js, o); !errors.As(err, &e) || e.Kind != domain.KindConflict || !strings.Contains(err.Error(), first.ID) {
			t.Fatalf("the key for %s: %v; want a conflict naming %s", name, err, first.ID)
		}
	}
}

// Reading the province's freezes makes no stream, nor does a freeze that fails; the cities' live
// figures are refused as of a date the ledger does not answer for.
func TestProvinceCommandsWriteNothingTheyDoNotStore(t *testing.T) {
	s := startNATS(t)
	nc := connect(t, s.ClientURL())
	startCity(t, nc, "360500", 10, "")
	province := func(args ...string) (int, string, string) {
		return runCmd(append(append([]string{"province"}, args...), "--nats", s.ClientURL())...)
	}
	if code, out, errs := province("freezes"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("freezes with none: exit %d, %q %q", code, out, errs)
	}
	if code, _, errs := province("show", uuid.NewString()); code != 1 || !strings.Contains(errs, "no freeze") {
		t.Fatalf("show with none: exit %d, %q", code, errs)
	}
	if code, _, errs := province("freeze", "--cities", "360500", "--year", "2006"); code != 1 || !strings.Contains(errs, "no freeze valid through 2006-12-31") {
		t.Fatalf("a freeze of a city that has none: exit %d, %q", code, errs)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for name := range js.StreamNames(context.Background()).Name() {
		if strings.HasPrefix(name, "PROVINCE_") {
			t.Fatalf("stream %s made by commands that stored nothing", name)
		}
	}
	for _, asOf := range []string{"0001-01-01", "1980-01-01"} {
		msg, err := nc.Request(figuresSubject("360500"), []byte(`{"as_of":"`+asOf+`"}`), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var a figuresAnswer
		if err := json.Unmarshal(msg.Data, &a); err != nil || a.Figures != nil || !strings.Contains(a.Error, "before 1990") {
			t.Fatalf("figures as of %s: %s (%v); want an error saying it is before 1990", asOf, msg.Data, err)
		}
	}
}

func TestProvinceCommandsRefuseBadUsage(t *testing.T) {
	nats := []string{"--nats", "nats://127.0.0.1:1"} // never reached: usage is checked first
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a city given twice", []string{"figures", "--cities", "360500,360500"}, "city 360500 is given twice"},
		{"a year before the ledger's", []string{"freeze", "--cities", "360500", "--year", "1989"}, "--year 1989: want a year from 1990 to 2199"},
		{"a year past the ledger's", []string{"freeze", "--cities", "360500", "--year", "10000"}, "--year 10000: want a year from 1990 to 2199"},
		{"figures take no year", []string{"figures", "--cities", "360500", "--year", "2006"}, "province figures does not take --year"},
		{"freeze takes no as-of", []string{"freeze", "--cities", "360500", "--year", "2006", "--as-of", "2006-12-31"}, "does not take --as-of"},
		{"figures take no argument", []string{"figures", "--cities", "360500", "extra"}, `takes no argument, and was given "extra"`},
		{"show needs one id", []string{"show"}, "give the freeze's id"},
		{"a province code is six digits ending in 0000", []string{"figures", "--cities", "360500", "--province", "36000"}, `"36000" is not a province's code`},
		{"a city of another province", []string{"freeze", "--cities", "360500", "--year", "2006", "--province", "440000"}, "city 360500 is not in province 440000"},
		{"a date before the ledger's", []string{"figures", "--cities", "360500", "--as-of", "1980-01-01"}, "before 1990"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(append(append([]string{"province"}, tt.args...), nats...)...)
			if code != 2 || !strings.Contains(errs, tt.want) || out != "" {
				t.Fatalf("exit %d, %q %q; want exit 2 saying %q", code, out, errs, tt.want)
			}
		})
	}
}

// A province freeze of a year takes from each city the freeze the city closed the year after,
// not its latest; for a year the city never closed, its freeze through the latest sequence, not
// a historical cut made later; and it refuses a city that reopened the year and has not closed it.
func TestAProvinceFreezeTakesTheYearEndACityClosed(t *testing.T) {
	_, js, cities := provinceOfTwo(t)
	ctx := context.Background()
	end := domain.MustDate("2006-12-31")
	freeze := func(c *cityLedger, through uint64) eventstore.FreezeRef {
		t.Helper()
		f, _, err := projections.Freeze(ctx, c.store, projections.FreezeRequest{ValidThrough: end, Today: demo.Today, ThroughSeq: through,
			FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ref := func(c *cityLedger, p domain.Payload) {
		t.Helper()
		if _, err := c.store.ExecuteRef(ctx, eventstore.RefRequest{Payload: p, On: domain.MustDate("2007-01-05"), Actor: "admin:test"}); err != nil {
			t.Fatal(err)
		}
	}
	// 萍乡 closes 2006 after its first December freeze, then makes another.
	pingxiang, xinyu := cities[0], cities[1]
	closedOn := pingxiang.store.Freezes()[0]
	ref(pingxiang, domain.YearClosed{Year: 2006, FreezeID: closedOn.ID, Digest: closedOn.Digest})
	freeze(pingxiang, 0)
	// 新余 never closes 2006; its assessors cut a freeze through an earlier sequence after it.
	yearEnd := xinyu.store.Freezes()[0]
	cut := freeze(xinyu, yearEnd.ThroughSeq-5)
	f, err := freezeProvince(ctx, js, domain.Province, []string{"360300", "360500"}, 2006)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Cities[0].FreezeID; got != closedOn.ID {
		t.Errorf("萍乡's freeze in the province's: %s; want %s, the one it closed 2006 after", got, closedOn.ID)
	}
	if got := f.Cities[1].FreezeID; got != yearEnd.ID || got == cut.ID {
		t.Errorf("新余's freeze in the province's: %s; want %s, through the latest sequence (not the cut %s)", got, yearEnd.ID, cut.ID)
	}
	ref(pingxiang, domain.YearReopened{Year: 2006, Reason: "补录缴费"})
	if _, err := freezeProvince(ctx, js, domain.Province, []string{"360300", "360500"}, 2006); err == nil || !strings.Contains(err.Error(), "city 360300 reopened 2006 (补录缴费)") {
		t.Errorf("a province freeze of 2006 with 萍乡's 2006 reopened: %v; want a refusal saying so", err)
	}
}

// A year a city closed only with a later year's closing is final from that closing: the province
// refuses its freezes made before it, naming the freeze and the closing, and takes one made since.
func TestAProvinceFreezeOfAYearClosedWithALaterOneTakesAFreezeSinceTheClosing(t *testing.T) {
	_, js, cities := provinceOfTwo(t)
	ctx := context.Background()
	freeze := func(c *cityLedger, end string, today string) eventstore.FreezeRef {
		t.Helper()
		f, _, err := projections.Freeze(ctx, c.store, projections.FreezeRequest{ValidThrough: domain.MustDate(end), Today: domain.MustDate(today),
			FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// 新余 never closes 2006 of its own: it closes 2007, which closes the books before it.
	xinyu := cities[1]
	before := xinyu.store.Freezes()[0]
	of2007 := freeze(xinyu, "2007-12-31", "2008-01-05")
	if _, err := xinyu.store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.YearClosed{Year: 2007, FreezeID: of2007.ID, Digest: of2007.Digest},
		On: domain.MustDate("2008-01-05"), Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	codes := []string{"360300", "360500"}
	_, err := freezeProvince(ctx, js, domain.Province, codes, 2006)
	for _, want := range []string{"city 360500 closed 2006 with 2007 (after freeze " + of2007.ID + ")", before.ID, "freezes 2006-12-31 again"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a province freeze of 2006 with 新余's 2006 freeze made before 2007 closed it: %v; want a refusal saying %q", err, want)
		}
	}
	since := freeze(xinyu, "2006-12-31", "2008-01-05")
	f, err := freezeProvince(ctx, js, domain.Province, codes, 2006)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Cities[1].FreezeID; got != since.ID {
		t.Errorf("新余's freeze in the province's: %s; want %s, made since 2007 closed 2006", got, since.ID)
	}
	// 2007 reopened and closed again: 2006 took writes between, and is final from the new closing.
	ref := func(p domain.Payload) {
		t.Helper()
		if _, err := xinyu.store.ExecuteRef(ctx, eventstore.RefRequest{Payload: p, On: domain.MustDate("2008-01-06"), Actor: "admin:test"}); err != nil {
			t.Fatal(err)
		}
	}
	ref(domain.YearReopened{Year: 2007, Reason: "补录缴费"})
	again := freeze(xinyu, "2007-12-31", "2008-01-06")
	ref(domain.YearClosed{Year: 2007, FreezeID: again.ID, Digest: again.Digest})
	if _, err := freezeProvince(ctx, js, domain.Province, codes, 2006); err == nil || !strings.Contains(err.Error(), since.ID) {
		t.Errorf("a province freeze of 2006 with 新余's 2006 freeze made before 2007 was closed again: %v; want a refusal naming %s", err, since.ID)
	}
}

// The province's live figures without --as-of are of the cities' business date; cities whose
// dates differ are refused, naming each one's and asking for --as-of.
func TestProvinceFiguresOfCitiesWhoseDatesDifferAskForADate(t *testing.T) {
	url, _, cities := provinceOfTwo(t)
	nc := connect(t, url)
	if _, err := provinceFigures(nc, domain.Province, []string{"360300", "360500"}, 0); err != nil {
		t.Fatalf("figures of two cities of one date: %v", err)
	}
	c := cities[1]
	c.stopFigures()
	stop, err := answerFigures(nc, c.store, c.runner, func() domain.Date { return demo.Today.AddDays(15) }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	_, err = provinceFigures(nc, domain.Province, []string{"360300", "360500"}, 0)
	if err == nil || !strings.Contains(err.Error(), "360500 "+demo.Today.AddDays(15).String()) || !strings.Contains(err.Error(), "give --as-of") {
		t.Errorf("figures of cities whose dates differ: %v; want a refusal naming each date and asking for --as-of", err)
	}
	if p, err := provinceFigures(nc, domain.Province, []string{"360300", "360500"}, demo.Today); err != nil || p.AsOf != demo.Today {
		t.Errorf("figures of them as of %s: %v", demo.Today, err)
	}
}

// A city's freeze of a year it has not closed is checked against its live figures of the year's
// last day: a registration dated in the year and recorded after the freeze makes it stale, and the
// province's freeze is refused naming it and what moved, until the city freezes again; a city
// whose figures cannot be read is refused too, not summed unchecked. (A closing refuses as much.)
func TestAProvinceFreezeRefusesAStaleFreezeOfAnOpenYear(t *testing.T) {
	_, js, cities := provinceOfTwo(t)
	ctx := context.Background()
	codes := []string{"360300", "360500"}
	xinyu := cities[1]
	stale := xinyu.store.Freezes()[0]
	_, err := xinyu.store.Execute(ctx, eventstore.Request{Create: true, Today: demo.Today, Actor: "clerk:test", Command: &domain.RegisterEmployer{
		Name: "新余某厂", County: "360502", OrgCode: domain.NumberedOrgCode(50200001), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-12-20"}})
	if err != nil {
		t.Fatal(err)
	}
	// Asked at once: the city's figures are asked to reflect its stream as it is (min_seq), so a
	// replica whose views have not folded the registration yet waits for it.
	_, err = freezeProvince(ctx, js, domain.Province, codes, 2006)
	for _, want := range []string{"city 360500: its freeze " + stale.ID, "is stale", "employers", "freezes 2006-12-31 again"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a province freeze of 2006 after a registration dated 2006 landed past 新余's freeze: %v; want a refusal saying %q", err, want)
		}
	}
	again, _, err := projections.Freeze(ctx, xinyu.store, projections.FreezeRequest{ValidThrough: domain.MustDate("2006-12-31"), Today: demo.Today,
		FreezeOrder: eventstore.FreezeOrder{Actor: "assessor:test"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := freezeProvince(ctx, js, domain.Province, codes, 2006)
	if err != nil || f.Cities[1].FreezeID != again.ID {
		t.Fatalf("a province freeze after 新余 froze again: %v (%+v); want its new freeze %s", err, f.Cities, again.ID)
	}
	xinyu.stopFigures()
	if _, err := freezeProvince(ctx, js, domain.Province, codes, 2006); err == nil || !strings.Contains(err.Error(), "could not be read") || !strings.Contains(err.Error(), "no serve replica answers") {
		t.Errorf("a province freeze of 2006 with 新余 not answering: %v; want a refusal saying its freeze could not be checked", err)
	}
}
