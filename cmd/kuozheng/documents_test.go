package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// seedArrears registers n employers of 360702 in the data folder dir, each with 1,000.00 yuan of
// pension arrears of 2006-03 carried over.
func seedArrears(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer led.close()
	today := domain.MustDate("2006-12-31")
	for i := range n {
		res, err := led.store.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "test", Command: &domain.RegisterEmployer{
			Name: fmt.Sprintf("赣州欠费%d厂", i+1), County: "360702", OrgCode: domain.NumberedOrgCode(73000001 + i), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := led.store.Execute(ctx, eventstore.Request{EmployerID: res.EmployerID, Today: today, Actor: "test", Command: &domain.RecordOpeningBalance{
			AsOf: "2006-04-03", Lines: []domain.OpeningInput{{Period: "2006-03", Insurance: "pension", OutstandingFen: "100000"}}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDocumentsNoticesWritesTheCountysZip issues a county's notices on a demo data folder with
// 'kuozheng documents notices' and checks the zip: PDFs numbered from -0001 in order, each
// listed in manifest.csv with its SHA-256; a retry with the same --idempotency-key writes the same
// bytes; missing or bad flags are usage errors naming the flag.
func TestDocumentsNoticesWritesTheCountysZip(t *testing.T) {
	dir := t.TempDir()
	seedArrears(t, dir, 3)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--issued-on", "2006-12-31", "--deadline", "2007-01-15", "--overdue-days", "30"}, "--county"},
		{[]string{"--county", "360702", "--issued-on", "2006-12-31", "--deadline", "2007-01-15"}, "--overdue-days"},
		{[]string{"--county", "360702", "--issued-on", "2006-12-32", "--deadline", "2007-01-15", "--overdue-days", "30"}, "--issued-on"},
		{[]string{"--county", "360702", "--issued-on", "2006-12-31", "--overdue-days", "30"}, "--deadline"},
	} {
		if code, _, errOut := runCmd(append([]string{"documents", "notices", "--data", dir}, tt.args...)...); code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, %q; want 2 naming %s", tt.args, code, errOut, tt.want)
		}
	}
	out := filepath.Join(dir, "notices.zip")
	args := []string{"documents", "notices", "--data", dir, "--county", "360702", "--issued-on", "2006-12-31", "--deadline", "2007-01-15",
		"--overdue-days", "30", "--idempotency-key", "cli-batch", "--out", out}
	code, _, errOut := runCmd(args...)
	if code != 0 {
		t.Fatalf("documents notices: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "notices issued") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for i, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		if i < len(zr.File)-1 {
			if want := domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), i+1) + ".pdf"; f.Name != want || !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Errorf("file %d: %q, want the PDF %s", i, f.Name, want)
			}
		}
	}
	manifest, bom := bytes.CutPrefix(files["manifest.csv"], []byte("\ufeff"))
	if !bom {
		t.Errorf("manifest.csv begins without a byte-order mark (Excel would garble its names)")
	}
	rows, err := csv.NewReader(bytes.NewReader(manifest)).ReadAll()
	if err != nil || len(rows) != len(zr.File) || len(rows) != 4 {
		t.Fatalf("manifest.csv: %v, %d rows for %d files", err, len(rows), len(zr.File))
	}
	for _, row := range rows[1:] {
		sum := sha256.Sum256(files[row[0]+".pdf"])
		if row[5] != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest: %s has SHA-256 %s, its PDF %x", row[0], row[5], sum)
		}
	}
	// The retry into the same --out is refused (the zip there may be the only copy of notices
	// issued); into another, it writes the same bytes.
	if code, _, errOut := runCmd(args...); code != 1 || !strings.Contains(errOut, "--out "+out+" exists") {
		t.Errorf("a retry into the zip written: exit %d: %s; want 1 saying --out exists", code, errOut)
	}
	out2 := filepath.Join(dir, "again.zip")
	if code, _, errOut := runCmd(append(args[:len(args)-1:len(args)-1], out2)...); code != 0 {
		t.Fatalf("the retry: exit %d: %s", code, errOut)
	}
	if again, _ := os.ReadFile(out2); !bytes.Equal(again, first) {
		t.Errorf("the retry with the same key wrote %d other bytes, want the %d first written", len(again), len(first))
	}
}

// TestDocumentsGoWhereTheyCanBeWrittenOrNoneIsIssued: a notice is issued once (one a day), so
// --out is checked before any is: a folder that is not there, or a file that exists (a run before
// wrote it), fails the command with nothing issued, and the same command to a good --out then
// issues every notice; run again it answers the same notices. A terminal is no place for a PDF.
func TestDocumentsGoWhereTheyCanBeWrittenOrNoneIsIssued(t *testing.T) {
	dir := t.TempDir()
	seedArrears(t, dir, 2)
	held := filepath.Join(dir, "held.zip")
	if err := os.WriteFile(held, []byte("an earlier run's zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	notices := func(out string) (int, string) {
		code, _, errOut := runCmd("documents", "notices", "--data", dir, "--county", "360702", "--issued-on", "2006-12-31", "--deadline", "2007-01-15",
			"--overdue-days", "30", "--today", "2006-12-31", "--out", out)
		return code, errOut
	}
	for _, tt := range []struct{ name, out, want string }{
		{"a folder that is not there", filepath.Join(dir, "nodir", "z.zip"), "folder " + filepath.Join(dir, "nodir")},
		{"a file that exists", held, "exists"},
	} {
		if code, errOut := notices(tt.out); code != 1 || !strings.Contains(errOut, "--out "+tt.out) || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "issued") {
			t.Errorf("%s: exit %d: %q; want 1 naming --out and %q, nothing issued", tt.name, code, errOut, tt.want)
		}
	}
	if b, _ := os.ReadFile(held); string(b) != "an earlier run's zip" {
		t.Errorf("the file that was there now holds %q", b)
	}
	out := filepath.Join(dir, "z.zip")
	if code, errOut := notices(out); code != 0 || !strings.Contains(errOut, "2 notices issued") {
		t.Errorf("to a good --out: exit %d: %q; want 2 notices issued (none was issued by the refused runs)", code, errOut)
	}
	// The same command again (its zip lost, or a batch cut by Ctrl-C) answers the same notices:
	// its own arguments make its key.
	again := filepath.Join(dir, "again.zip")
	if code, errOut := notices(again); code != 0 {
		t.Errorf("the same command again: exit %d: %q", code, errOut)
	}
	first, _ := os.ReadFile(out)
	if second, _ := os.ReadFile(again); len(first) == 0 || !bytes.Equal(first, second) {
		t.Errorf("the same command again wrote %d bytes, other than the %d of the first run", len(second), len(first))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}
