package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// PostgresEnv names the variable holding the PostgreSQL server's connection URL for the
// comparison benchmarks; scripts/bench.sh --vs-postgres starts a server and sets it.
const PostgresEnv = "KUOZHENG_BENCH_POSTGRES"

// The event table a team would otherwise pick: one row per event, the employer's version unique,
// the idempotency key unique, the event as the ledger stores it (the same bytes) with the hash
// that chains it to the employer's event before, which a history read checks.
const postgresTable = `
CREATE TABLE %[1]s (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	employer_id uuid,
	version     bigint NOT NULL,
	idem_key    text UNIQUE,
	type        text NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	payload     bytea NOT NULL,
	hash        text NOT NULL,
	UNIQUE (employer_id, version)
)`

// Postgres connects to the server named by PostgresEnv and makes a fresh event table named
// table. Without the variable the benchmark is skipped, saying how to run it. lazy turns off
// synchronous commit on every connection: PostgreSQL's own acknowledge-before-sync.
func Postgres(tb testing.TB, table string, lazy bool) *pgxpool.Pool {
	tb.Helper()
	pool := PostgresPool(tb, lazy)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(postgresTable, table)); err != nil {
		tb.Fatal(err)
	}
	return pool
}

// PostgresLoaded returns a pool and an event table holding every event of st, reusing the
// table when it already holds as many rows as the stream, since loading a million rows takes a
// while and is not what is measured.
func PostgresLoaded(tb testing.TB, table string, st *eventstore.Store) *pgxpool.Pool {
	tb.Helper()
	pool := PostgresPool(tb, false)
	ctx := context.Background()
	last, err := st.LastSeq(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var n uint64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err == nil && n == last {
		return pool
	}
	pool = Postgres(tb, table, false)
	next, stop := EventRows(tb, st)
	defer stop()
	start := time.Now()
	PostgresCopy(tb, pool, table, 10000, next)
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("copied %d events into PostgreSQL table %s in %v", last, table, time.Since(start).Round(time.Second))
	return pool
}

// PostgresPool connects to the server named by PostgresEnv, skipping the benchmark without it.
func PostgresPool(tb testing.TB, lazy bool) *pgxpool.Pool {
	tb.Helper()
	url := os.Getenv(PostgresEnv)
	if url == "" {
		tb.Skipf("%s is not set: scripts/bench.sh --vs-postgres starts a PostgreSQL server for this comparison", PostgresEnv)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	// A sensible pool for 64 writers on 2 cores: more connections only wait on each other.
	cfg.MaxConns = 16
	if lazy {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// PGEvent is one row of the PostgreSQL event table.
type PGEvent struct {
	EmployerID string // "" for reference data
	Version    int64
	IdemKey    string
	Type       string
	RecordedAt time.Time
	Payload    []byte // the event's bytes, as the stream holds them
	Hash       string // the chain hash, as the ledger's header holds it
}

func (e PGEvent) values() []any {
	var emp, key any
	if e.EmployerID != "" {
		emp = [16]byte(uuid.MustParse(e.EmployerID))
	}
	if e.IdemKey != "" {
		key = e.IdemKey
	}
	return []any{emp, e.Version, key, e.Type, e.RecordedAt, e.Payload, e.Hash}
}

// PostgresCopy appends the events next yields with COPY, the fastest bulk path PostgreSQL has,
// committing every batch rows; it returns how many it appended.
func PostgresCopy(tb testing.TB, pool *pgxpool.Pool, table string, batch int, next func() (PGEvent, bool)) int {
	tb.Helper()
	ctx := context.Background()
	total := 0
	for more := true; more; {
		n := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if n == batch {
				return nil, nil
			}
			e, ok := next()
			if !ok {
				more = false
				return nil, nil
			}
			n++
			return e.values(), nil
		})
		tx, err := pool.Begin(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, []string{"employer_id", "version", "idem_key", "type", "recorded_at", "payload", "hash"}, src); err != nil {
			tb.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			tb.Fatal(err)
		}
		total += n
	}
	return total
}

// EventRows reads a store's stream from the start through its last sequence, as rows of the
// PostgreSQL table holding the same bytes; next returns false after the last.
func EventRows(tb testing.TB, st *eventstore.Store) (next func() (PGEvent, bool), stop func()) {
	tb.Helper()
	ctx := context.Background()
	last, err := st.LastSeq(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	it := orderedMessages(tb, st, "")
	done := last == 0
	next = func() (PGEvent, bool) {
		if done {
			return PGEvent{}, false
		}
		msg, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			tb.Fatal(err)
		}
		done = meta.Sequence.Stream >= last
		ev, err := domain.Decode(msg.Data())
		if err != nil {
			tb.Fatalf("event %d: %v", meta.Sequence.Stream, err)
		}
		id, _ := strings.CutPrefix(msg.Subject(), eventstore.EmployerPrefix)
		if id == msg.Subject() {
			id = ""
		}
		return PGEvent{EmployerID: id, Version: int64(ev.N), IdemKey: ev.IdemKey, Type: ev.Type,
			RecordedAt: meta.Timestamp, Payload: bytes.Clone(msg.Data()), Hash: msg.Headers().Get(eventstore.HashHeader)}, true
	}
	return next, it.Stop
}

// PostgresChain appends events to an event table made by Postgres as the ledger appends
// commands: each employer's one at a time (an in-process lock), chained to the employer's head
// (version, hash) kept beside the lock as the ledger's cache keeps its state, one INSERT each.
type PostgresChain struct {
	pool   *pgxpool.Pool
	insert string
	ids    [][16]byte
	heads  []chainHead
}

type chainHead struct {
	mu      sync.Mutex
	version int64
	hash    string
}

// NewPostgresChain appends to table for the employers ids, none of which has an event yet.
func NewPostgresChain(pool *pgxpool.Pool, table string, ids []string) *PostgresChain {
	c := &PostgresChain{pool: pool, heads: make([]chainHead, len(ids)),
		insert: "INSERT INTO " + table + " (employer_id, version, type, payload, hash) VALUES ($1, $2, $3, $4, $5)"}
	for _, id := range ids {
		c.ids = append(c.ids, [16]byte(uuid.MustParse(id)))
	}
	return c
}

// Append appends an event of type typ, stored as data, to the k-th employer.
func (c *PostgresChain) Append(k int, typ string, data []byte) error {
	h := &c.heads[k]
	h.mu.Lock()
	defer h.mu.Unlock()
	hash := domain.ChainHash(h.hash, data)
	if _, err := c.pool.Exec(context.Background(), c.insert, c.ids[k], h.version+1, typ, data, hash); err != nil {
		return err
	}
	h.version, h.hash = h.version+1, hash
	return nil
}
