// Over 500 lines for a reason: backup and restore are tested end to end over the same demo
// folders.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestBackupAndRestoreUsageErrorsNameTheProblem(t *testing.T) {
	bk := t.TempDir()
	if err := os.WriteFile(filepath.Join(bk, manifestFile), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backup"}, "exactly one DIR"},
		{[]string{"backup", "a", "b"}, "exactly one DIR"},
		{[]string{"backup", "x", "--data", "d", "--nats", "nats://127.0.0.1:1"}, "--data or --nats, not both"},
		{[]string{"backup", "x", "--ledger", "123"}, "--ledger"},
		{[]string{"restore"}, "exactly one DIR"},
		{[]string{"restore", "x", "--replicas", "3"}, "--replicas applies to --nats only"},
		{[]string{"restore", "x", "--nats", "nats://127.0.0.1:1", "--replicas", "-1"}, "want 1 or more"},
		{[]string{"restore", bk, "--data", bk}, "holds a backup's manifest.json"},
		{[]string{"restore", bk, "--data", filepath.Join(bk, manifestFile)}, "is a file, not a data folder"},
	} {
		code, out, errOut := runCmd(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, %q%q; want 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
	for _, cmd := range []string{"backup", "restore"} {
		if code, out, _ := runCmd(cmd, "--help"); code != 0 || !strings.Contains(out, "Usage: kuozheng "+cmd+" DIR") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

// gatedWriter collects a command's stderr and, the first time a line containing mark is
// written, runs hold on the writing goroutine before letting the command go on.
type gatedWriter struct {
	mark string
	hold func()
	once sync.Once
	mu   sync.Mutex
	b    bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.b.Write(p)
	hit := strings.Contains(g.b.String(), g.mark)
	g.mu.Unlock()
	if hit {
		g.once.Do(g.hold)
	}
	return len(p), nil
}

func (g *gatedWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.String()
}

// payments appends payments to random employers from several writers until stopped, and keeps
// every acknowledged result in the order acknowledged.
type payments struct {
	mu    sync.Mutex
	acked []eventstore.Result
	err   error
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startPayments(st *eventstore.Store, writers int) *payments {
	p := &payments{stop: make(chan struct{})}
	ids := st.EmployerIDs()
	for w := range writers {
		p.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-p.stop:
					return
				default:
				}
				res, err := st.Execute(context.Background(), eventstore.Request{EmployerID: ids[(i*writers+w)%len(ids)], Today: demo.Today, Actor: "clerk:backup-test",
					Command: &domain.RecordPayment{PaidOn: "2006-12-20", AmountFen: "100", ReceiptNo: fmt.Sprintf("BK-%d-%d", w, i)}})
				p.mu.Lock()
				if err != nil && p.err == nil {
					p.err = err
				} else if err == nil {
					p.acked = append(p.acked, res)
				}
				p.mu.Unlock()
			}
		})
	}
	return p
}

func (p *payments) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// waitMore waits until n more writes than now are acknowledged.
func (p *payments) waitMore(t *testing.T, n int) {
	t.Helper()
	want := p.count() + n
	storetest.CheckFor(t, 60*time.Second, 5*time.Millisecond, func() error {
		if got := p.count(); got < want {
			return fmt.Errorf("%d writes acknowledged, waiting for %d", got, want)
		}
		return nil
	})
}

func (p *payments) halt(t *testing.T) []eventstore.Result {
	t.Helper()
	close(p.stop)
	p.wg.Wait()
	if p.err != nil {
		t.Fatalf("a writer failed: %v", p.err)
	}
	return p.acked
}

