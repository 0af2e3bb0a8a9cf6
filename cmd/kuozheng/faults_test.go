package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// registration is the body of a new employer's registration in 瑞金市, the i-th of a test.
func registration(i int) []byte {
	body := fmt.Sprintf("%08d", 70000000+i)
	c, _ := domain.OrgCodeCheck(body)
	return fmt.Appendf(nil, `{"name":"单位%d","county":"360781","org_code":"%s-%c","kind":"enterprise","risk_class":1,"registered_on":"2006-04-05"}`, i, body, c)
}

// postKeyed posts a JSON body with an Idempotency-Key and returns the status and body.
func postKeyed(t *testing.T, s *crashServer, path, key string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// A served ledger whose data folder's disk fills (a filler file leaves less than the default
// reserve free on a tmpfs) answers writes 503, not recorded, naming the folder, and still answers
// reads; once the filler is deleted the refused write, sent again with its key, is recorded once.
func TestServeAnswers503NamingTheFolderWhileItsDiskIsFullAndWritesOnWhenSpaceReturns(t *testing.T) {
	_, bin := buildBinary(t)
	mnt := storetest.MountTmpfs(t, "320m") // memory is taken only as it is written
	data := filepath.Join(mnt, "data")
	s := startCrashServer(t, bin, data)
	if code, body := postKeyed(t, s, "/v1/employers", "disk-0", registration(0)); code != http.StatusCreated {
		t.Fatalf("a write with the disk free: %d %s", code, body)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	free := int64(st.Bavail) * st.Bsize
	if err := os.WriteFile(filler, make([]byte, free-eventstore.DiskReserveDefault+(32<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := postKeyed(t, s, "/v1/employers", "disk-1", registration(1))
	var eb api.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || code != http.StatusServiceUnavailable || eb.Error != "unavailable" ||
		!strings.Contains(eb.Detail, "not recorded") || !strings.Contains(eb.Detail, "the disk of the data folder "+data+" is full") {
		t.Fatalf("a write with the disk full answered %d %s; want 503 unavailable, not recorded, naming %s", code, body, data)
	}
	var page struct {
		Total int `json:"total"`
	}
	s.getJSON(t, "/v1/employers?county=360781", &page)
	if page.Total != 1 {
		t.Fatalf("reads on a full disk: %d employers, want 1", page.Total)
	}
	// /readyz says the ledger takes no write, and why, until space returns.
	if seen := readyzUntil(t, s, http.StatusServiceUnavailable); seen.status != "disk full" || !strings.Contains(seen.reason, "the disk of the data folder "+data+" is full") {
		t.Fatalf("/readyz with the disk full: %d %q %q; want 503 disk full naming %s", seen.code, seen.status, seen.reason, data)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	readyzUntil(t, s, http.StatusOK)
	var res eventstore.Result
	code, body = postKeyed(t, s, "/v1/employers", "disk-1", registration(1))
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusCreated || res.Duplicate {
		t.Fatalf("the refused write sent again once space was freed: %d %s; want 201, recorded now", code, body)
	}
	s.getJSON(t, fmt.Sprintf("/v1/employers?county=360781&min_seq=%d", res.Seq), &page)
	if page.Total != 2 {
		t.Fatalf("after space was freed: %d employers, want 2", page.Total)
	}
}

// readyzUntil asks s's /readyz until it answers code (its checks are kept for a second), and
// returns that answer.
func readyzUntil(t *testing.T, s *crashServer, code int) readyzSeen {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := readyzOnce(s, s.client)
		if seen.code == code {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer %d within 30 s; the last answer: %d %q %q %v", code, seen.code, seen.status, seen.reason, seen.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// importForm is a multipart form with a registration file of n rows.
func importForm(t *testing.T, n int) (body []byte, contentType string) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n")
	for i := range n {
		body := fmt.Sprintf("%08d", 50000000+i)
		c, _ := domain.OrgCodeCheck(body)
		fmt.Fprintf(&csv, "单位%d,%s-%c,瑞金市,企业,1,2006-04-05\n", i, body, c)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", "registrations.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(fw, csv.String()); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// postImport posts an import form and returns the status and body, or the transport's error (a
// server that exited before it answered).
func postImport(s *crashServer, form []byte, contentType string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/imports", bytes.NewReader(form))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// metricValue reads one unlabelled metric from serve's /metrics.
func metricValue(s *crashServer, name string) (float64, error) {
	resp, err := s.client.Get(s.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}

// serve stopped with SIGTERM while an import runs finishes the commits in flight, waits for the
// import (up to its shutdown bound) and exits 0; the same file sent again to a new serve records
// each row it did not record before, so every row is in the ledger exactly once and every chain
// verifies.
func TestSIGTERMDuringAnImportExitsCleanlyAndTheImportSentAgainRecordsEveryRowOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 100,000 rows")
	}
	dir, bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	const rows = 100000 // two of the importer's batches: SIGTERM comes after the first
	form, contentType := importForm(t, rows)
	s := startCrashServer(t, bin, data)
	type answer struct {
		code int
		body []byte
		err  error
	}
	first := make(chan answer, 1)
	go func() {
		code, body, err := postImport(s, form, contentType)
		first <- answer{code, body, err}
	}()
	storetest.CheckFor(t, 3*time.Minute, 20*time.Millisecond, func() error {
		select {
		case a := <-first:
			t.Fatalf("the import ended before SIGTERM: %d %.500s %v", a.code, a.body, a.err)
		default:
		}
		done, err := metricValue(s, "kuozheng_import_rows_done_total")
		if err == nil && done == 0 {
			err = fmt.Errorf("no rows done yet")
		}
		return err
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not exit within 2 minutes of SIGTERM:\n%s", s.stderr)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(s.stderr.String(), "shutting down") || !strings.Contains(s.stderr.String(), "msg=stopped") {
		t.Fatalf("serve stopped by SIGTERM exited %d:\n%s", code, s.stderr)
	}
	a := <-first
	t.Logf("the import under SIGTERM answered %d %.200s (%v)", a.code, a.body, a.err)
	// Finished within the shutdown bound, or cut short when the store closed: its rest not
	// recorded, which the answer must say (never an internal error or an unknown outcome).
	if a.err == nil && a.code != http.StatusOK && a.code != http.StatusServiceUnavailable {
		t.Fatalf("the import under SIGTERM answered %d %s; want 200, or 503 for a rest not recorded", a.code, a.body)
	}

	s = startCrashServer(t, bin, data)
	code, body, err := postImport(s, form, contentType)
	var rep api.ImportAnswer
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("the import sent again: %d %.500s %v", code, body, err)
	}
	if rep.Imported+rep.Duplicates != rows || rep.RejectedTotal != 0 || rep.Duplicates == 0 {
		t.Fatalf("the import sent again recorded %d, found %d already there and rejected %d of %d rows", rep.Imported, rep.Duplicates, rep.RejectedTotal, rows)
	}
	t.Logf("sent again: %d recorded, %d already there", rep.Imported, rep.Duplicates)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-s.done

	wantOneEventPerRow(t, data, rows)
}
