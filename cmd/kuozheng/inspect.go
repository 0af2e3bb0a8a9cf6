package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

func history(args []string, stdout, stderr io.Writer) error {
	fs, sf, rm := command("history", "Usage: kuozheng history EMPLOYER [options]\n\nPrints an employer's events in order, with hashes and whether the chain holds.", stdout)
	through := fs.Uint64("through-seq", 0, "only events up to this stream sequence (what the ledger knew then)")
	asOf := fs.String("as-of", "", "only events dated on or before this business date")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"history needs exactly one EMPLOYER id"}
	}
	if err := localOnly(fs); err != nil {
		return err
	}
	d, err := parseDateFlag("as-of", *asOf)
	if err != nil {
		return err
	}
	// As over HTTP, where through_seq=0 is refused: 0 is no sequence of the ledger's.
	if flagSet(fs, "through-seq") && *through == 0 {
		return usageError{"--through-seq 0: sequences start at 1 (leave it out for the whole history)"}
	}
	ctx := context.Background()
	var h projections.History
	if local(fs) {
		led, err := openLedger(ctx, *sf, newLogger(io.Discard))
		if err != nil {
			return err
		}
		defer led.close()
		if _, ok := led.store.Employer(pos[0]); !ok {
			return fmt.Errorf("no employer %s in the ledger", pos[0])
		}
		// As over HTTP: a history through a sequence not yet reached would change as it grows.
		if last, err := led.store.LastSeq(ctx); err == nil && *through > last {
			return fmt.Errorf("--through-seq %d is past the ledger's last sequence, %d", *through, last)
		}
		raw, err := led.store.History(ctx, pos[0])
		if err != nil {
			return err
		}
		if d == 0 {
			d = todayInShanghai()
		}
		// As over HTTP: through a sequence, the late-fee rates and county codes known then.
		ref := led.store.Reference()
		if *through != 0 {
			if ref, err = led.store.ReferenceAt(ctx, *through); err != nil {
				return err
			}
		}
		h = projections.BuildHistory(pos[0], raw, *through, d, ref)
	} else {
		q := url.Values{}
		if *through > 0 {
			q.Set("through_seq", fmt.Sprint(*through))
		}
		if d != 0 {
			q.Set("as_of", d.String())
		}
		if err := rm.get(ctx, "/v1/employers/"+url.PathEscape(pos[0])+"/history?"+q.Encode(), &h); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(h)
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "employer %s  version %d  as of %s  chain_ok %v\n", h.EmployerID, h.Version, h.AsOf, h.ChainOK)
	fmt.Fprintln(tw, "SEQ\tRECORDED\tOCCURRED\tTYPE\tACTOR\tDUE\tPAID\tOUTSTANDING\tLATE FEE\tCREDIT\tHASH\tCHAIN")
	voidedBy := map[uint64]uint64{}
	for _, v := range h.Voided {
		voidedBy[v.EventSeq] = v.VoidSeq
	}
	for _, e := range h.Events {
		b := e.Balances
		typ := e.Type
		if v, ok := voidedBy[e.Seq]; ok {
			typ += fmt.Sprintf(" (voided by %d)", v)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\n", e.Seq, domain.InChina(e.RecordedAt).Format("2006-01-02 15:04:05 MST"), e.OccurredOn, typ, e.Actor,
			b.DueFen, b.PaidFen, b.OutstandingFen, b.LateFeeFen, b.CreditFen, short(e.Hash), e.ChainOK)
	}
	b := h.Balances
	fmt.Fprintf(tw, "as of %s\t\t\t\t\t%s\t%s\t%s\t%s\t%s\t\t\n", h.AsOf, b.DueFen, b.PaidFen, b.OutstandingFen, b.LateFeeFen, b.CreditFen)
	if err := tw.Flush(); err != nil {
		return err
	}
	if !h.ChainOK {
		return fmt.Errorf("employer %s: hash chain broken", h.EmployerID)
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func verify(args []string, stdout, stderr io.Writer) error {
	fs, sf, rm := command("verify", "Usage: kuozheng verify [EMPLOYER] [options]\n\nChecks every employer's SHA-256 hash chain and sequence links, the stream's lost and deleted\ncounters, and that the views, run from their snapshot, equal a rebuild from sequence 1. Exits 1\nnaming the employer and sequence of each break. With EMPLOYER, only that employer's breaks fail\nit (and an employer the ledger does not hold).", stdout)
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError{"verify takes at most one EMPLOYER id"}
	}
	if err := localOnly(fs); err != nil {
		return err
	}
	ctx := context.Background()
	var in api.Verification
	if local(fs) {
		led, err := openLedger(ctx, *sf, newLogger(io.Discard))
		if err != nil {
			return err
		}
		defer led.close()
		if len(pos) == 1 && led.store.EventCount(pos[0]) == 0 {
			return fmt.Errorf("no employer %s in the ledger", pos[0])
		}
		if in.Integrity, err = led.store.VerifyWhole(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "rebuilding every view from sequence 1 to compare with the live ones…")
		vc, err := verifyViews(ctx, led)
		if err != nil {
			return err
		}
		in.Views, in.OK = &vc, in.OK && vc.OK
	} else {
		if len(pos) == 1 {
			// A filter that matches nothing would say ok of an employer the ledger never held.
			var e struct{}
			if err := rm.get(ctx, "/v1/employers/"+url.PathEscape(pos[0]), &e); err != nil {
				return fmt.Errorf("employer %s: %w", pos[0], err)
			}
		}
		if err := rm.get(ctx, "/v1/verify", &in); err != nil {
			return err
		}
	}
	failed := !in.OK
	fmt.Fprintf(stdout, "stream: last sequence %d, %d messages, %d deleted, %d lost; %d employers\n", in.LastSeq, in.Messages, in.Deleted, in.Lost, in.Employers)
	if in.LostTail != "" {
		fmt.Fprintf(stdout, "LOST: %s (the end of its last block file cut short?)\n", in.LostTail)
	}
	if in.Unreadable > 0 {
		fmt.Fprintf(stdout, "DAMAGED: the stream could not read back %d of its messages%s\n", in.Unreadable, seqList(in.UnreadableAt, in.Unreadable))
	}
	if in.StoreDamaged > 0 {
		fmt.Fprintf(stdout, "DAMAGED: %d reads of the store's files (its history archive, its idempotency index) found them damaged; stop the server and remove the data folder's store/ (store-<code>/ for a city other than Ganzhou) to make them again\n", in.StoreDamaged)
	}
	for _, b := range in.Breaks {
		if len(pos) == 1 && b.EmployerID != pos[0] {
			continue
		}
		fmt.Fprintf(stdout, "BROKEN employer %s at sequence %d: %s\n", b.EmployerID, b.Seq, b.Reason)
	}
	if len(pos) == 1 {
		failed = in.Deleted > 0 || in.Lost > 0
		for _, b := range in.Breaks {
			failed = failed || b.EmployerID == pos[0]
		}
	}
	if in.Views != nil {
		for _, d := range in.Views.Differences {
			fmt.Fprintf(stdout, "VIEWS differ from a rebuild at sequence %d: %s\n", in.Views.Seq, d)
		}
		failed = failed || !in.Views.OK
	}
	if failed {
		return fmt.Errorf("verification failed")
	}
	if len(pos) == 1 {
		fmt.Fprintf(stdout, "ok: employer %s: its hash chain and sequence links hold\n", pos[0])
	} else {
		fmt.Fprintln(stdout, "ok: every hash chain and sequence link holds")
	}
	if in.Views != nil {
		fmt.Fprintf(stdout, "ok: the views at sequence %d equal a rebuild from sequence 1\n", in.Views.Seq)
	}
	return nil
}

// verifyViews runs the views on an open ledger (from their snapshot, if any) until they catch up,
// then compares them with a rebuild from sequence 1.
func verifyViews(ctx context.Context, led *ledger) (projections.ViewCheck, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runner := projections.NewRunner(led.store, projections.RunnerConfig{})
	if err := runner.Start(ctx); err != nil {
		return projections.ViewCheck{}, err
	}
	head := led.store.Applied()
	if err := runner.WaitSeq(ctx, head); err != nil {
		return projections.ViewCheck{}, err
	}
	vc, err := runner.VerifyRebuild(ctx, todayInShanghai())
	cancel()
	runner.Wait()
	if d := runner.Damage(); d != "" {
		vc.OK = false
		vc.Differences = append(vc.Differences, d)
	}
	return vc, err
}

// seqList names sequences, the first of n: " (at sequence 12, 40 and 3 more)", or "" for none
// named (a server that does not name them).
func seqList(seqs []uint64, n int) string {
	if len(seqs) == 0 {
		return ""
	}
	parts := make([]string, len(seqs))
	for i, q := range seqs {
		parts[i] = strconv.FormatUint(q, 10)
	}
	list := strings.Join(parts, ", ")
	if more := n - len(seqs); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return " (at sequence " + list + ")"
}
