package projections

import (
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A province freeze made from city freezes of format 1 (views-9) keeps its digest: the province
// counts such a city as it always has (its prior years' recovery as nothing recovered), though
// the city's own figures read back leave 清欠率 undefined.
func TestAProvinceFreezeOfFormatOneCitiesKeepsItsDigest(t *testing.T) {
	// The digests the code before 清欠率 was left undefined in such figures made (41bda96).
	want := map[string]string{
		"seed1-400-through400-2006-12-31": "ed849abb7463364396cbc80004cdacf249133717c470df497cb5e9fde7d85ce9",
		"seed2-500-through450-2007-03-31": "2ab9a8b9a8bb271fbf9791a35659bc229e4e4fa87e397fb825156698b336c889",
		"seed3-300-through300-2006-08-31": "5e5f76b68bae75262abbb9d2940380fa0d6cf1cc2bd5806cb98ec7403fb8a330",
	}
	for _, c := range formatOneCases {
		l := c.ledger()
		f := readStored(t, "freeze-format-1", c)
		r, err := FrozenReport(f)
		if err != nil {
			t.Fatal(err)
		}
		r.AsOf = f.ValidThrough
		p, err := Province(domain.Province, f.ValidThrough, []CityFigures{CityFiguresOf(&l.Ref, r)})
		if err != nil {
			t.Fatal(err)
		}
		_, digest, err := ProvinceFigures(p)
		if err != nil {
			t.Fatal(err)
		}
		if digest != want[c.name()] {
			t.Errorf("%s: province digest %s, want %s as made before", c.name(), digest, want[c.name()])
		}
	}
}
