package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
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
	args := []string{"import", file, "--data", data, "--today", "2006-12-31"}

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
