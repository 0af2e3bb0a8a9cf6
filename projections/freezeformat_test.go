package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// attributeEvents makes a reproducible ledger of two years (2006 and 2007) whose payers carry
// the attributes segments read: parks, sectors, ownership codes, agencies, institutions and
// flexible workers, some changed along the way (some changes dated after the dates frozen),
// with opening balances, declarations, payments on time and late, and events carrying hashes,
// so that freezes of it have a chain head. Do not change it: testdata/freeze-format-1 holds
// freezes of it made before segments.
func attributeEvents(seed uint64, n int) []domain.Event {
	rng := rand.New(rand.NewPCG(seed, 18))
	evs := refEvents()
	counties := []string{"360702", "360721", "360782", "360735"}
	sectors := []string{"", "", "", domain.SectorCoal, domain.SectorMining, domain.SectorConstruction, domain.SectorFurniture, domain.SectorHighRisk}
	industry := map[string]string{domain.SectorCoal: "B", domain.SectorMining: "B", domain.SectorConstruction: "E", domain.SectorFurniture: "C"}
	owners := []string{"", "110", "120", "160", "173", "310"}
	kinds := []domain.EmployerKind{domain.KindEnterprise, domain.KindEnterprise, domain.KindEnterprise, domain.KindInstitution, domain.KindIndividualBusiness, domain.KindFlexible}
	var ids []string
	for len(evs) < n {
		if len(ids) == 0 || rng.IntN(8) == 0 {
			id := fmt.Sprintf("p%03d", len(ids))
			ids = append(ids, id)
			p := domain.Profile{Name: id, County: counties[rng.IntN(len(counties))], Kind: kinds[rng.IntN(len(kinds))], RiskClass: 1 + rng.IntN(3),
				Sector: sectors[rng.IntN(len(sectors))], OwnershipCode: owners[rng.IntN(len(owners))], Agency: rng.IntN(6) == 0}
			p.Industry = industry[p.Sector]
			if rng.IntN(3) == 0 {
				p.InIndustrialPark, p.Park = true, "园区"+p.County
			}
			on := domain.MustDate("2006-04-01").AddDays(rng.IntN(30))
			var body domain.Payload = domain.EmployerRegistered{Profile: p, RegisteredOn: on}
			if rng.IntN(6) == 0 {
				body = domain.EmployerFound{Profile: p, FoundOn: on}
			}
			evs = append(evs, domain.Event{Envelope: domain.Envelope{EmployerID: id}, Body: body})
			continue
		}
		id := ids[rng.IntN(len(ids))]
		day := domain.MustDate("2006-05-01").AddDays(rng.IntN(420))
		period := domain.MustPeriod("2006-04")
		for range rng.IntN(12) {
			period = period.Next()
		}
		ins := domain.Insurances[rng.IntN(len(domain.Insurances))]
		var body domain.Payload
		switch rng.IntN(12) {
		case 0:
			body = domain.SurveyCounted{AsOf: day, Workforce: int64(10 + rng.IntN(50))}
		case 1, 2:
			body = domain.EnrollmentRecorded{Insurance: ins, Headcount: int64(5 + rng.IntN(40)), EffectiveOn: day}
		case 3, 4:
			body = domain.DeclarationFiled{DeclaredOn: day, Period: period, DueOn: (&domain.Reference{}).DueDate(period),
				Lines: []domain.DeclaredLine{{Insurance: ins, Headcount: 10, WageBaseFen: 1000000, DueFen: domain.Fen(10000 + rng.IntN(90000))}}}
		case 5, 6:
			body = domain.PaymentReceived{PaidOn: day, AmountFen: domain.Fen(1000 + rng.IntN(80000)), ReceiptNo: fmt.Sprint("R", len(evs))}
		case 7:
			p := domain.MustPeriod("2005-10")
			for range rng.IntN(3) {
				p = p.Next()
			}
			body = domain.OpeningBalanceRecorded{AsOf: domain.MustDate("2006-05-01"), Lines: []domain.OpeningLine{
				{Period: p, Insurance: ins, OutstandingFen: domain.Fen(5000 + rng.IntN(50000)), DueOn: (&domain.Reference{}).DueDate(p)}}}
		case 8:
			park := rng.IntN(2) == 0
			name := ""
			if park {
				name = "新园区"
			}
			body = domain.EmployerChanged{On: day, InIndustrialPark: &park, Park: &name}
		case 9:
			rc := 1 + rng.IntN(3)
			body = domain.EmployerChanged{On: day, RiskClass: &rc}
		case 10:
			code := owners[rng.IntN(len(owners))]
			body = domain.EmployerChanged{On: day, OwnershipCode: &code}
		case 11:
			body = domain.RegistrationCompleted{RegisteredOn: day}
		}
		evs = append(evs, domain.Event{Envelope: domain.Envelope{EmployerID: id}, Body: body})
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		evs[i].N = uint64(i + 1)
		evs[i].Hash = fmt.Sprintf("h%d-%d", seed, i+1)
	}
	return evs
}

