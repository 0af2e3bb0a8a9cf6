// Over 500 lines for a reason: every limit of an upload is one case of one table over one server.

package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/api/importer/xlsxtest"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// importBound is how much answering a bomb may make the whole process (ledger, server and test)
// allocate, in all.
const importBound = 64 << 20

// upload posts a file to /v1/imports as token.
func (e *env) upload(t testing.TB, token, name string, file []byte) resp {
	t.Helper()
	return e.uploadTo(t, "/v1/imports", token, name, file)
}

// uploadTo is upload to path, which may carry a query.
func (e *env) uploadTo(t testing.TB, path, token, name string, file []byte) resp {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(file); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return e.do(t, req{Path: path, Token: token, Body: b.Bytes(), Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
}

// uploadAllocating posts a file as the admin and returns the answer and how many bytes the process
// allocated meanwhile (an upper bound of what answering added to the heap at its peak).
func (e *env) uploadAllocating(t testing.TB, name string, file []byte) (resp, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := e.upload(t, tokAdmin, name, file)
	runtime.ReadMemStats(&after)
	return r, after.TotalAlloc - before.TotalAlloc
}

// TestAnXLSXBombAnswers413WithoutExpanding: xlsx files of a few megabytes whose sheet expands to
// 600 MB, or to 8 million rows in 200 MB, answer 413 naming the limit they pass, append nothing,
// and cost the process less than importBound of allocations in all (before, the first one peaked
// past 800 MiB). A file within the limits still imports.
func TestAnXLSXBombAnswers413WithoutExpanding(t *testing.T) {
	e := newAuthEnv(t)
	header := xlsxtest.Cells("组织机构代码", "缴费日期", "金额(分)", "票据号")
	row := xlsxtest.Cells(orgCode(1), "2006-06-10", "100", "R1")
	for _, tt := range []struct {
		name  string
		sheet xlsxtest.Sheet
		want  string
	}{
		{"600 MB", xlsxtest.Sheet{Head: header, Unit: row, N: 600_000_000 / len(row)}, "the xlsx file expands to more than 268,435,456 bytes (256 MiB)"},
		{"8 million rows", xlsxtest.Sheet{Head: header, Unit: `<row><c><v>1</v></c></row>`, N: 8_000_000}, "has more than 200,000 rows besides its header; split it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := xlsxtest.File(tt.sheet, nil)
			before := e.count()
			r, n := e.uploadAllocating(t, "bomb.xlsx", file)
			wantError(t, r, 413, "too_large", "file")
			if !strings.Contains(r.str("detail"), tt.want) {
				t.Errorf("detail %q, want it to say %q", r.str("detail"), tt.want)
			}
			if n > importBound {
				t.Errorf("answering a %d-byte file whose sheet expands to %d bytes allocated %d MiB, more than %d MiB",
					len(file), tt.sheet.Size(), n>>20, importBound>>20)
			}
			e.wantUnchanged(t, before)
			t.Logf("%.1f MB file, sheet of %d MB: %d in %.1f MiB allocated: %s", float64(len(file))/1e6, tt.sheet.Size()/1e6, r.Status, float64(n)/(1<<20), r.str("detail"))
		})
	}
	// The same shapes within the limits import.
	regs := xlsxtest.Rows([]string{"单位名称", "组织机构代码", "所属区县", "单位类型", "行业风险类别", "登记日期"},
		[]string{"甲", orgCode(1), "360702", "企业", "1", "2006-04-03"})
	if r := e.upload(t, tokAdmin, "regs.xlsx", xlsxtest.File(regs, nil)); r.Status != 200 || r.num("imported") != 1 {
		t.Fatalf("a registration in an xlsx file: %s", r)
	}
	pays := xlsxtest.Sheet{Head: header, Unit: row, N: 1}
	if r := e.upload(t, tokAdmin, "pays.xlsx", xlsxtest.File(pays, nil)); r.Status != 200 || r.num("imported") != 1 {
		t.Fatalf("a payment in an xlsx file: %s", r)
	}
}

// TestAFileOfTheLimitIsTakenAndOneByteMoreIsNot: the limit is the file's, 64 MiB, not the
// multipart form's around it (a file of exactly 64 MiB was refused as over it); one byte more
// answers 413 naming the limit. Both here are one long row, refused on their content if read.
func TestAFileOfTheLimitIsTakenAndOneByteMoreIsNot(t *testing.T) {
	e := newAuthEnv(t)
	before := e.count()
	for _, tt := range []struct {
		size int
		want string
	}{
		{api.MaxImport, "longer than 262,144 bytes"},
		{api.MaxImport + 1, "the file is over the limit of 67,108,864 bytes (64 MiB)"},
	} {
		file := append([]byte("组织机构代码,缴费日期,金额(分),票据号\n"), bytes.Repeat([]byte("x"), tt.size)...)[:tt.size]
		r := e.upload(t, tokClerkA, "big.csv", file)
		wantError(t, r, http.StatusRequestEntityTooLarge, "too_large", "file")
		if !strings.Contains(r.str("detail"), tt.want) {
			t.Errorf("a file of %d bytes: %q, want it to say %q", tt.size, r.str("detail"), tt.want)
		}
	}
	e.wantUnchanged(t, before)
}

// TestACSVOfAMillionColumnsAnswers413Briefly: a CSV header of a million columns (2 MB) answers
// 413 in a few hundred bytes (before, 400 echoing the header back in 11.9 MB); 300 columns of long
// unknown names, within the row limit, answer 413 too; 200 of them answer 400 without the header
// whole.
func TestACSVOfAMillionColumnsAnswers413Briefly(t *testing.T) {
	e := newAuthEnv(t)
	for _, tt := range []struct {
		name   string
		file   string
		status int
		want   string
	}{
		{"a million columns", strings.Repeat("column,", 999_999) + "column\n1\n", 413, "longer than 262,144 bytes (256 KiB)"},
		{"300 columns", strings.Repeat(strings.Repeat("长", 100)+",", 299) + "x\n1\n", 413, "has 300 columns, more than the limit of 256"},
		{"200 unknown columns", strings.Repeat(strings.Repeat("长", 100)+",", 199) + "x\n1\n", 400, "cannot tell the kind of file from its columns"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			r := e.upload(t, tokClerkA, "wide.csv", []byte(tt.file))
			kind := map[int]string{413: "too_large", 400: "invalid"}[tt.status]
			wantError(t, r, tt.status, kind, "file")
			if !strings.Contains(r.str("detail"), tt.want) {
				t.Errorf("detail %q, want it to say %q", r.str("detail"), tt.want)
			}
			if len(r.Raw) > 4096 {
				t.Errorf("the answer to a %d-byte header is %d bytes long", len(tt.file), len(r.Raw))
			}
			e.wantUnchanged(t, before)
		})
	}
}

