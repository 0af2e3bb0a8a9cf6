package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// benchLoad runs mixed writes and reads from many clients with deliberate contention on a few
// employers, then checks that the money the ledger holds equals the money its events record.
func benchLoad(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench load", flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "a running kuozheng server (no tokens)")
	clients := fs.Int("clients", 64, "concurrent clients")
	employers := fs.Int("employers", 16, "employers the clients share (fewer means more contention)")
	seconds := fs.Float64("seconds", 60, "how long to run")
	if _, err := parse(fs, args, stdout); err != nil {
		return err
	}
	base := strings.TrimRight(*server, "/")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}, Timeout: 30 * time.Second}
	do := func(method, path, body string, out any) (int, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode/100 == 2 {
			_ = json.Unmarshal(b, out)
		}
		return resp.StatusCode, nil
	}
	run := time.Now().UnixNano()
	ids := make([]string, *employers)
	for i := range ids {
		code := domain.NumberedOrgCode(80000000 + int(run/1e6%100000)*64 + i)
		ids[i] = domain.EmployerIDForOrgCode(code)
		if st, err := do("POST", "/v1/employers", fmt.Sprintf(`{"name":"load %d","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, i, code), nil); err != nil || (st != 201 && st != 409) {
			return fmt.Errorf("register: %d %v", st, err)
		}
		if st, err := do("POST", "/v1/employers/"+ids[i]+"/declarations", `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`, nil); err != nil || st != 201 {
			return fmt.Errorf("declare: %d %v", st, err)
		}
	}
	var writes, reads, fivexx, other atomic.Int64
	var sent atomic.Int64 // fen acknowledged
	codes := sync.Map{}
	stop := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for w := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(run), uint64(w)))
			for k := 0; time.Now().Before(stop); k++ {
				id := ids[rng.IntN(len(ids))]
				var st int
				var err error
				if rng.IntN(10) < 7 {
					amount := 1 + rng.IntN(10000)
					st, err = do("POST", "/v1/employers/"+id+"/payments", fmt.Sprintf(`{"paid_on":"2006-06-%02d","amount_fen":%d,"receipt_no":"L%d-%d-%d"}`, 1+rng.IntN(28), amount, run, w, k), nil)
					if err == nil && st == 201 {
						writes.Add(1)
						sent.Add(int64(amount))
					}
				} else {
					path := []string{"/v1/counties", "/v1/employers/" + id, "/v1/employers/" + id + "/history", "/v1/targets", "/v1/groups/1"}[rng.IntN(5)]
					st, err = do("GET", path, "", nil)
					if err == nil && st == 200 {
						reads.Add(1)
					}
				}
				if err != nil {
					other.Add(1)
					continue
				}
				if st >= 500 {
					fivexx.Add(1)
				}
				if st != 200 && st != 201 {
					n, _ := codes.LoadOrStore(st, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				}
			}
		}()
	}
	wg.Wait()
	// The ledger's money for these employers, from its state and from its events.
	var held, recorded int64
	for _, id := range ids {
		var st struct {
			Lines []struct {
				PaidFen        int64 `json:"paid_fen"`
				LateFeePaidFen int64 `json:"late_fee_paid_fen"`
			} `json:"lines"`
			Totals struct {
				CreditFen int64 `json:"credit_fen"`
			} `json:"totals"`
		}
		if s, err := do("GET", "/v1/employers/"+id+"?as_of=2006-12-31", "", &st); err != nil || s != 200 {
			return fmt.Errorf("read employer %s: %d %v", id, s, err)
		}
		for _, l := range st.Lines {
			held += l.PaidFen + l.LateFeePaidFen
		}
		held += st.Totals.CreditFen
		var h struct {
			Events []struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			} `json:"events"`
		}
		if s, err := do("GET", "/v1/employers/"+id+"/history?as_of=2006-12-31", "", &h); err != nil || s != 200 {
			return fmt.Errorf("read history %s: %d %v", id, s, err)
		}
		for _, ev := range h.Events {
			if ev.Type == "payment.received" {
				var p struct {
					AmountFen int64 `json:"amount_fen"`
				}
				_ = json.Unmarshal(ev.Payload, &p)
				recorded += p.AmountFen
			}
		}
	}
	emit(stdout, "load/writes", float64(writes.Load()) / *seconds, "commands/s")
	emit(stdout, "load/reads", float64(reads.Load()) / *seconds, "reads/s")
	emit(stdout, "load/5xx", float64(fivexx.Load()), "answers")
	codes.Range(func(k, v any) bool {
		emit(stdout, fmt.Sprintf("load/status-%d", k), float64(v.(*atomic.Int64).Load()), "answers")
		return true
	})
	fmt.Fprintf(stdout, "acknowledged payments %d fen; recorded in events %d fen; held in the ledger's state %d fen\n", sent.Load(), recorded, held)
	switch {
	case fivexx.Load() > 0:
		return fmt.Errorf("%d answers were 5xx", fivexx.Load())
	case other.Load() > 0:
		return fmt.Errorf("%d requests failed in transport", other.Load())
	case recorded != held:
		return fmt.Errorf("the ledger holds %d fen but its events record %d", held, recorded)
	case recorded < sent.Load():
		return fmt.Errorf("acknowledged %d fen but only %d are recorded", sent.Load(), recorded)
	}
	return nil
}
