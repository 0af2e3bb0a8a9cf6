package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestAnImportKilledMidwayAndRunAgainHasEveryRowExactlyOnce(t *testing.T) {
	dir, bin := buildBinary(t)
	const rows = 40000
	var b strings.Builder
	b.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	for i := range rows {
		body := fmt.Sprintf("%08d", 60000000+i)
		c, _ := domain.OrgCodeCheck(body)
		fmt.Fprintf(&b, "单位%d,%s-%c,瑞金市,企业,1,2006-04-05\n", i, body, c)
	}
	file := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	args := []string{"import", file, "--data", data, "--today", "2006-12-31", "--new-ledger"}

	child := exec.Command(bin, args...)
	stderr, _ := child.StderrPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	killed := false
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "import: ") && !strings.HasPrefix(line, "import: 0/") {
			// Some rows are in, the rest are not: kill it without warning.
			if err := child.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
			break
		}
	}
	_ = child.Wait()
	if !killed {
		t.Fatal("the import finished before it could be killed")
	}

	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("import again: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 rejected") || strings.Contains(string(out), " 0 already there") {
		t.Fatalf("the second run should find some rows already there and reject none:\n%s", out)
	}
	wantOneEventPerRow(t, data, rows)
}

// wantOneEventPerRow checks that the ledger in data holds rows employers of one event each, its
// chains whole: an import recorded every row once.
func wantOneEventPerRow(t *testing.T, data string, rows int) {
	t.Helper()
	led, err := openLedger(context.Background(), storeFlags{data: data}, newLogger(&strings.Builder{}))
	if err != nil {
		t.Fatal(err)
	}
	defer led.close()
	ids := led.store.EmployerIDs()
	if len(ids) != rows {
		t.Fatalf("%d employers in the ledger, want %d", len(ids), rows)
	}
	for _, id := range ids {
		if e, _ := led.store.Employer(id); e.N != 1 {
			t.Fatalf("employer %s has %d events, want exactly 1", id, e.N)
		}
	}
	in, err := led.store.Verify(context.Background())
	if err != nil || !in.OK {
		t.Fatalf("verify: %+v %v", in, err)
	}
}

