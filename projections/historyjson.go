package projections

import (
	"errors"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	fastjson "github.com/segmentio/encoding/json"
)

// The history answer writes its own JSON, byte for byte what encoding/json (with HTML escaping off) writes
// for a History: a ten-year history is a few hundred events, and encoding them by reflection was
// a quarter of its time and much of its garbage. Its rows are appended as its events are read.

// AppendHead appends h's JSON up to its events' value.
func (h History) AppendHead(b []byte) ([]byte, error) {
	b = append(b, `{"employer_id":`...)
	b = appendString(b, h.EmployerID)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, h.Version, 10)
	b = append(b, `,"as_of":`...)
	b, err := appendDate(b, h.AsOf)
	if err != nil {
		return nil, err
	}
	if h.ThroughSeq != 0 {
		b = append(b, `,"through_seq":`...)
		b = strconv.AppendUint(b, h.ThroughSeq, 10)
	}
	b = append(b, `,"chain_ok":`...)
	b = strconv.AppendBool(b, h.ChainOK)
	if h.County != "" {
		b = append(b, `,"county":`...)
		b = appendString(b, h.County)
	}
	return append(b, `,"events":`...), nil
}

// AppendTail appends h's JSON after its events' value.
func (h History) AppendTail(b []byte) []byte {
	if len(h.Voided) > 0 {
		b = append(b, `,"voided":[`...)
		for i, v := range h.Voided {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"event_seq":`...)
			b = strconv.AppendUint(b, v.EventSeq, 10)
			b = append(b, `,"void_seq":`...)
			b = append(strconv.AppendUint(b, v.VoidSeq, 10), '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"balances":`...)
	return append(h.Balances.appendJSON(b), '}')
}

func (e *HistoryEvent) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"recorded_at":`...)
	if y := e.RecordedAt.Year(); y < 0 || y > 9999 {
		return nil, errOutOfRange // encoding/json refuses it; so must this
	}
	b = append(b, '"')
	b = append(e.RecordedAt.AppendFormat(b, time.RFC3339Nano), '"')
	b = append(b, `,"occurred_on":`...)
	b, err := appendDate(b, e.OccurredOn)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"actor":`...)
	b = appendString(b, e.Actor)
	b = append(b, `,"payload":`...)
	// The payload is a decoded event body (or the stored text of one that could not be): its
	// encoder is segmentio's, which writes what encoding/json writes once map keys are sorted.
	if b, err = fastjson.Append(b, e.Payload, fastjson.SortMapKeys); err != nil {
		return nil, err
	}
	b = append(b, `,"hash":`...)
	b = appendString(b, e.Hash)
	if e.PrevHash != "" {
		b = append(b, `,"prev_hash":`...)
		b = appendString(b, e.PrevHash)
	}
	b = append(b, `,"chain_ok":`...)
	b = strconv.AppendBool(b, e.ChainOK)
	b = append(b, `,"balances":`...)
	return append(e.Balances.appendJSON(b), '}'), nil
}

func (t Balances) appendJSON(b []byte) []byte {
	b = append(b, `{"due_fen":`...)
	b = strconv.AppendInt(b, int64(t.DueFen), 10)
	b = append(b, `,"paid_fen":`...)
	b = strconv.AppendInt(b, int64(t.PaidFen), 10)
	b = append(b, `,"waived_fen":`...)
	b = strconv.AppendInt(b, int64(t.WaivedFen), 10)
	b = append(b, `,"outstanding_fen":`...)
	b = strconv.AppendInt(b, int64(t.OutstandingFen), 10)
	b = append(b, `,"late_fee_fen":`...)
	b = strconv.AppendInt(b, int64(t.LateFeeFen), 10)
	b = append(b, `,"credit_fen":`...)
	b = strconv.AppendInt(b, int64(t.CreditFen), 10)
	return append(b, '}')
}

// errOutOfRange is what appendJSON reports for a value encoding/json cannot write either.
var errOutOfRange = errors.New("projections: a time outside years 0-9999 has no JSON form")

// appendString appends s as a JSON string: quoted as it is when every byte is printable ASCII
// that needs no escape (ids, hashes, codes), and by the general encoder otherwise.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			out, _ := fastjson.Append(b, s, 0) // a string always encodes
			return out
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendDate appends a date as a JSON string, failing as its MarshalText fails; its text is
// digits and dashes, which need no escape.
func appendDate(b []byte, d domain.Date) ([]byte, error) {
	b, err := d.AppendText(append(b, '"'))
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}
