package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestReadyzFollowsTheNATSConnection: a replica whose NATS server is gone answers /readyz 503
// with the reason and logs the loss; when the server is back it logs that, answers 200 again and
// takes writes. Its --metrics-listen port serves /metrics without a token.
func TestReadyzFollowsTheNATSConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a NATS server beside it")
	}
	dir, bin := buildBinary(t)
	natsAddr := freeAddr(t)
	natsCfg := eventstore.EmbeddedConfig{Dir: filepath.Join(dir, "nats"), Listen: natsAddr, User: "kz", Password: "a-long-enough-password"}
	emb, err := eventstore.StartEmbedded(natsCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })

	stderr := &storetest.SyncBuffer{}
	cmd := exec.Command(bin, "serve", "--nats", "nats://kz:a-long-enough-password@"+natsAddr, "--listen", "127.0.0.1:0", "--today", "2006-12-31",
		"--metrics-listen", "127.0.0.1:0")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	})
	base := loggedURL(t, stderr, done, "kuozheng serving")
	metricsURL := loggedURL(t, stderr, done, "metrics for scrapers")
	client := &http.Client{Timeout: 10 * time.Second}
	readyz := func() (int, map[string]any, error) {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var body map[string]any
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode, body, nil
	}
	want := func(status int, logLine string) map[string]any {
		t.Helper()
		var body map[string]any
		storetest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
			select {
			case <-done:
				t.Fatalf("serve exited: %s", stderr)
			default:
			}
			code, b, err := readyz()
			if err != nil {
				return err
			}
			if code != status {
				return fmt.Errorf("/readyz %d %v, want %d", code, b, status)
			}
			if logLine != "" && !strings.Contains(stderr.String(), logLine) {
				return fmt.Errorf("the log does not say %q yet:\n%s", logLine, stderr)
			}
			body = b
			return nil
		})
		return body
	}
	want(http.StatusOK, "")
	// A scraper reads /metrics on its own port without a token.
	if resp, err := client.Get(metricsURL); err != nil {
		t.Error(err)
	} else {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "kuozheng_") {
			t.Errorf("--metrics-listen: %d %.200s", resp.StatusCode, raw)
		}
	}

	emb.Close()
	down := want(http.StatusServiceUnavailable, "NATS connection lost")
	if down["status"] != "disconnected" || !strings.Contains(fmt.Sprint(down["reason"]), "NATS") {
		t.Errorf("/readyz with NATS gone: %v, want status disconnected and the reason", down)
	}

	// Its port was free while it was down, and another test's listener may hold it a while.
	storetest.CheckFor(t, time.Minute, 500*time.Millisecond, func() error {
		emb, err = eventstore.StartEmbedded(natsCfg, nil)
		return err
	})
	want(http.StatusOK, "NATS connection back")
	resp, err := client.Post(base+"/v1/employers", "application/json", strings.NewReader(
		`{"name":"重连后单位","county":"360702","org_code":"10000004-0","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("a write after NATS came back: %d %s", resp.StatusCode, raw)
	}
}