// TestAnImportWithRejectedRowsExitsThreeAndWritesEveryOne: an import that refuses some rows
// records the others and exits 3 (not 0, which a script would read as every row in; not 1, a
// failure), with every rejected row in its rejects file, over HTTP too, where the server's
// answer lists the first 1,000 unless asked for all. A clean import exits 0.
func TestAnImportWithRejectedRowsExitsThreeAndWritesEveryOne(t *testing.T) {
	dir := t.TempDir()
	const good, bad = 5, 1100
	var b strings.Builder
	b.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	for i := range good + bad {
		day := "2006-04-05"
		if i >= good {
			day = "2006-04-31" // no such day: the row is refused
		}
		fmt.Fprintf(&b, "单位%d,%s,瑞金市,企业,1,%s\n", i, domain.NumberedOrgCode(61000000+i), day)
	}
	file := filepath.Join(dir, "regs.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	l := storetest.Start(t, eventstore.Config{})
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	// --today is the business date of a ledger opened here; a server's is its own.
	for _, where := range [][]string{{"--data", filepath.Join(dir, "data"), "--new-ledger", "--today", "2006-12-31"}, {"--server", srv.URL}} {
		rejects := filepath.Join(dir, where[0][2:]+".rejects.csv")
		args := append([]string{"import", file, "--rejects", rejects}, where...)
		code, out, errOut := runCmd(args...)
		if code != 3 || !strings.Contains(out, fmt.Sprintf("%d imported, 0 already there, %d rejected", good, bad)) ||
			!strings.Contains(errOut, fmt.Sprintf("%d rows rejected", bad)) {
			t.Errorf("%s: exit %d\n%s%s\nwant 3, %d imported and %d rejected", where[0], code, out, errOut, good, bad)
		}
		written, err := os.ReadFile(rejects)
		if err != nil {
			t.Fatalf("%s: %v", where[0], err)
		}
		if lines := strings.Count(string(written), "\n"); lines != bad+1 {
			t.Errorf("%s: the rejects file has %d lines, want the header and %d rows", where[0], lines, bad)
		}
	}
	clean := filepath.Join(dir, "clean.csv")
	if err := os.WriteFile(clean, []byte(strings.Join(strings.SplitAfter(b.String(), "\n")[:good+1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd("import", clean, "--server", srv.URL); code != 0 || !strings.Contains(out, fmt.Sprintf("0 imported, %d already there, 0 rejected", good)) || strings.Contains(out, "earlier run") {
		t.Errorf("a clean import: exit %d\n%s%s\nwant 0, every row already there", code, out, errOut)
	}
	// A rejects file beside it, left by an earlier run, is said to be one.
	stale := filepath.Join(dir, "clean.rejects.csv")
	if err := os.WriteFile(stale, []byte("单位名称\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd("import", clean, "--server", srv.URL); code != 0 || !strings.Contains(out, "no row rejected this time: "+stale+" is an earlier run's") {
		t.Errorf("a clean import beside an earlier run's rejects: exit %d\n%s%s\nwant it said", code, out, errOut)
	}
}

// TestAnImportRefusedBeforeItsFirstRowRecordsNothing: what would be ignored or could not be
// done after the rows are recorded is refused first, nothing recorded: --today or --ledger asking
// a server (its business date and city are its own), an encoding the importer does not know (bad
// usage), a --rejects that is the file imported (it would be replaced by its rejects) or in a
// folder that is not there. The same file then imports whole.
func TestAnImportRefusedBeforeItsFirstRowRecordsNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "regs.csv")
	const rows = "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲," + "62000001-X" + ",瑞金市,企业,1,2006-04-05\n单位乙,%s,瑞金市,企业,1,2006-04-31\n"
	body := fmt.Sprintf(strings.Replace(rows, "62000001-X", domain.NumberedOrgCode(62000001), 1), domain.NumberedOrgCode(62000002))
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	l := storetest.Start(t, eventstore.Config{})
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	before := l.Store.Applied()
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"--today asking a server", []string{"--server", srv.URL, "--today", "2006-01-01"}, 2, "--today applies to a ledger this command opens"},
		{"--ledger asking a server", []string{"--server", srv.URL, "--ledger", "360500"}, 2, "--ledger applies to a ledger this command opens"},
		{"an encoding the importer does not know", []string{"--server", srv.URL, "--encoding", "latin1"}, 2, `--encoding "latin1": want utf-8 or gbk`},
		{"--rejects naming the file imported", []string{"--server", srv.URL, "--rejects", file}, 2, "is the file imported"},
		{"--rejects in a folder that is not there", []string{"--server", srv.URL, "--rejects", filepath.Join(dir, "nodir", "r.csv")}, 1, "--rejects " + filepath.Join(dir, "nodir", "r.csv") + " cannot be written"},
	} {
		if code, _, errOut := runCmd(append([]string{"import", file}, tt.args...)...); code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d: %q; want %d saying %q", tt.name, code, errOut, tt.code, tt.want)
		}
		if got := l.Store.Applied(); got != before {
			t.Errorf("%s: the ledger moved from %d to %d", tt.name, before, got)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != body {
		t.Errorf("the file imported was changed: %q", b)
	}
	if code, out, errOut := runCmd("import", file, "--server", srv.URL); code != 3 || !strings.Contains(out, "1 imported, 0 already there, 1 rejected") {
		t.Errorf("the import then: exit %d\n%s%s\nwant 3, 1 imported and 1 rejected", code, out, errOut)
	}
	// A --rejects that is no regular file is written as it is, never replaced: a pipe (as
	// /dev/null or /dev/stdout would be), and a file through a symbolic link, which stays a link.
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	drained := make(chan int64)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			drained <- -1
			return
		}
		n, _ := io.Copy(io.Discard, f)
		f.Close()
		drained <- n
	}()
	target := filepath.Join(dir, "target.csv")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	// A chain of links to a file not made yet, and a rejects file of its own mode (payers' rows,
	// kept private) written again: the chain stays, its end is made; the mode is kept.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	end := filepath.Join(sub, "end.csv")
	l2, l1 := filepath.Join(dir, "l2.csv"), filepath.Join(dir, "l1.csv")
	if err := errors.Join(os.Symlink(filepath.Join("sub", "end.csv"), l2), os.Symlink("l2.csv", l1)); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(dir, "private.csv")
	if err := os.WriteFile(private, []byte("an earlier run's rejects"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rejects := range []string{fifo, link, l1, private} {
		if code, out, errOut := runCmd("import", file, "--server", srv.URL, "--rejects", rejects); code != 3 || !strings.Contains(out, "1 rejected") {
			t.Errorf("--rejects %s: exit %d\n%s%s\nwant 3, the row rejected", rejects, code, out, errOut)
		}
	}
	select {
	case n := <-drained:
		if n <= 0 {
			t.Errorf("the pipe given as --rejects carried %d bytes, want the rejects", n)
		}
	case <-time.After(time.Minute): // a guard, not a measure: the import has long ended
		t.Errorf("nothing opened the pipe given as --rejects")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe given as --rejects was replaced: %v", err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link given as --rejects was replaced: %v", err)
	}
	for _, l := range []string{l1, l2} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link %s in the chain given as --rejects was replaced: %v", l, err)
		}
	}
	if b, err := os.ReadFile(end); err != nil || !strings.Contains(string(b), "2006-04-31") {
		t.Errorf("the chain's end holds %q (%v), want the rejects", b, err)
	}
	if st, err := os.Stat(private); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the rejects file written again: %v, want mode 0600 kept", err)
	}
	// The rejects file is made as any file the user makes: the umask applies.
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	if st, err := os.Stat(target); err != nil {
		t.Errorf("the rejects file through the link: %v", err)
	} else if st.Mode().Perm() != 0o666&^os.FileMode(mask) {
		t.Errorf("the rejects file's mode is %v, want %v", st.Mode().Perm(), 0o666&^os.FileMode(mask))
	}
}

