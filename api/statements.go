package api

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// statementRoutes serves the statement (对账单) and the documents of single events.
func (s *Server) statementRoutes() {
	s.mux.HandleFunc("GET /v1/employers/{id}/statement.pdf", s.auth(s.getStatement))
	s.mux.HandleFunc("GET /v1/employers/{id}/events/{file}", s.auth(s.getEventDocument))
}

// getStatement is GET /v1/employers/{id}/statement.pdf?from=&to=[&through_seq=]: the statement
// for from through to of the employer's events recorded through through_seq (default: all),
// printed from the employer's history and the reference data at its sequence (readers of the
// employer; the access is checked before the query). Its sequence, which X-Ledger-Seq answers, is
// the employer's last event counted or a later change of reference data: a late-fee rate taking
// effect after a dormant payer's last event changes what it owes. The same sequence gives the
// same bytes.
func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.waitStore(r); err != nil {
		writeError(w, err)
		return
	}
	// Read before the employer's events: every event of it through this sequence is among them.
	known := s.cfg.Store.Applied()
	raw, through, err := s.historyThrough(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	from, err := requiredDate(q.Get("from"), "from")
	if err != nil {
		writeError(w, err)
		return
	}
	to, err := requiredDate(q.Get("to"), "to")
	if err != nil {
		writeError(w, err)
		return
	}
	// A statement stands on days that have happened: one to a later date would print late fees
	// the ledger cannot know yet, signed on a day to come.
	for _, d := range []struct {
		field string
		on    domain.Date
	}{{"from", from}, {"to", to}} {
		if err := domain.CheckHappened(d.field, d.on, s.cfg.Today()); err != nil {
			writeError(w, err)
			return
		}
	}
	if from > to {
		writeError(w, domain.Invalid("to", "%s is before from %s", to, from))
		return
	}
	refBound := known
	if through == 0 {
		through = math.MaxUint64
	} else {
		refBound = through // reached: every reference event through it is folded
	}
	var seq uint64 // the employer's last event through through_seq
	for _, ev := range raw {
		if ev.Seq <= through {
			seq = max(seq, ev.Seq)
		}
	}
	if seq == 0 {
		writeError(w, domain.NotFound("through_seq", "employer %s has no event recorded through sequence %d", id, through))
		return
	}
	seq = max(seq, s.cfg.Store.ReferenceSeq(refBound))
	ref, err := s.cfg.Store.ReferenceAt(r.Context(), seq)
	if err != nil {
		writeError(w, err)
		return
	}
	st := documents.StatementOf(id, raw, seq, from, to, ref)
	pdf, err := st.Render()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(seq, 10))
	writePDF(w, http.StatusOK, "", fmt.Sprintf("statement-%s-%s-%s.pdf", id, from, to), pdf)
}

// getEventDocument is GET /v1/employers/{id}/events/{event_id}.pdf[?through_seq=]: a payment's
// receipt (缴费凭证), or the note of a reversal, a void or a refund, printed from the employer's
// events through the event and the reference data then, and a later void of it among the events
// recorded through through_seq (default: all) (readers of the employer); other events print
// nothing (404), nor does an event recorded after through_seq.
func (s *Server) getEventDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	raw, through, err := s.historyThrough(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	eventID, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok {
		writeError(w, domain.NotFound("event_id", "%q: an event's document is read as {event_id}.pdf", r.PathValue("file")))
		return
	}
	i := slices.IndexFunc(raw, func(ev eventstore.RawEvent) bool { return ev.ID == eventID })
	if i < 0 {
		writeError(w, domain.NotFound("event_id", "employer %s has no event %s", id, eventID))
		return
	}
	if through != 0 {
		// As the statement does: the document as the events recorded through through_seq print
		// it (a payment's receipt then, before a later void of it).
		if raw[i].Seq > through {
			writeError(w, domain.NotFound("through_seq", "event %s was recorded at sequence %d, after %d", eventID, raw[i].Seq, through))
			return
		}
		if n := slices.IndexFunc(raw, func(ev eventstore.RawEvent) bool { return ev.Seq > through }); n >= 0 {
			raw = raw[:n] // in stream order: the event, recorded through it, stays at i
		}
	}
	ref, err := s.cfg.Store.ReferenceAt(r.Context(), raw[i].Seq)
	if err != nil {
		writeError(w, err)
		return
	}
	doc, ok := documents.EventDocumentOf(raw, i, ref)
	if !ok {
		writeError(w, domain.NotFound("event_id", "no printable document for %s", raw[i].Type))
		return
	}
	pdf, err := doc.Render()
	if err != nil {
		writeError(w, err)
		return
	}
	// The last event read: a void of the event after it prints on the document, and a reprint
	// through this sequence gives the same bytes.
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(raw[len(raw)-1].Seq, 10))
	writePDF(w, http.StatusOK, doc.ReceiptNo, eventID+".pdf", pdf)
}
