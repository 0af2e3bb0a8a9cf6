package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// serve --demo writes the demo ledger after its views started: /readyz says ready only once the
// views reflect all of it, so the first 200 names the stream's last sequence (nothing else
// writes), never a sequence the views were still folding towards.
func TestServeDemoIsReadyOnlyOnceTheViewsHoldTheWholeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes a demo ledger")
	}
	_, bin := buildBinary(t)
	s := launchServe(t, bin, nil, &http.Client{Timeout: 30 * time.Second}, "--demo", "--demo-employers", "3000", "--data", t.TempDir())
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var ready struct {
			Status string `json:"status"`
			Seq    uint64 `json:"seq"`
			Stream struct {
				LastSeq uint64 `json:"last_seq"`
			} `json:"stream"`
		}
		resp, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&ready)
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			if ready.Stream.LastSeq < 60000 || ready.Seq != ready.Stream.LastSeq {
				t.Fatalf("ready with the views at sequence %d; the demo ledger ends at %d", ready.Seq, ready.Stream.LastSeq)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200 (last: %+v, %v):\n%s", ready, err, s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