// statusCounter counts the answers of one status a handler gives.
type statusCounter struct {
	http.Handler
	status int
	n      atomic.Int64
}

func (c *statusCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.Handler.ServeHTTP(&statusSpy{ResponseWriter: w, c: c}, r)
}

type statusSpy struct {
	http.ResponseWriter
	c *statusCounter
}

func (s *statusSpy) WriteHeader(code int) {
	if code == s.c.status {
		s.c.n.Add(1)
	}
	s.ResponseWriter.WriteHeader(code)
}

// A server taking the most imports it takes at once answers 503 with a Retry-After: the command
// line sends the file again after it, saying so, and the import goes in once a turn is free.
func TestAnImportToABusyServerIsSentAgainUntilItIsTaken(t *testing.T) {
	defer func(d time.Duration) { importRetryWait = d }(importRetryWait)
	importRetryWait = 20 * time.Millisecond
	dir := t.TempDir()
	file := filepath.Join(dir, "regs.csv")
	if err := os.WriteFile(file, fmt.Appendf(nil, "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲,%s,瑞金市,企业,1,2006-04-05\n", domain.NumberedOrgCode(62000001)), 0o600); err != nil {
		t.Fatal(err)
	}
	l := storetest.Start(t, eventstore.Config{})
	busy := &statusCounter{Handler: api.New(api.Config{Store: l.Store, Today: func() domain.Date { return domain.MustDate("2006-12-31") }}), status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(busy)
	t.Cleanup(srv.Close) // after the uploads held below are closed (cleanups run last first)
	host := strings.TrimPrefix(srv.URL, "http://")
	// Uploads that stay arriving take the turns the server gives (every request here is the local
	// admin's, who may hold api.MaxUploadsEach of them): once one more is refused, it is busy
	// for the import (one refused is started again, in case a probe took its turn).
	hold := func() net.Conn {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /v1/imports HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n单位名称\r\n", host)
		return conn
	}
	answered := func(conn net.Conn) bool {
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	}
	held := make([]net.Conn, api.MaxUploadsAtOnce)
	for i := range held {
		held[i] = hold()
	}
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		for i, c := range held {
			if answered(c) {
				c.Close()
				held[i] = hold()
			}
		}
		probe := hold()
		defer probe.Close()
		if !answered(probe) {
			return fmt.Errorf("one more upload beside %d arriving is not refused yet", len(held))
		}
		return nil
	})
	refusedBefore := busy.n.Load()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runCmd("import", file, "--server", srv.URL)
		done <- result{code, out, errOut}
	}()
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if busy.n.Load() < refusedBefore+2 {
			return fmt.Errorf("the server refused the import %d times", busy.n.Load()-refusedBefore)
		}
		return nil
	})
	// Every held upload ends: which of them hold a turn is the server's to say (one principal
	// holds at most api.MaxUploadsEach), so closing one alone could leave the import refused.
	for _, c := range held {
		c.Close()
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, "1 imported") || !strings.Contains(r.err, "sending it again") {
		t.Fatalf("exit %d\n%s%s\nwant 0, the row imported, and the waits said", r.code, r.out, r.err)
	}
}

// An import sent to a server says what it sends where and, while the server works on it, that it
// is still waiting: the server tells no progress of its own, and a large file takes a while.
func TestAnImportSentToAServerSaysItIsWaiting(t *testing.T) {
	defer func(d time.Duration) { importWaitEvery = d }(importWaitEvery)
	importWaitEvery = time.Millisecond
	file := filepath.Join(t.TempDir(), "regs.csv")
	if err := os.WriteFile(file, fmt.Appendf(nil, "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲,%s,瑞金市,企业,1,2006-04-05\n", domain.NumberedOrgCode(62000002)), 0o600); err != nil {
		t.Fatal(err)
	}
	l := storetest.Start(t, eventstore.Config{})
	h := api.New(api.Config{Store: l.Store, Today: func() domain.Date { return domain.MustDate("2006-12-31") }})
	seen := make(chan struct{})
	said := &gatedWriter{mark: "import: no answer from the server yet, after", hold: func() { close(seen) }}
	// The server answers only once the command has said it waits (or after a minute, when the
	// test fails below).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/imports" {
			select {
			case <-seen:
			case <-time.After(time.Minute):
			}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var out strings.Builder
	code := run([]string{"import", file, "--server", srv.URL}, &out, said)
	errOut := said.String()
	if code != 0 || !strings.Contains(out.String(), "regs.csv: 1 row (registrations, utf-8): 1 imported") {
		t.Fatalf("exit %d\n%s%s\nwant 0 and the row imported", code, out.String(), errOut)
	}
	if !strings.Contains(errOut, "import: sending "+file+" (1 KB) to "+srv.URL) || !strings.Contains(errOut, said.mark) {
		t.Fatalf("standard error:\n%s\nwant what is sent where, and the wait said", errOut)
	}
}