// shape is an import report without what differs between two rows about different employers:
// the time taken and each rejected row's value (the row's own organisation code).
func shape(t testing.TB, r resp) string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("import: %s", r)
	}
	var rep importer.Report
	if err := json.Unmarshal(r.Raw, &rep); err != nil {
		t.Fatal(err)
	}
	rep.Seconds = 0
	for i := range rep.Rejected {
		rep.Rejected[i].Value = ""
	}
	b, _ := json.Marshal(rep)
	return string(b)
}

// TestAClerkLearnsNothingOfAnotherCountysEmployersByImporting: a clerk of 360721 importing the
// payments file a clerk of 360702 imported, or another payment of that employer, gets the answer
// it gets for an employer that does not exist: the row refused as "no employer by this code in
// the counties you may write to", not counted as a duplicate, and nothing appended. Registering
// the same organisation code in its own county is refused without naming the employer.
func TestAClerkLearnsNothingOfAnotherCountysEmployersByImporting(t *testing.T) {
	e := newAuthEnv(t)
	x, nobody := orgCode(4242), orgCode(4343)
	const regHeader = "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n"
	if r := e.upload(t, tokClerkA, "regs.csv", []byte(regHeader+"秘密单位,"+x+",360702,企业,1,2006-04-03\n")); r.num("imported") != 1 {
		t.Fatalf("clerk A registering in its county: %s", r)
	}
	payments := func(org, receipt string) []byte {
		return []byte("组织机构代码,缴费日期,金额(分),票据号\n" + org + ",2006-06-10,100," + receipt + "\n")
	}
	if r := e.upload(t, tokClerkA, "pay.csv", payments(x, "R1")); r.num("imported") != 1 {
		t.Fatalf("clerk A paying for its employer: %s", r)
	}
	if r := e.upload(t, tokClerkA, "pay.csv", payments(x, "R1")); r.num("duplicates") != 1 {
		t.Fatalf("clerk A importing its file again: %s, want the row a duplicate", r)
	}

	before := e.count()
	absent := e.upload(t, tokClerkB, "pay.csv", payments(nobody, "R1"))
	for _, tt := range []struct{ name, org, receipt string }{
		{"the file clerk A imported", x, "R1"},
		{"another payment of A's employer", x, "R2"},
	} {
		r := e.upload(t, tokClerkB, "pay.csv", payments(tt.org, tt.receipt))
		if r.num("duplicates") != 0 || r.num("imported") != 0 {
			t.Errorf("clerk B importing %s: %s, want nothing imported and no duplicate", tt.name, r)
		}
		if got, want := shape(t, r), shape(t, absent); got != want {
			t.Errorf("clerk B importing %s answers\n%s\nbut for an employer nobody registered\n%s", tt.name, got, want)
		}
		if strings.Contains(string(r.Raw), "360702") || strings.Contains(string(r.Raw), "秘密单位") {
			t.Errorf("clerk B importing %s learns A's county or employer: %s", tt.name, r)
		}
	}
	if want := `"rejected":[{"row":2,"column":"组织机构代码","value":"","reason":"no employer by this code in the counties you may write to"}]`; !strings.Contains(shape(t, absent), want) {
		t.Errorf("clerk B paying for an employer nobody registered: %s, want %s", absent, want)
	}
	r := e.upload(t, tokClerkB, "regs.csv", []byte(regHeader+"乙,"+x+",360721,企业,1,2006-04-03\n"))
	var rep importer.Report
	if err := json.Unmarshal(r.Raw, &rep); err != nil || len(rep.Rejected) != 1 || rep.Duplicates != 0 {
		t.Fatalf("clerk B registering A's organisation code in its county: %s, want the row refused", r)
	}
	id := domain.EmployerIDForOrgCode(x)
	if reason := rep.Rejected[0].Reason; strings.Contains(reason, "秘密单位") || strings.Contains(reason, id) || strings.Contains(reason, "360702") {
		t.Errorf("clerk B registering A's organisation code learns about A's employer: %q", reason)
	}
	// A registration in a county not its own is refused naming the county's column.
	r = e.upload(t, tokClerkB, "regs.csv", []byte(regHeader+"丙,"+nobody+",360702,企业,1,2006-04-03\n"))
	if err := json.Unmarshal(r.Raw, &rep); err != nil || len(rep.Rejected) != 1 || rep.Rejected[0].Column != "所属区县" || rep.Rejected[0].Value != "360702" {
		t.Errorf("clerk B registering in 360702: %s, want the row refused in 所属区县 (360702)", r)
	}
	e.wantUnchanged(t, before)
}

