// Over 500 lines for a reason: the command line's usage, data folders and shared helpers for the
// package's tests.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// buildBinary builds kuozheng into a temporary folder of t and returns the folder and the binary.
func buildBinary(t testing.TB) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "kuozheng")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir, bin
}

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExitTwoAndHelpExitsZero(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help lists the commands", []string{"--help"}, 0, "kuozheng serve"},
		{"version names the build", []string{"version"}, 0, "kuozheng (devel) "},
		{"--version is version", []string{"--version"}, 0, "kuozheng (devel) "},
		{"version takes no argument", []string{"version", "--json"}, 2, "version takes no argument"},
		{"version's help exits 0, as every command's", []string{"version", "--help"}, 0, "Usage: kuozheng version"},
		{"a command's help exits 0", []string{"serve", "--help"}, 0, "-listen"},
		{"help COMMAND is the command's help", []string{"help", "serve"}, 0, "-listen"},
		{"help of an unknown command is bad usage", []string{"help", "frobnicate"}, 2, "unknown command"},
		{"an unknown command is bad usage", []string{"frobnicate"}, 2, "unknown command"},
		{"an unknown flag is bad usage", []string{"serve", "--no-such-flag"}, 2, "no-such-flag"},
		{"a non-loopback listener needs tokens", []string{"serve", "--listen", "0.0.0.0:0", "--data", "unused"}, 2, "--tokens"},
		{"a bad --today is bad usage", []string{"serve", "--today", "2006-04-31", "--data", "unused"}, 2, "April 2006 has 30 days"},
		{"a --today before the ledger's first day is bad usage", []string{"serve", "--today", "1980-01-01", "--data", "unused"}, 2, "before"},
		{"a --listen port out of range is bad usage, as the others are", []string{"serve", "--listen", "127.0.0.1:99999", "--data", "unused"}, 2, `port "99999" is not a port`},
		{"--replicas above 1 needs a cluster", []string{"serve", "--replicas", "3", "--listen", "127.0.0.1:0", "--data", "unused"}, 2, "--replicas 3 needs --nats"},
		{"a demo has at least one payer", []string{"serve", "--demo", "--demo-employers", "0", "--data", "unused"}, 2, "--demo-employers 0: must be at least 1"},
		{"history needs an employer", []string{"history"}, 2, "EMPLOYER"},
		{"history takes no --replicas: it never changes the stream", []string{"history", "x", "--replicas", "3"}, 2, "replicas"},
		{"verify takes no --nats-listen: only serve's embedded server listens", []string{"verify", "--nats-listen", "127.0.0.1:4222"}, 2, "nats-listen"},
		{"a bad --memory-limit is bad usage", []string{"serve", "--memory-limit", "lots", "--data", "unused"}, 2, "--memory-limit"},
		{"a --memory-limit of a few bytes is bad usage", []string{"serve", "--memory-limit", "10", "--demo-employers", "0", "--data", "unused"}, 2, "at least 64MiB"},
		{"an unknown import kind is bad usage", []string{"import", "rows.csv", "--kind", "bogus", "--data", "unused"}, 2, "--kind \"bogus\": want one of registrations"},
		{"a flag given twice is bad usage, not the last one taken", []string{"freeze", "--valid-through", "2006-12-31", "--valid-through=2006-11-30", "--data", "unused"}, 2, "--valid-through is given more than once"},
		{"a flag without its value is bad usage, not the next option taken as it", []string{"freeze", "--valid-through", "--data", "unused"}, 2, "--valid-through needs a value, and the next word is the option --data"},
		{"--server without its scheme is bad usage", []string{"verify", "--server", "127.0.0.1:8080"}, 2, "want the server's URL with its scheme, such as http://127.0.0.1:8080"},
		{"--server without its scheme's name is bad usage", []string{"verify", "--server", "//127.0.0.1:8080"}, 2, "such as http://127.0.0.1:8080"},
		{"--server of another scheme is bad usage", []string{"verify", "--server", "ftp://h:21"}, 2, "want an http:// or https:// URL, not ftp://"},
		{"--server naming a host as its scheme is bad usage", []string{"freeze", "--valid-through", "2006-12-31", "--server", "localhost:8080"}, 2, "such as http://localhost:8080"},
		{"--server with --data is bad usage, not the folder taken", []string{"import", "rows.csv", "--server", "http://127.0.0.1:1", "--data", "unused"}, 2, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, output %q %q; want exit %d mentioning %q", code, out, errOut, tt.code, tt.want)
			}
			// Bad usage is one line on standard error, never the usage dumped on standard output.
			if code == 2 && (out != "" || strings.Count(strings.TrimSuffix(errOut, "\n"), "\n") != 0) {
				t.Fatalf("bad usage printed %q on standard output and %q on standard error; want one line on standard error", out, errOut)
			}
		})
	}
}

