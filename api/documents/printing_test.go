package documents

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestEveryPrintingPrintsTheBytesItPrinted prints documents every way documents are printed and
// compares their SHA-256 with those the builds that brought each way in gave: a notice recorded
// with one of them must be served again byte for byte, whatever changes around it (fpdf, the
// compressors, the writer). A change that fails this for a printing in use must be a new one.
func TestEveryPrintingPrintsTheBytesItPrinted(t *testing.T) {
	for _, c := range []struct {
		doc string
		p   Printing
		sha string
	}{
		{"notice", WholeFont, "7c00d5f57cf8423df63f6f73ee4fed69f1c67beb1ea647a0a990b76afabffa9e"},
		{"notice", OwnGlyphs, "c99db2cf37207187621cdc862d8388b00ec0717e3fa19def8887e37eff2214d0"},
		{"notice of 40 lines", WholeFont, "d49c89ff54d027996badd478cda3e4bc2ca793e5d9bfd712001df37323dbfb70"},
		{"notice of 40 lines", OwnGlyphs, "872b9033ee902ad186db6859cf69e8a4b25a1fbb86a21c7e900e3b1912f31111"},
	} {
		n := longNotice(6)
		if c.doc == "notice of 40 lines" {
			n = longNotice(40)
		}
		pdf, err := n.RenderAs(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != c.sha {
			t.Errorf("a %s printed way %d: SHA-256 %x, want %s as before", c.doc, c.p, sum, c.sha)
		}
	}
}