// TestAMostlyRefusedImportListsItsFirstRejects: a file of 1,500 bad rows is answered with the
// first api.MaxRejectsListed of them and the count of all, not with every one (70,000 bad rows
// were a 10.5 MB answer), unless every one is asked for (rejects=all, as the command line asks
// to write its rejects file); a rejects of another value is refused; nothing is appended.
func TestAMostlyRefusedImportListsItsFirstRejects(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	for i := range 1500 {
		fmt.Fprintf(&b, "单位%d,%s,章贡区,企业,1,2006-04-31\n", i, orgCode(70000000+i)) // 31 April: every row refused
	}
	before := e.count()
	for _, tt := range []struct {
		path      string
		listed    int
		truncated bool
	}{
		{"/v1/imports", api.MaxRejectsListed, true},
		{"/v1/imports?rejects=all", 1500, false},
	} {
		r := e.uploadTo(t, tt.path, "", "registrations.csv", []byte(b.String()))
		var rep struct {
			Imported          int               `json:"imported"`
			Rejected          []json.RawMessage `json:"rejected"`
			RejectedTotal     int               `json:"rejected_total"`
			RejectedTruncated bool              `json:"rejected_truncated"`
		}
		if err := json.Unmarshal(r.Raw, &rep); err != nil || r.Status != http.StatusOK {
			t.Fatalf("%s: %d %.300s: %v", tt.path, r.Status, r.Raw, err)
		}
		if rep.Imported != 0 || len(rep.Rejected) != tt.listed || rep.RejectedTotal != 1500 || rep.RejectedTruncated != tt.truncated {
			t.Errorf("%s: imported %d, listed %d rejects of %d (truncated %v); want 0, %d of 1500, truncated %v",
				tt.path, rep.Imported, len(rep.Rejected), rep.RejectedTotal, rep.RejectedTruncated, tt.listed, tt.truncated)
		}
	}
	r := e.uploadTo(t, "/v1/imports?rejects=some", "", "registrations.csv", []byte(b.String()))
	if r.Status != http.StatusBadRequest || r.str("field") != "rejects" {
		t.Errorf("rejects=some: %d %s, want 400 naming rejects", r.Status, r)
	}
	e.wantUnchanged(t, before)
}