// Each province command's help is its own: its usage line and only the options it takes (another
// command's, such as freeze's --year on figures, it refuses).
func TestEachProvinceCommandsHelpListsItsOwnOptions(t *testing.T) {
	for _, c := range []struct {
		sub        string
		has, lacks []string
	}{
		{"figures", []string{"-cities", "-as-of", "-nats"}, []string{"-year", "-replicas", "-idempotency-key"}},
		{"freeze", []string{"-cities", "-year", "-replicas", "-idempotency-key"}, []string{"-as-of"}},
		{"freezes", []string{"-nats", "-province"}, []string{"-cities", "-year"}},
		{"show", []string{"show ID", "-nats"}, []string{"-cities", "-year"}},
		{"verify", []string{"verify ID", "-nats"}, []string{"-cities", "-year"}},
	} {
		code, out, errOut := runCmd("province", c.sub, "--help")
		if code != 0 || !strings.Contains(out, "Usage: kuozheng province "+c.sub) {
			t.Errorf("province %s --help: exit %d, %q %q; want exit 0 and its own usage line", c.sub, code, out, errOut)
			continue
		}
		for _, w := range c.has {
			if !strings.Contains(out, w) {
				t.Errorf("province %s --help does not mention %q:\n%s", c.sub, w, out)
			}
		}
		for _, w := range c.lacks {
			if strings.Contains(out, w+" ") {
				t.Errorf("province %s --help lists %s, which it does not take:\n%s", c.sub, w, out)
			}
		}
	}
}

// The commands' summary names restore's --ledger, the check README's restore example gives.
func TestUsageNamesRestoresLedgerCheck(t *testing.T) {
	_, out, _ := runCmd("--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  kuozheng restore ") && !strings.Contains(line, "--ledger") {
			t.Fatalf("the restore line omits --ledger: %q", line)
		}
	}
	if code, out, _ := runCmd("restore", "--help"); code != 0 || !strings.Contains(out, "-ledger") {
		t.Fatalf("restore --help: exit %d without -ledger: %q", code, out)
	}
}

func TestServeRefusesADataFolderHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	lock, err := eventstore.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	code, _, errOut := runCmd("serve", "--data", dir, "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "in use by another kuozheng process") {
		t.Fatalf("exit %d, stderr %q; want 1 and a clear message", code, errOut)
	}
	// A command on the folder of a running serve is told how to ask it instead.
	code, _, errOut = runCmd("verify", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "in use by another kuozheng process") || !strings.Contains(errOut, "--server") {
		t.Fatalf("verify on a held folder: exit %d, stderr %q; want 1, saying to use --server", code, errOut)
	}
}

