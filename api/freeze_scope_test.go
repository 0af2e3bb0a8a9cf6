package api_test

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAScopedReadersFrozenCitySumsItsCountiesFlags: a clerk reading a freeze gets, as its city,
// the sum of the counties it may read; flags included, as a live read of the same date gives
// them (a frozen county keeps its flag counts, not the employers behind them).
func TestAScopedReadersFrozenCitySumsItsCountiesFlags(t *testing.T) {
	l := newSegmentLedger(t)
	through := uint64(l.last)
	l.waitViews(t, through)
	m := l.freeze(t, tokAssessor, "2006-12-31", through)
	type scoped struct {
		Counties []struct {
			Code  string          `json:"code"`
			Flags json.RawMessage `json:"flags"`
		} `json:"counties"`
		City struct {
			Flags json.RawMessage `json:"flags"`
		} `json:"city"`
		Segments []struct {
			Segment  string `json:"segment"`
			Counties []struct {
				Flags json.RawMessage `json:"flags"`
			} `json:"counties"`
			City struct {
				Flags json.RawMessage `json:"flags"`
			} `json:"city"`
		} `json:"segments"`
	}
	var frozen scoped
	if err := json.Unmarshal(l.getFreeze(t, tokClerkA, m.ID).Figures, &frozen); err != nil {
		t.Fatal(err)
	}
	if len(frozen.Counties) != 1 || frozen.Counties[0].Code != "360702" {
		t.Fatalf("the clerk of 360702 reads %d counties", len(frozen.Counties))
	}
	// 360702 on 2006-12-31: P3's arrears, more than 90 days past due with no step.
	want := frozen.Counties[0].Flags
	if !bytes.Contains(want, []byte(`"arrears_without_enforcement"`)) {
		t.Fatalf("360702 frozen with flags %s, want P3's arrears", want)
	}
	if !bytes.Equal(frozen.City.Flags, want) {
		t.Errorf("the clerk's frozen city has flags %s, its one county %s", frozen.City.Flags, want)
	}
	var live scoped
	decode(t, l.get(t, "/v1/counties?as_of=2006-12-31", tokClerkA), &live)
	if !bytes.Equal(live.City.Flags, want) {
		t.Errorf("the clerk's live city has flags %s, the frozen one %s", live.City.Flags, want)
	}
	for _, sg := range frozen.Segments {
		if !bytes.Equal(sg.City.Flags, sg.Counties[0].Flags) {
			t.Errorf("segment %s: the clerk's frozen city has flags %s, its one county %s", sg.Segment, sg.City.Flags, sg.Counties[0].Flags)
		}
	}
}