// An upload, and then its import, may take longer than the server's timeouts allow a request:
// the import is given time by its size. Here the server's timeouts have passed before the body
// is read and before the answer is written (a slow line, a large file), and the import still
// reads its file and is answered, as is a file refused once it has arrived.
func TestAnImportIsAnsweredPastTheServersReadAndWriteTimeouts(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	const rows = 300 // more than the server reads along with the headers
	for i := range rows {
		fmt.Fprintf(&b, "单位%d,%s,章贡区,企业,1,2006-04-03\n", i, orgCode(71000000+i))
	}
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: e.l.Store, Today: func() domain.Date { return today }}))
	// Idle connections are kept as api.HTTPServer keeps them: without IdleTimeout the server
	// would take ReadTimeout for it and drop the connection the client reuses for the second
	// upload (which, a POST, it does not send again).
	srv.Config.ReadHeaderTimeout, srv.Config.IdleTimeout = 10*time.Second, 10*time.Second
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = time.Nanosecond, time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)
	e.srv = srv
	before := e.count()
	r := e.upload(t, "", "registrations.csv", []byte(b.String()))
	var rep struct {
		Imported int `json:"imported"`
	}
	if err := json.Unmarshal(r.Raw, &rep); err != nil || r.Status != http.StatusOK || rep.Imported != rows {
		t.Fatalf("%d %.300s (%v): want all %d rows imported", r.Status, r.Raw, err, rows)
	}
	if got := e.count() - before; got < rows {
		t.Fatalf("%d messages appended for %d registrations", got, rows)
	}
	// A file refused once it has arrived is answered too.
	before = e.count()
	r = e.upload(t, "", "registrations.xlsx", []byte(strings.Repeat("not a zip ", 1000)))
	if r.Status != http.StatusBadRequest || !json.Valid(r.Raw) {
		t.Fatalf("an upload that is no xlsx: %d %.300s, want 400 and why", r.Status, r.Raw)
	}
	e.wantUnchanged(t, before)
}

// An upload is held to the pace its time is given by as it arrives, not only to what its
// declared length was given: one that declares 10 MB (two and a half minutes' worth) and then
// stops is cut once its first bytes' time is spent, and answered; nothing is imported.
func TestAnUploadThatStopsArrivingIsCutAtItsPaceNotItsDeclaredLength(t *testing.T) {
	defer api.SetUploadBase(300 * time.Millisecond)()
	e := newEnv(t)
	before := e.count()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	part := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\n单位名称,组织机构代码\r\n"
	fmt.Fprintf(conn, "POST /v1/imports HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 10000000\r\n\r\n%s",
		strings.TrimPrefix(e.srv.URL, "http://"), part)
	// The answer comes within a margin far below the 150 s the declared length would be given.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an upload that stopped arriving: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "did not arrive whole") {
		t.Fatalf("%d %s; want 400 saying the upload did not arrive whole", res.StatusCode, body)
	}
	e.wantUnchanged(t, before)
}

// uploadHolder starts uploads that declare a megabyte and stay arriving, each holding a turn:
// hold(token) starts one as the principal of token; answer is the answer one got, if any came
// within a moment (nil: still arriving).
type uploadHolder struct {
	t    *testing.T
	host string
}

func (u uploadHolder) hold(token string) net.Conn {
	conn, err := net.Dial("tcp", u.host)
	if err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { conn.Close() })
	part := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\n单位名称,组织机构代码\r\n"
	fmt.Fprintf(conn, "POST /v1/imports HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n%s", u.host, token, part)
	return conn
}

func (u uploadHolder) answer(conn net.Conn) *http.Response {
	_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	res.Body.Close()
	return res
}

