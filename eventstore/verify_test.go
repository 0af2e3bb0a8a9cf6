package eventstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestAnEventAlteredInTheStreamsFilesIsFoundByAWholeVerification: the store resumes from its
// snapshot and reads no event twice, so an event altered in the stream's files after it was folded
// goes unseen by the follower; VerifyWhole reads every chain again from the stream and names it.
func TestAnEventAlteredInTheStreamsFilesIsFoundByAWholeVerification(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{Dir: t.TempDir()})
	id := mustExecute(t, l.Store, register(orgCode(1), "360702")).EmployerID
	paid := mustExecute(t, l.Store, payment(id, "TAMPER-0001", 12345))
	mustExecute(t, l.Store, payment(id, "TAMPER-0002", 100))
	other := mustExecute(t, l.Store, register(orgCode(2), "360702")).EmployerID
	mustExecute(t, l.Store, payment(other, "INTACT-0001", 100))
	l.Stop()

	blocks, _ := filepath.Glob(filepath.Join(l.Dir, "jetstream", "jetstream", "*", "streams", "LEDGER", "msgs", "*.blk"))
	altered := false
	for _, blk := range blocks {
		b, err := os.ReadFile(blk)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte("TAMPER-0001")); i >= 0 {
			b[i+len("TAMPER-000")] = '9' // the receipt now reads TAMPER-0009
			if err := os.WriteFile(blk, b, 0o600); err != nil {
				t.Fatal(err)
			}
			altered = true
		}
	}
	if !altered {
		t.Fatalf("no block of %v holds the payment's receipt", blocks)
	}
	l.Restart(t)

	in, err := l.Store.VerifyWhole(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.OK || in.Unreadable != 1 || len(in.Breaks) != 1 || in.Breaks[0].EmployerID != id || in.Breaks[0].Seq != paid.Seq {
		t.Fatalf("verified whole: %+v; want employer %s broken at sequence %d only", in, id, paid.Seq)
	}
	if want := "the stream could not read this event back: its stored bytes are damaged"; in.Breaks[0].Reason != want {
		t.Errorf("the break's reason %q, want %q", in.Breaks[0].Reason, want)
	}
}
