package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go"
)

// Forge appends to employer id's subject, behind the store's back (a forger, another build), the
// employer's last event again as the next one of its chain, edited by edit (which may change any
// key, and returns false to leave the chain hash its predecessor's rather than its own), and
// returns its sequence.
func Forge(t testing.TB, st *eventstore.Store, nc *nats.Conn, id string, edit func(env map[string]any) (ownHash bool)) uint64 {
	t.Helper()
	h, err := st.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	var env map[string]any
	if err := json.Unmarshal(last.Data, &env); err != nil {
		t.Fatal(err)
	}
	env["n"], env["prev_hash"] = last.N+1, last.Hash
	delete(env, "prev_seq")
	hash := last.Hash
	own := edit(env)
	data, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if own {
		hash = domain.ChainHash(last.Hash, data)
	}
	m := nats.NewMsg(eventstore.EmployerPrefix + id)
	m.Data = data
	m.Header.Set(eventstore.HashHeader, hash)
	ack, err := nc.RequestMsg(m, 30*time.Second)
	if err != nil {
		t.Fatalf("forged publish: %v", err)
	}
	var pa struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(ack.Data, &pa); err != nil || pa.Seq == 0 {
		t.Fatalf("forged publish answered %q: %v", ack.Data, err)
	}
	return pa.Seq
}