// uploadersEnv serves the API with n clerks of 360702 (tokens up-0 …) and the test admin.
func uploadersEnv(t *testing.T, n int) (*env, uploadHolder) {
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{})}
	entries := []map[string]any{{"token": tokAdmin, "name": "adm", "role": "admin"}}
	for i := range n {
		entries = append(entries, map[string]any{"token": fmt.Sprintf("up-%d", i), "name": fmt.Sprintf("up%d", i), "role": "clerk", "counties": []string{"360702"}})
	}
	e.useTokens(entries)
	e.serve()
	return e, uploadHolder{t: t, host: strings.TrimPrefix(e.srv.URL, "http://")}
}

// A server takes at most api.MaxUploadsAtOnce imports, each from its upload's first byte: one
// more is answered 503 at once, naming the file and saying nothing was recorded, with a
// Retry-After; once one ends a file is taken again. Slow uploads hold no import's turn: with
// more of them arriving than imports run at once, a file that has arrived is imported.
func TestImportsBeyondTheMostAtOnceAreAnswered503AndTakenOnceOneEnds(t *testing.T) {
	// The uploads held below stay until the test ends; restored after the server has closed
	// (cleanups run last first), as its handlers read it.
	t.Cleanup(api.SetUploadBase(10 * time.Minute))
	e, u := uploadersEnv(t, api.MaxUploadsAtOnce)
	token := func(i int) string { return fmt.Sprintf("up-%d", i) }
	held := make([]net.Conn, api.MaxUploadsAtOnce)
	for i := range held {
		held[i] = u.hold(token(i)) // one each, under the most one principal may send
	}
	// Every slot is held once one more upload is refused: an upload held above that came after
	// a probe here took its slot was refused in its stead, and is started again.
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		for i, c := range held {
			if u.answer(c) != nil {
				c.Close()
				held[i] = u.hold(token(i))
			}
		}
		probe := u.hold(token(0))
		defer probe.Close()
		if res := u.answer(probe); res == nil || res.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("one more upload beside %d arriving: %v, want 503", len(held), res)
		}
		return nil
	})
	file := fmt.Sprintf("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲,%s,章贡区,企业,1,2006-04-03\n", orgCode(72000001))
	before := e.count()
	refused := e.upload(t, tokAdmin, "registrations.csv", []byte(file))
	if refused.Status != http.StatusServiceUnavailable {
		t.Fatalf("%d %.200s while %d uploads are arriving; want 503", refused.Status, refused.Raw, len(held))
	}
	var eb api.ErrorBody
	if err := json.Unmarshal(refused.Raw, &eb); err != nil || eb.Field != "file" || !strings.Contains(eb.Detail, "nothing of this file was read or recorded") ||
		refused.Header.Get("Retry-After") == "" {
		t.Fatalf("503 %s (Retry-After %q): want the file named, nothing recorded said, and a Retry-After", refused.Raw, refused.Header.Get("Retry-After"))
	}
	e.wantUnchanged(t, before)
	// One upload goes away: its slot is free again, and the file is imported while more uploads
	// are still arriving than imports run at once.
	held[0].Close()
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if r := e.upload(t, tokAdmin, "registrations.csv", []byte(file)); r.Status != http.StatusOK {
			return fmt.Errorf("%d %.200s after an upload went away; want 200", r.Status, r.Raw)
		}
		return nil
	})
	if got := e.count() - before; got != 1 {
		t.Fatalf("%d events appended for one registration", got)
	}
}