// seed writes a few events into a data folder and returns an employer id.
func seed(t *testing.T, dir string) string {
	t.Helper()
	led, err := openLedger(context.Background(), storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer led.close()
	today := domain.MustDate("2006-12-31")
	res, err := led.store.Execute(context.Background(), eventstore.Request{Create: true, Today: today, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "赣州某厂", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := led.store.Execute(context.Background(), eventstore.Request{EmployerID: res.EmployerID, Today: today, Actor: "test",
			Command: &domain.RecordPayment{PaidOn: fmt.Sprintf("2006-06-%02d", 10+i), AmountFen: "100", ReceiptNo: fmt.Sprint("R", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	return res.EmployerID
}

// A command that reads, freezes or imports into a ledger, given a data folder that holds none (a
// typo), says so and exits 1, and makes no folder and no empty ledger it would then verify or
// freeze as if it were one, or fill with rows (an import starts one only with --new-ledger).
func TestCommandsOnADataFolderWithoutALedgerRefuseIt(t *testing.T) {
	for _, args := range [][]string{
		{"verify"},
		{"history", "no-such-employer"},
		{"freeze", "--valid-through", "2006-12-31"},
		{"documents", "notice", "--employer", "e", "--issued-on", "2006-12-01", "--deadline", "2006-12-31"},
		{"import", "../../scripts/samples/registrations.csv", "--today", "2006-12-31"},
		{"backup", filepath.Join(t.TempDir(), "backup")},
	} {
		dir := filepath.Join(t.TempDir(), "typo")
		code, out, errOut := runCmd(append(args, "--data", dir)...)
		if code != 1 || !strings.Contains(errOut, "holds no ledger") {
			t.Errorf("%v on a folder without a ledger: exit %d\n%s\n%s; want exit 1 saying it holds no ledger", args, code, out, errOut)
		}
		if args[0] == "import" && !strings.Contains(errOut, "give --new-ledger") {
			t.Errorf("an import into a folder without a ledger: %s; want it told how to start one there", errOut)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v on a folder without a ledger made it: %v", args, err)
		}
		// A folder that exists, but never was a ledger's (someone's documents), is left as it was:
		// no lock file in it.
		plain := t.TempDir()
		if code, _, errOut := runCmd(append(args, "--data", plain)...); code != 1 || !strings.Contains(errOut, "holds no ledger") {
			t.Errorf("%v on a plain folder: exit %d, %s; want 1 saying it holds no ledger", args, code, errOut)
		}
		if left, _ := os.ReadDir(plain); len(left) != 0 {
			t.Errorf("%v on a plain folder left %s in it", args, left[0].Name())
		}
		// A file is no folder: said so, as bad usage, not as an error opening a file inside it.
		file := filepath.Join(plain, "notes.txt")
		if err := os.WriteFile(file, []byte("notes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runCmd(append(args, "--data", file)...); code != 2 || !strings.Contains(errOut, "--data "+file+" is a file, not a data folder") {
			t.Errorf("%v on a file: exit %d, %s; want 2 saying it is a file", args, code, errOut)
		}
	}
	// A folder of another city's ledger, the city given: no ledger of it is made to verify.
	dir := t.TempDir()
	seed(t, dir)
	code, out, errOut := runCmd("verify", "--data", dir, "--ledger", "360200")
	if code == 0 || !strings.Contains(errOut, "holds the ledger of city 360700 and none of city 360200") {
		t.Errorf("verify --ledger 360200 on 360700's folder: exit %d\n%s\n%s; want it refused, naming both", code, out, errOut)
	}
	led := openData(t, dir)
	js, err := jetstream.New(led.nc)
	if err != nil {
		t.Fatal(err)
	}
	for name := range js.StreamNames(context.Background()).Name() {
		if strings.Contains(name, "360200") {
			t.Errorf("verify --ledger 360200 made stream %s", name)
		}
	}
}

// serve given a tokens file it cannot read says so before it opens the ledger (a replay of
// minutes on a large one), and makes nothing.
func TestServeRefusesAnUnreadableTokensFileBeforeOpeningTheLedger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	missing := filepath.Join(t.TempDir(), "no-tokens.json")
	code, _, errOut := runCmd("serve", "--data", dir, "--listen", "127.0.0.1:0", "--tokens", missing)
	if code != 1 || !strings.Contains(errOut, "--tokens") || !strings.Contains(errOut, missing) {
		t.Fatalf("exit %d, stderr %q; want 1 naming --tokens and the file", code, errOut)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the data folder was made before the tokens file was read: %v", err)
	}
}

// serve given an address in use (its API's or its scrapers'), or a malformed tokens file, says so
// before it opens the ledger (a replay, or the demo's writing, of minutes), and makes nothing.
func TestServeRefusesAnAddressInUseOrBadTokensBeforeOpeningTheLedger(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tokensFile := func(entry string) string {
		path := filepath.Join(t.TempDir(), "tokens.json")
		if err := os.WriteFile(path, []byte("["+entry+"]"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badTokens := tokensFile(`{"name":"a","token":"x","role":"cashier"}`)
	for _, c := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"the API's address in use", []string{"--listen", taken.Addr().String()}, []string{"--listen", taken.Addr().String()}},
		{"the scrapers' address in use", []string{"--listen", "127.0.0.1:0", "--metrics-listen", taken.Addr().String()}, []string{"--metrics-listen", taken.Addr().String()}},
		{"a tokens file with an unknown role", []string{"--listen", "127.0.0.1:0", "--tokens", badTokens}, []string{"--tokens", `unknown role "cashier"`}},
		// Counties and groups are the ledger's; a new folder's are the defaults its first start
		// writes, and are checked before they are written.
		{"a tokens file with an unknown county", []string{"--listen", "127.0.0.1:0", "--tokens", tokensFile(`{"name":"a","token":"x","role":"clerk","counties":["360799"]}`)},
			[]string{"--tokens", `unknown county "360799"`}},
		{"a tokens file with an unknown group", []string{"--listen", "127.0.0.1:0", "--tokens", tokensFile(`{"name":"a","token":"x","role":"supervisor","groups":[7]}`)},
			[]string{"--tokens", "unknown supervision group 7"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			code, _, errOut := runCmd(append([]string{"serve", "--demo", "--demo-employers", "20", "--data", dir}, c.args...)...)
			if code != 1 {
				t.Fatalf("exit %d, stderr %q; want 1", code, errOut)
			}
			for _, w := range c.wants {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not name %q", errOut, w)
				}
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the data folder was made before the failure was found: %v", err)
			}
		})
	}
}

// TestHistoryThroughASequenceCountsWithTheReferenceDataOfThen: history --through-seq on a data
// folder counts late fees by the rates the ledger knew at that sequence, as the API's history
// does, and gives the county; one recorded later changes the history of today only.
func TestHistoryThroughASequenceCountsWithTheReferenceDataOfThen(t *testing.T) {
	dir := t.TempDir()
	id := seed(t, dir)
	ctx := context.Background()
	led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	today := domain.MustDate("2006-12-31")
	res, err := led.store.Execute(ctx, eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.FileDeclaration{
		DeclaredOn: "2006-06-01", Period: "2006-05", Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}}})
	if err != nil {
		t.Fatal(err)
	}
	led.close()
	history := func(args ...string) projections.History {
		t.Helper()
		code, out, errOut := runCmd(append([]string{"history", id, "--data", dir, "--as-of", "2006-12-31", "--json"}, args...)...)
		var h projections.History
		if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
			t.Fatalf("history %v: exit %d, %s %s", args, code, out, errOut)
		}
		return h
	}
	before := history()
	if led, err = openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if _, err := led.store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.LateFeeRatesSet{Rate: domain.LateFeeRate{EffectiveFrom: domain.MustDate("2006-07-01"), DailyBP: 5}},
		On: domain.MustDate("2006-07-01"), Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	led.close()
	through, now := history("--through-seq", fmt.Sprint(res.Seq)), history()
	if before.County != "360702" || through.County != "360702" || through.Balances != before.Balances || now.Balances.LateFeeFen >= before.Balances.LateFeeFen {
		t.Fatalf("county %q, %q; late fee %d before the rate, %d through sequence %d after it, %d now; want the county and the same fee through %d, less now",
			before.County, through.County, before.Balances.LateFeeFen, through.Balances.LateFeeFen, res.Seq, now.Balances.LateFeeFen, res.Seq)
	}
}

func TestHistoryAndVerifyOnADataFolder(t *testing.T) {
	dir := t.TempDir()
	id := seed(t, dir)
	code, out, errOut := runCmd("history", id, "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("history exit %d: %s", code, errOut)
	}
	var h projections.History
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("history --json is not JSON: %v\n%s", err, out)
	}
	if len(h.Events) != 4 || !h.ChainOK || h.Events[0].Type != "employer.registered" {
		t.Fatalf("history: %d events, chain_ok %v", len(h.Events), h.ChainOK)
	}
	code, out, _ = runCmd("history", id, "--data", dir, "--as-of", "2006-06-10")
	if code != 0 || strings.Count(out, "payment.received") != 1 {
		t.Fatalf("history --as-of 2006-06-10 should list one payment:\n%s", out)
	}
	// The table ends with the totals as of the date, as the JSON's balances.
	var asOf projections.History
	if _, js, _ := runCmd("history", id, "--data", dir, "--as-of", "2006-06-10", "--json"); json.Unmarshal([]byte(js), &asOf) != nil {
		t.Fatalf("history --as-of --json: %s", js)
	}
	if b := asOf.Balances; !regexp.MustCompile(`(?m)^as of 2006-06-10\s+` + regexp.QuoteMeta(b.DueFen.String()) + `\s+` + regexp.QuoteMeta(b.PaidFen.String()) + `\s`).MatchString(out) {
		t.Fatalf("history --as-of 2006-06-10 prints no totals line with due %s and paid %s:\n%s", b.DueFen, b.PaidFen, out)
	}
	if code, _, errOut := runCmd("history", id, "--data", dir, "--through-seq", "0"); code != 2 || !strings.Contains(errOut, "sequences start at 1") {
		t.Fatalf("history --through-seq 0: exit %d, %q; want 2 saying so, as over HTTP", code, errOut)
	}
	// A voided event is marked with the void's sequence.
	void := func() uint64 {
		led, err := openLedger(context.Background(), storeFlags{data: dir}, newLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		defer led.close()
		res, err := led.store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: domain.MustDate("2006-12-31"), Actor: "admin:root",
			Command: &domain.VoidEvent{EventID: h.Events[1].ID, VoidedOn: "2006-07-01", Reason: "录错"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Seq
	}()
	if _, out, _ := runCmd("history", id, "--data", dir); !strings.Contains(out, fmt.Sprintf("payment.received (voided by %d)", void)) {
		t.Fatalf("history after a void of event %d does not mark it voided by %d:\n%s", h.Events[1].Seq, void, out)
	}
	if code, _, errOut := runCmd("history", id, "--data", dir, "--through-seq", "99999999"); code != 1 || !strings.Contains(errOut, "past the ledger's last sequence") {
		t.Fatalf("history --through-seq past the last sequence: exit %d, %q; want 1 saying so, as over HTTP", code, errOut)
	}
	if code, out, errOut := runCmd("verify", "--data", dir); code != 0 || !strings.Contains(out, "ok:") {
		t.Fatalf("verify of an intact ledger: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd("verify", id, "--data", dir); code != 0 || !strings.Contains(out, "ok: employer "+id) {
		t.Fatalf("verify of one employer: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd("verify", "0d9c4a1e-5b7f-4c2a-9e3d-6f8a1b2c3d4e", "--data", dir); code != 1 || !strings.Contains(errOut, "no employer 0d9c4a1e") {
		t.Fatalf("verify of an employer the ledger does not hold: exit %d, want 1 saying so\n%s%s", code, out, errOut)
	}
	// People read times on the ledger's clock, China's, and the table says which clock it is.
	if _, out, _ := runCmd("history", id, "--data", dir); !strings.Contains(out, " CST  ") {
		t.Fatalf("history's RECORDED column does not say its zone:\n%s", out)
	}

	// Forge a message straight into the stream.
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(eventstore.EmployerPrefix + id)
	m.Data = []byte(`{"id":"x","type":"payment.received","schema":1,"occurred_on":"2006-06-20","actor":"forger","n":5,"payload":{"paid_on":"2006-06-20","amount_fen":1,"receipt_no":"F"}}`)
	m.Header.Set(eventstore.HashHeader, "00")
	resp, err := emb.Conn.RequestMsg(m, 5*time.Second)
	if err != nil || bytes.Contains(resp.Data, []byte("error")) {
		t.Fatalf("forge: %v %s", err, resp.Data)
	}
	var ack struct{ Seq uint64 }
	_ = json.Unmarshal(resp.Data, &ack)
	emb.Close()

	code, out, _ = runCmd("verify", "--data", dir)
	want := fmt.Sprintf("BROKEN employer %s at sequence %d", id, ack.Seq)
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("verify of a tampered ledger: exit %d, want 1 and %q in\n%s", code, want, out)
	}
}

func TestDemoLoadsOnceAndVerifies(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd("demo", "--employers", "60", "--data", dir)
	if code != 0 || !strings.Contains(out, "demo ledger:") {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	first := out[strings.LastIndex(out, "sequence "):]
	code, out, errOut = runCmd("demo", "--employers", "60", "--data", dir)
	if code != 0 || out[strings.LastIndex(out, "sequence "):] != first {
		t.Fatalf("a second demo run appended: exit %d, %q then %q\n%s", code, first, out, errOut)
	}
	code, out, errOut = runCmd("verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "equal a rebuild") {
		t.Fatalf("verify of the demo ledger: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestFreezeOnADataFolderGivesTheSameDigestForTheSameSequenceAndDate(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCmd("demo", "--employers", "40", "--data", dir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	var first, second, later map[string]any
	code, out, errOut := runCmd("freeze", "--valid-through", "2006-11-30", "--data", dir)
	if code != 0 || json.Unmarshal([]byte(out), &first) != nil {
		t.Fatalf("freeze: exit %d\n%s\n%s", code, out, errOut)
	}
	s := fmt.Sprint(first["through_seq"])
	seed(t, dir) // more events after the freeze, dated 2006-06
	code, out, errOut = runCmd("freeze", "--valid-through", "2006-11-30", "--through-seq", s, "--data", dir)
	if code != 0 || json.Unmarshal([]byte(out), &second) != nil {
		t.Fatalf("second freeze: exit %d\n%s\n%s", code, out, errOut)
	}
	if first["digest"] != second["digest"] || first["chain_head"] != second["chain_head"] {
		t.Fatalf("the same (S, D) gave %v and %v", first["digest"], second["digest"])
	}
	code, out, _ = runCmd("freeze", "--valid-through", "2006-11-30", "--data", dir)
	if code != 0 || json.Unmarshal([]byte(out), &later) != nil || later["digest"] == first["digest"] {
		t.Fatalf("a freeze through the new events should differ: %v", later["digest"])
	}
	if code, _, errOut := runCmd("freeze", "--data", dir); code != 2 || !strings.Contains(errOut, "--valid-through") {
		t.Fatalf("freeze without a date: exit %d %s", code, errOut)
	}
}

// What the commands print suits a log file or a pipe as well as a terminal: usage errors on
// standard error, help on standard output, and no control characters for drawing progress.
func TestCommandOutputSuitsAPipe(t *testing.T) {
	if code, out, errOut := runCmd(); code != 2 || out != "" || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no command: exit %d, stdout %q, stderr %.40q; want 2 with the usage on stderr", code, out, errOut)
	}
	if code, out, _ := runCmd("bench", "report", "--help"); code != 0 || !strings.Contains(out, "Usage: kuozheng bench report FILE") {
		t.Errorf("bench report --help: exit %d, %q; want its usage", code, out)
	}
	if code, _, errOut := runCmd("bench", "report"); code != 2 || !strings.Contains(errOut, "FILEs") {
		t.Errorf("bench report without files: exit %d, %q; want a usage error", code, errOut)
	}
	dir := t.TempDir()
	if code, _, errOut := runCmd("demo", "--employers", "40", "--data", dir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	code, out, errOut := runCmd("freeze", "--valid-through", "2006-11-30", "--data", dir)
	if code != 0 || !strings.Contains(out, "digest") {
		t.Fatalf("freeze: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.ContainsAny(errOut, "\r\x1b") {
		t.Errorf("freeze's progress on a pipe holds control characters: %q", errOut)
	}
}

// Two cities' ledgers in one data folder (--ledger given) keep a store each: opening the second
// leaves the first's snapshot as it was, so the first's next start folds only what came after it;
// and the second, made new beside the first, is logged.
func TestEachCitysLedgerInAFolderKeepsItsOwnStore(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	snap := filepath.Join(dir, "store", "store.snap")
	before, err := os.ReadFile(snap)
	if err != nil {
		t.Fatalf("Ganzhou's ledger closed without its snapshot: %v", err)
	}
	var logged bytes.Buffer
	led, err := openLedger(context.Background(), storeFlags{data: dir, ledger: "360600", ledgerSet: true}, newLogger(&logged))
	if err != nil {
		t.Fatal(err)
	}
	led.close()
	if !strings.Contains(logged.String(), "making a new ledger beside another city's") || !strings.Contains(logged.String(), "360700") {
		t.Errorf("a new ledger made beside Ganzhou's went unsaid (a mistyped --ledger serves an empty ledger): %s", logged.String())
	}
	if after, err := os.ReadFile(snap); err != nil || !bytes.Equal(after, before) {
		t.Errorf("opening 360600's ledger in Ganzhou's folder changed Ganzhou's snapshot (%d bytes before, %d after, %v)", len(before), len(after), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "store-360600", "store.snap")); err != nil {
		t.Errorf("360600's ledger kept no snapshot of its own: %v", err)
	}
}

// Another city's ledger alone in a data folder, its store kept in store/ by a build before each
// city had its own folder, has it moved to its own at the next open, not left behind while the
// whole stream is folded again.
func TestAnOlderStoreFolderOfAnotherCityIsAdopted(t *testing.T) {
	dir := t.TempDir()
	led, err := openLedger(context.Background(), storeFlags{data: dir, ledger: "360600", ledgerSet: true}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	led.close()
	own := filepath.Join(dir, "store-360600")
	if err := os.Rename(own, filepath.Join(dir, "store")); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	if led, err = openLedger(context.Background(), storeFlags{data: dir, ledger: "360600", ledgerSet: true}, newLogger(&logged)); err != nil {
		t.Fatal(err)
	}
	led.close()
	if _, err := os.Stat(filepath.Join(dir, "store")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("store/ is still there after the open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(own, "store.snap")); err != nil || !strings.Contains(logged.String(), "moved the store's folder") {
		t.Errorf("the store's folder was not adopted (%v):\n%s", err, logged.String())
	}
	if strings.Contains(logged.String(), "ignored") {
		t.Errorf("the adopted snapshot was not used:\n%s", logged.String())
	}
}

// A command asking a server hints that none may be running only when no server took the
// connection: one that took it and broke off is there, and the hint would mislead.
func TestARequestHintsAtServeOnlyWhenNoServerTookIt(t *testing.T) {
	code, _, errOut := runCmd("verify", "--server", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "is 'kuozheng serve' running?") {
		t.Errorf("no server: exit %d, %s; want 1 and the hint", code, errOut)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Read(make([]byte, 4096))
			conn.Close()
		}
	}()
	code, _, errOut = runCmd("verify", "--server", "http://"+ln.Addr().String())
	if code != 1 || !strings.Contains(errOut, "EOF") || strings.Contains(errOut, "running?") {
		t.Errorf("a server that broke off: exit %d, %s; want 1 and the EOF, without the hint", code, errOut)
	}
}