func TestABackupUnderWriteLoadRestoresEveryAcknowledgedEventWithItsChainsAndFreezes(t *testing.T) {
	ctx := context.Background()
	// A running ledger that NATS clients can reach, as serve --nats-listen makes it.
	const user, password = "backup", "backup-password"
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: user, Password: password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	st, err := eventstore.Open(ctx, emb.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	storetest.AppendDemo(t, st, 200)
	freeze, _, err := projections.Freeze(ctx, st, projections.FreezeRequest{ValidThrough: domain.MustDate("2006-11-30"), Today: demo.Today,
		FreezeOrder: eventstore.FreezeOrder{Actor: "admin:test"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(emb.Server.ClientURL())
	u.User = url.UserPassword(user, password)

	load := startPayments(st, 4)
	load.waitMore(t, 50)
	before := load.count() // acknowledged before the backup began
	bk := filepath.Join(t.TempDir(), "backup")
	// Once the server has taken the snapshot, more writes are acknowledged while it is sent.
	stderr := &gatedWriter{mark: "the snapshot holds", hold: func() { load.waitMore(t, 30) }}
	var stdout bytes.Buffer
	if code := run([]string{"backup", bk, "--nats", u.String()}, &stdout, stderr); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout.String(), stderr)
	}
	acked := load.halt(t)
	m, err := checkBackup(bk, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	bs := m.Streams[0]
	var during int
	for i, r := range acked {
		if i < before && r.Seq > bs.LastSeq {
			t.Fatalf("write %d was acknowledged at sequence %d before the backup began, but the backup ends at %d", i, r.Seq, bs.LastSeq)
		}
		if r.Seq > bs.LastSeq {
			during++
		}
	}
	if during == 0 || bs.Freezes != 1 || strings.Contains(m.Source, password) {
		t.Fatalf("%d writes after the snapshot's point, %d freezes, source %q; want writes during the backup, 1 freeze and no password", during, bs.Freezes, m.Source)
	}
	t.Logf("%d writes acknowledged before the backup, %d after its point (sequence %d)", before, during, bs.LastSeq)

	dst := filepath.Join(t.TempDir(), "restored")
	code, out, errOut := runCmd("restore", bk, "--data", dst)
	if code != 0 || !strings.Contains(out, "ok: every hash chain") || !strings.Contains(out, "ok: 1 freezes reproduced") {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, freeze.Digest) {
		t.Fatalf("restore did not name the digest it reproduced, %s:\n%s", freeze.Digest, errOut)
	}

	led := openData(t, dst)
	if in, err := led.store.Verify(ctx); err != nil || !in.OK || in.LastSeq != bs.LastSeq {
		t.Fatalf("the restored ledger: %+v, %v; want every chain whole through %d", in, err, bs.LastSeq)
	}
	if fs := led.store.Freezes(); len(fs) != 1 || fs[0].Digest != freeze.Digest {
		t.Fatalf("restored freezes %+v, want the one made before the backup", fs)
	}
	from, _ := st.JetStream().Stream(ctx, st.Stream())
	to, _ := led.store.JetStream().Stream(ctx, led.store.Stream())
	same := func(seq uint64) error {
		a, err := from.GetMsg(ctx, seq)
		if err != nil {
			return err
		}
		b, err := to.GetMsg(ctx, seq)
		if err != nil {
			return fmt.Errorf("restored message %d: %w", seq, err)
		}
		if a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || a.Header.Get(eventstore.HashHeader) != b.Header.Get(eventstore.HashHeader) {
			return fmt.Errorf("message %d differs after the restore", seq)
		}
		return nil
	}
	for _, r := range acked[:before] {
		if err := same(r.Seq); err != nil {
			t.Fatalf("a write acknowledged before the backup: %v", err)
		}
	}
	for seq := uint64(1); seq <= bs.LastSeq; seq++ {
		if err := same(seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := to.GetMsg(ctx, bs.LastSeq+1); err == nil {
		t.Fatalf("the restored stream goes on past the backup's sequence %d", bs.LastSeq)
	}

	// A restore onto the NATS of a serve still running is refused, and deletes nothing: the serve
	// would go on answering from the ledger replaced.
	runner := projections.NewRunner(st, projections.RunnerConfig{NoSnapshots: true})
	rctx, cancel := context.WithCancel(ctx)
	t.Cleanup(func() { cancel(); runner.Wait() })
	if err := runner.Start(rctx); err != nil {
		t.Fatal(err)
	}
	stop, err := answerFigures(emb.Conn, st, runner, func() domain.Date { return demo.Today }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	held := st.Applied()
	code, out, errOut = runCmd("restore", bk, "--nats", u.String(), "--replace")
	if code != 1 || !strings.Contains(errOut, "a kuozheng serve of ledger 360700 is running on this NATS") || !strings.Contains(errOut, "nothing was restored") {
		t.Fatalf("restore --replace onto a served ledger's NATS: exit %d\n%s\n%s; want it refused, naming the serve", code, out, errOut)
	}
	if info, err := from.Info(ctx); err != nil || info.State.LastSeq < held {
		t.Fatalf("after the refused restore the served stream: %+v, %v; want it as it was, through %d at least", info, err, held)
	}
}

// demoFolder writes a demo ledger of n payers into a new data folder and returns the folder.
func demoFolder(t *testing.T, n int) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runCmd("demo", "--employers", fmt.Sprint(n), "--data", data); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	return data
}

// frozenDemo writes a demo ledger of n payers into a data folder, with a freeze, and returns the
// folder.
func frozenDemo(t *testing.T, n int) string {
	t.Helper()
	data := demoFolder(t, n)
	if code, _, errOut := runCmd("freeze", "--valid-through", "2006-11-30", "--today", "2006-12-31", "--data", data); code != 0 {
		t.Fatalf("freeze: %s", errOut)
	}
	return data
}

// backUp backs up a data folder and returns the backup's folder.
func backUp(t *testing.T, data string) string {
	t.Helper()
	bk := filepath.Join(t.TempDir(), "backup")
	if code, out, errOut := runCmd("backup", bk, "--data", data); code != 0 {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	return bk
}

// backedUpDemo is frozenDemo backed up: the folder and the backup.
func backedUpDemo(t *testing.T, n int) (data, bk string) {
	t.Helper()
	data = frozenDemo(t, n)
	return data, backUp(t, data)
}

// copyBackup copies a backup folder, for a test to damage.
func copyBackup(t *testing.T, bk string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dst, os.DirFS(bk)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestARestoreRefusesADamagedOrPartialBackupAndRestoresNothing(t *testing.T) {
	data, bk := backedUpDemo(t, 30)
	// A backup that fails (no such stream) leaves no folder it made behind.
	gone := filepath.Join(t.TempDir(), "bk-nope")
	if code, _, errOut := runCmd("backup", gone, "--data", data, "--stream", "NOPE"); code != 1 || !strings.Contains(errOut, "NOPE") {
		t.Errorf("a backup of a stream not there: exit %d, %q; want 1 naming it", code, errOut)
	}
	if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed backup left its folder %s: %v", gone, err)
	}
	flip := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x01
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"one byte flipped in the snapshot", flip("LEDGER.snapshot.s2"), "is damaged: LEDGER.snapshot.s2 has SHA-256"},
		{"one byte flipped in the stream's configuration", flip("LEDGER.json"), "is damaged: LEDGER.json has SHA-256"},
		{"the snapshot missing", remove("LEDGER.snapshot.s2"), "is incomplete: LEDGER.snapshot.s2 is missing"},
		{"the snapshot cut short", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "LEDGER.snapshot.s2"), 1000); err != nil {
				t.Fatal(err)
			}
		}, "LEDGER.snapshot.s2 has 1000 bytes, the manifest says"},
		{"no manifest: a backup that did not finish", remove("manifest.json"), "has no manifest.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyBackup(t, bk)
			tt.damage(t, dir)
			dst := filepath.Join(t.TempDir(), "restored")
			code, out, errOut := runCmd("restore", dir, "--data", dst)
			if code != 1 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "nothing was restored") {
				t.Fatalf("restore of a damaged backup: exit %d, stderr %q; want 1 and %q\n%s", code, errOut, tt.want, out)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Fatalf("the target folder was made: %v", err)
			}
		})
	}

	t.Run("a target holding the ledger is replaced only with --replace", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "restored")
		if code, _, errOut := runCmd("restore", bk, "--data", dst); code != 0 {
			t.Fatalf("first restore: %s", errOut)
		}
		code, _, errOut := runCmd("restore", bk, "--data", dst)
		if code != 1 || !strings.Contains(errOut, "already holds ledger 360700's stream LEDGER") || !strings.Contains(errOut, "--replace") {
			t.Fatalf("a restore over a ledger: exit %d, %q", code, errOut)
		}
		seed(t, dst) // the restored ledger goes on: the replace must take it back to the backup
		code, out, errOut := runCmd("restore", bk, "--data", dst, "--replace")
		if code != 0 || !strings.Contains(errOut, "--replace: deleting stream LEDGER") {
			t.Fatalf("restore --replace: exit %d\n%s\n%s", code, out, errOut)
		}
		m, _ := checkBackup(bk, &bytes.Buffer{})
		if got := lastSeq(t, openData(t, dst)); got != m.Streams[0].LastSeq {
			t.Fatalf("after --replace the stream ends at %d, the backup at %d", got, m.Streams[0].LastSeq)
		}
	})

	t.Run("--ledger checks the city the backup holds", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "restored")
		code, _, errOut := runCmd("restore", bk, "--data", dst, "--ledger", "360500")
		if _, err := os.Stat(dst); code != 2 || !strings.Contains(errOut, "holds the ledger of city 360700") || !os.IsNotExist(err) {
			t.Fatalf("restore --ledger 360500 of Ganzhou's backup: exit %d, %q, folder made: %v; want 2, naming 360700, nothing made", code, errOut, err == nil)
		}
		if code, _, errOut := runCmd("restore", bk, "--data", dst, "--ledger", "360700"); code != 0 {
			t.Fatalf("restore --ledger 360700 of Ganzhou's backup: exit %d, %q", code, errOut)
		}
	})

	t.Run("a backup goes into a new or empty folder only", func(t *testing.T) {
		code, _, errOut := runCmd("backup", bk, "--data", filepath.Join(t.TempDir(), "unused"))
		if code != 1 || !strings.Contains(errOut, "is not empty") {
			t.Fatalf("backup into a used folder: exit %d, %q", code, errOut)
		}
		// A folder a backup cut short left (its manifest is written last) is said to be one.
		cut := t.TempDir()
		if err := os.WriteFile(filepath.Join(cut, "LEDGER.snapshot.s2"), []byte("part"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut = runCmd("backup", cut, "--data", filepath.Join(t.TempDir(), "unused"))
		if code != 1 || !strings.Contains(errOut, "holds a backup that did not finish") {
			t.Fatalf("backup into a cut-short backup's folder: exit %d, %q", code, errOut)
		}
		empty := filepath.Join(t.TempDir(), "none")
		code, _, errOut = runCmd("backup", filepath.Join(t.TempDir(), "b"), "--data", empty)
		if _, err := os.Stat(empty); code != 1 || !strings.Contains(errOut, "holds no ledger") || !os.IsNotExist(err) {
			t.Fatalf("backup of a folder with no ledger: exit %d, %q, folder made: %v", code, errOut, err == nil)
		}
	})
}

func TestABackupOfAStoppedDataFolderRestoredAndServedGivesTheSameFigures(t *testing.T) {
	_, bin := buildBinary(t)
	src, bk := backedUpDemo(t, 150)
	dst := filepath.Join(t.TempDir(), "restored")
	if code, out, errOut := runCmd("restore", bk, "--data", dst); code != 0 || !strings.Contains(out, "serve it with kuozheng serve --data "+dst+" (") {
		t.Fatalf("restore: exit %d, want 0 and how to serve it\n%s\n%s", code, out, errOut)
	}
	paths := []string{"/v1/counties", "/v1/counties?period=2006-06&as_of=2006-08-31", "/v1/groups", "/v1/freezes"}
	a, b := startCrashServer(t, bin, src), startCrashServer(t, bin, dst)
	same := func(b *crashServer) {
		t.Helper()
		for _, path := range paths {
			if x, y := getRaw(t, a, path), getRaw(t, b, path); !bytes.Equal(x, y) {
				t.Fatalf("GET %s differs after the restore:\n%.400s\n%.400s", path, x, y)
			}
		}
		// The restored views were folded from the stream: a backup holds no views.
		if strings.Contains(b.stderr.String(), "views restored from snapshot") {
			t.Fatalf("serve on the restored folder used a views' snapshot no backup holds:\n%s", b.stderr)
		}
	}
	same(b)

	// The restored ledger is written to and stopped (serve saves its views); restored again over
	// it with --replace, it answers the backup's figures, not the views serve saved.
	var list struct {
		Employers []struct {
			ID string `json:"employer_id"`
		} `json:"employers"`
	}
	b.getJSON(t, "/v1/employers", &list)
	w := crashWrite{employer: list.Employers[0].ID, receipt: "BK-AFTER", key: "bk-after",
		body: []byte(`{"paid_on":"2006-12-20","amount_fen":123456,"receipt_no":"BK-AFTER"}`)}
	status, seq, _, err := b.post(w)
	if err != nil || status != 201 {
		t.Fatalf("payment on the restored ledger: %d %v", status, err)
	}
	// Read once the views hold the payment: the answer does not wait for them.
	if bytes.Equal(getRaw(t, a, paths[0]), getRaw(t, b, fmt.Sprintf("%s?min_seq=%d", paths[0], seq))) {
		t.Fatal("a payment of 1,234.56 yuan changed no figure")
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-b.done
	code, out, errOut := runCmd("restore", bk, "--data", dst, "--replace")
	if code != 0 || !strings.Contains(errOut, "deleted the views' snapshot bucket KUOZHENG_VIEWS") {
		t.Fatalf("restore --replace: exit %d\n%s\n%s", code, out, errOut)
	}
	same(startCrashServer(t, bin, dst))
}

func TestARestoreFailsNamingAStoredFreezeThatDoesNotReproduce(t *testing.T) {
	ctx := context.Background()
	data := frozenDemo(t, 30)
	// A freeze whose figures are not the ledger's, stored beside the real one with a chain of
	// its own that holds: only reproducing it finds it out.
	led, err := openLedger(ctx, storeFlags{data: data}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := led.store.Freeze(ctx, led.store.Freezes()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	f.ID, f.Digest = uuid.NewString(), strings.Repeat("0", 64)
	msg, err := domain.Encode(domain.Envelope{ID: uuid.NewString(), OccurredOn: f.ValidThrough, Actor: "admin:forger", N: 1}, f)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(led.store.Subjects().Freeze + f.ID)
	m.Data = msg
	m.Header.Set(eventstore.HashHeader, domain.ChainHash("", msg))
	if _, err := led.store.JetStream().PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	led.close()

	bk := backUp(t, data)
	code, out, errOut := runCmd("restore", bk, "--data", filepath.Join(t.TempDir(), "restored"))
	want := fmt.Sprintf("a freeze does not reproduce: freeze %s: digest %s", f.ID, f.Digest)
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "do not serve it as the ledger of record") || strings.Contains(out, "ok:") {
		t.Fatalf("restore of a ledger with a false freeze: exit %d, want 1 and %q\n%s\n%s", code, want, out, errOut)
	}
	if !strings.Contains(errOut, "freeze 1 of 2 reproduced") {
		t.Fatalf("the true freeze was not reproduced first:\n%s", errOut)
	}

	// The ledger left for inspection is opened by no command, as one whose restore was killed
	// half way is not (both keep the restore's mark); restored again with --replace, it is.
	dst := filepath.Join(t.TempDir(), "restored")
	if code, _, _ := runCmd("restore", bk, "--data", dst); code != 1 {
		t.Fatalf("restore of the false freeze again: exit %d, want 1", code)
	}
	for _, args := range [][]string{{"verify", "--data", dst}, {"history", "--data", dst, "x"}, {"backup", filepath.Join(t.TempDir(), "bk"), "--data", dst}, {"restore", bk, "--data", dst}} {
		code, out, errOut := runCmd(args...)
		if code == 0 || !strings.Contains(errOut, "holds a restore that did not finish (from the backup in "+bk) || !strings.Contains(errOut, "--replace") {
			t.Errorf("%s on a folder whose restore did not finish: exit %d\n%s\n%s", args[0], code, out, errOut)
		}
	}
	good := backUp(t, frozenDemo(t, 20))
	if code, out, errOut := runCmd("restore", good, "--data", dst, "--replace"); code != 0 {
		t.Fatalf("restore --replace over an unfinished restore: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dst, unfinishedRestore)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a finished restore left its mark: %v", err)
	}
	if code, out, errOut := runCmd("verify", "--data", dst); code != 0 {
		t.Errorf("verify after the restore finished: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestABackupOfAMirrorRestoresAsTheLedgerItMirrors(t *testing.T) {
	ctx := context.Background()
	data := frozenDemo(t, 30)
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(emb.Conn)
	src, err := js.Stream(ctx, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	last := src.CachedInfo().State.LastSeq
	mirror, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LEDGER_MIRROR", Storage: jetstream.FileStorage, Mirror: &jetstream.StreamSource{Name: "LEDGER"}})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		info, err := mirror.Info(ctx)
		if err != nil || info.State.LastSeq != last {
			return fmt.Errorf("the mirror is at %v of %d (%v)", info, last, err)
		}
		return nil
	})
	emb.Close()

	bk := filepath.Join(t.TempDir(), "backup")
	if code, out, errOut := runCmd("backup", bk, "--data", data, "--stream", "LEDGER_MIRROR"); code != 0 || !strings.Contains(out, "stream LEDGER_MIRROR") || !strings.Contains(out, "1 freezes") {
		t.Fatalf("backup of the mirror: exit %d\n%s\n%s", code, out, errOut)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if code, out, errOut := runCmd("restore", bk, "--data", dst); code != 0 || !strings.Contains(out, "ok: 1 freezes reproduced") {
		t.Fatalf("restore of the mirror's backup: exit %d\n%s\n%s", code, out, errOut)
	}
	led := openData(t, dst)
	s, err := led.store.JetStream().Stream(ctx, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Config.Mirror != nil || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "ledger.>" || info.State.LastSeq != last {
		t.Fatalf("restored as %+v through %d; want the ledger's stream (ledger.>, no mirror) through %d", info.Config, info.State.LastSeq, last)
	}
}

// A data folder that holds another city's ledger and none of the one asked for is refused,
// naming the --ledger it holds, and nothing is made in it: a city's backup restored and then
// served without its --ledger made an empty Ganzhou ledger beside it and served that.
func TestAFolderOfAnotherCitysLedgerIsRefusedNamingIt(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	led, err := openLedger(ctx, storeFlags{data: dir, ledger: "360500"}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	led.close()
	for range 2 { // the refusal made nothing: it refuses again
		_, err := openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard))
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "holds the ledger of city 360500") || !strings.Contains(err.Error(), "--ledger 360500") {
			t.Fatalf("opening a folder of 360500's ledger as 360700's: %v, want a usage error naming --ledger 360500", err)
		}
	}
	led, err = openLedger(ctx, storeFlags{data: dir, ledger: "360500"}, newLogger(io.Discard))
	if err != nil {
		t.Fatalf("the folder opened with its own --ledger: %v", err)
	}
	led.close()
	// A --ledger given names the ledger meant, beside the other: no refusal.
	led, err = openLedger(ctx, storeFlags{data: dir, ledger: eventstore.DefaultLedger, ledgerSet: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatalf("the folder opened with --ledger %s given: %v", eventstore.DefaultLedger, err)
	}
	led.close()
	for name, want := range map[string]string{"LEDGER": eventstore.DefaultLedger, "LEDGER_360500": "360500", "LEDGER_MIRROR": "", "PROVINCE_360000": ""} {
		if city, ok := eventstore.CityOfStream(name); city != want || ok != (want != "") {
			t.Errorf("CityOfStream(%q) = %q, %v; want %q", name, city, ok, want)
		}
	}
}

// TestARestoreWithoutRoomDeletesNothing: a restore --replace onto a disk that cannot hold the
// backup's stream (even with the stream it replaces deleted) is refused before anything is
// deleted: it used to delete the ledger, stop on a full disk and leave the folder empty (an
// operator's drill). The ledger there stays whole; with room made, the restore goes through.
func TestARestoreWithoutRoomDeletesNothing(t *testing.T) {
	mnt := storetest.MountTmpfs(t, "64m")
	data := filepath.Join(mnt, "data")
	if code, out, errOut := runCmd("restore", backUp(t, frozenDemo(t, 10)), "--data", data); code != 0 {
		t.Fatalf("restore of the small ledger: exit %d\n%s\n%s", code, out, errOut)
	}
	big := backUp(t, frozenDemo(t, 120))
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, int64(st.Bavail)*st.Bsize-(1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("restore", big, "--data", data, "--replace")
	if code == 0 || !strings.Contains(errOut, "free space there first") || !strings.Contains(errOut, "nothing was deleted or restored") || strings.Contains(errOut, "deleting stream") {
		t.Fatalf("restore --replace without room: exit %d, want a refusal before deleting anything\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCmd("verify", "--data", data); code != 0 || !strings.Contains(out, "ok: every hash chain") {
		t.Fatalf("the ledger after a refused restore: verify exit %d\n%s\n%s", code, out, errOut)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd("restore", big, "--data", data, "--replace"); code != 0 {
		t.Fatalf("restore --replace with room: exit %d\n%s\n%s", code, out, errOut)
	}
}