// frozenCase is a freeze of attributeEvents(seed, events) through sequence through, valid
// through validThrough.
type frozenCase struct {
	seed         uint64
	events       int
	through      uint64
	validThrough string
}

var formatOneCases = []frozenCase{
	{seed: 1, events: 400, through: 400, validThrough: "2006-12-31"},
	{seed: 2, events: 500, through: 450, validThrough: "2007-03-31"},
	{seed: 3, events: 300, through: 300, validThrough: "2006-08-31"},
}

// storedFreeze is a freeze's manifest and figures as stored (domain.FreezeMade without its id
// and creation time).
type storedFreeze struct {
	ThroughSeq   uint64          `json:"through_seq"`
	ValidThrough domain.Date     `json:"valid_through"`
	ChainHead    string          `json:"chain_head"`
	CodeVersion  string          `json:"code_version"`
	Digest       string          `json:"digest"`
	Figures      json.RawMessage `json:"figures"`
}

func (c frozenCase) name() string {
	return fmt.Sprintf("seed%d-%d-through%d-%s", c.seed, c.events, c.through, c.validThrough)
}

// ledger folds the case's events through its sequence.
func (c frozenCase) ledger() *Ledger {
	l := NewLedger()
	for _, ev := range attributeEvents(c.seed, c.events)[:c.through] {
		l.Apply(ev)
	}
	return l
}

// TestFreezesOfFormatOneWereRecorded records (KUOZHENG_UPDATE_GOLDEN=1) or checks the freezes
// of testdata/freeze-format-1, made by the code before segments: figures, digest, chain head.
func TestFreezesOfFormatOneWereRecorded(t *testing.T) {
	for _, c := range formatOneCases {
		t.Run(c.name(), func(t *testing.T) {
			l := c.ledger()
			d := domain.MustDate(c.validThrough)
			_, figures, digest, err := FreezeFigures(l, d)
			if err != nil {
				t.Fatal(err)
			}
			got := storedFreeze{ThroughSeq: l.Seq, ValidThrough: d, ChainHead: ChainHead(l), CodeVersion: CodeVersion, Digest: digest, Figures: figures}
			path := filepath.Join("testdata", "freeze-format-1", c.name()+".json")
			if os.Getenv("KUOZHENG_UPDATE_GOLDEN") == "1" {
				b, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want storedFreeze
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got.Digest != want.Digest || got.ChainHead != want.ChainHead || got.ThroughSeq != want.ThroughSeq || !bytes.Equal(got.Figures, want.Figures) {
				t.Errorf("the freeze of %s: digest %s, chain head %s; recorded %s, %s", c.name(), got.Digest, got.ChainHead, want.Digest, want.ChainHead)
			}
		})
	}
}