// One principal sends at most api.MaxUploadsEach files at once: one more of its own is answered
// 503 at once, saying so and that nothing was recorded, while another clerk's file is taken (a
// client sending a file again on a slow link holds its own turns, not every clerk's).
func TestAClerkSendingFilesAgainHoldsOnlyItsOwnTurns(t *testing.T) {
	t.Cleanup(api.SetUploadBase(10 * time.Minute))
	e, u := uploadersEnv(t, 2)
	held := make([]net.Conn, api.MaxUploadsEach)
	for i := range held {
		held[i] = u.hold("up-0")
	}
	// Both are under way once one more of up0's is refused: one held above that was answered
	// (a probe here took its turn first) is started again.
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		for i, c := range held {
			if u.answer(c) != nil {
				c.Close()
				held[i] = u.hold("up-0")
			}
		}
		probe := u.hold("up-0")
		defer probe.Close()
		if res := u.answer(probe); res == nil || res.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("one more upload of up0's beside %d arriving: %v, want 503", api.MaxUploadsEach, res)
		}
		return nil
	})
	file := fmt.Sprintf("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲,%s,章贡区,企业,1,2006-04-03\n", orgCode(72000002))
	before := e.count()
	r := e.upload(t, "up-0", "registrations.csv", []byte(file))
	var eb api.ErrorBody
	if err := json.Unmarshal(r.Raw, &eb); r.Status != http.StatusServiceUnavailable || err != nil || eb.Field != "file" ||
		!strings.Contains(eb.Detail, fmt.Sprintf("up0 is sending %d files already", api.MaxUploadsEach)) || !strings.Contains(eb.Detail, "nothing of this file was read or recorded") {
		t.Fatalf("up0's file while %d of its uploads arrive: %d %s; want 503 saying so", api.MaxUploadsEach, r.Status, r.Raw)
	}
	e.wantUnchanged(t, before)
	if r := e.upload(t, "up-1", "registrations.csv", []byte(file)); r.Status != http.StatusOK || e.count()-before != 1 {
		t.Fatalf("another clerk's file meanwhile: %d %.200s, %d events appended; want it imported", r.Status, r.Raw, e.count()-before)
	}
}

// TestAnImportAnswersTheSequenceOfItsRows: an import's answer gives the latest sequence of its
// rows' events (seq, and X-Ledger-Seq), which a read anywhere may wait for (min_seq) to see every
// row; the same file again, all duplicates, answers the same sequence; a file of refused rows none.
func TestAnImportAnswersTheSequenceOfItsRows(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	for i := range 5 {
		fmt.Fprintf(&b, "序号单位%d,%s,章贡区,企业,1,2006-04-03\n", i, orgCode(70100000+i))
	}
	first := e.upload(t, "", "registrations.csv", []byte(b.String()))
	seq := first.num("seq")
	if first.Status != http.StatusOK || seq == 0 || first.Header.Get("X-Ledger-Seq") != strconv.FormatInt(seq, 10) {
		t.Fatalf("import: %d, seq %d, X-Ledger-Seq %q: %s", first.Status, seq, first.Header.Get("X-Ledger-Seq"), first.Raw)
	}
	if last := e.count(); uint64(seq) != last {
		t.Errorf("the import answers sequence %d; its last row's event is at %d", seq, last)
	}
	again := e.upload(t, "", "registrations.csv", []byte(b.String()))
	if again.num("duplicates") != 5 || again.num("seq") != seq || again.Header.Get("X-Ledger-Seq") != strconv.FormatInt(seq, 10) {
		t.Errorf("the same file again: %s (X-Ledger-Seq %q); want 5 duplicates at sequence %d", again.Raw, again.Header.Get("X-Ledger-Seq"), seq)
	}
	refused := e.upload(t, "", "registrations.csv", []byte(strings.ReplaceAll(b.String(), "2006-04-03", "2006-04-31")))
	if refused.Status != http.StatusOK || strings.Contains(string(refused.Raw), `"seq"`) {
		t.Errorf("a file of refused rows: %d %s; want no seq", refused.Status, refused.Raw)
	}
}

// TestAnImportWhoseTimeRunsOutIsAnswered: an import cut at the time it is given is answered
// 503 naming the file, saying how many rows were recorded and that the same file imported again
// records the rest once; before, the connection's deadline, the same instant, cancelled the
// request and its answer: the client saw an empty reply and the server logged nothing.
func TestAnImportWhoseTimeRunsOutIsAnswered(t *testing.T) {
	t.Cleanup(api.SetImportTime(func(int) time.Duration { return 0 }))
	e := newEnv(t)
	file := fmt.Sprintf("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n单位甲,%s,章贡区,企业,1,2006-04-03\n", orgCode(72000002))
	before := e.count()
	r := e.upload(t, tokAdmin, "registrations.csv", []byte(file))
	var eb api.ErrorBody
	if err := json.Unmarshal(r.Raw, &eb); r.Status != http.StatusServiceUnavailable || err != nil || eb.Field != "file" ||
		!strings.Contains(eb.Detail, "ran out after 0 rows were recorded (and 0 found recorded already)") || !strings.Contains(eb.Detail, "importing the same file again records the rest once") {
		t.Fatalf("an import whose time ran out: %d %.300s; want 503 on the file saying what was recorded", r.Status, r.Raw)
	}
	e.wantUnchanged(t, before)
}
