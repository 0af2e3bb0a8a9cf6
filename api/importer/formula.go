package importer

import (
	"regexp"
	"slices"
	"strings"
)

// SpreadsheetText is v as a CSV cell: behind a single quote if a spreadsheet would take it for
// a formula (a name such as "=HYPERLINK(…)": one that begins with =, +, -, @, a tab or a
// carriage return), which a spreadsheet then shows as text and does not run. Numbers ("-120",
// "12.5%") stay as they are: a spreadsheet reads them as numbers, never as formulas. A CSV
// file imported reads such a cell's value without its quote (its row's key keeps it).
func SpreadsheetText(v string) string {
	if formulaLike(v) {
		return "'" + v
	}
	return v
}

// unquotedCells is a CSV row's cells with each written behind a quote (SpreadsheetText) back as
// it was, or nil when none was.
func unquotedCells(cells []string) []string {
	var out []string
	for i, c := range cells {
		if u := unquoted(c); u != c {
			if out == nil {
				out = slices.Clone(cells)
			}
			out[i] = u
		}
	}
	return out
}

// unquoted is a CSV cell as SpreadsheetText wrote it, back as it was.
func unquoted(v string) string {
	if rest, ok := strings.CutPrefix(v, "'"); ok && formulaLike(rest) {
		return rest
	}
	return v
}

// formulaLike reports whether a spreadsheet would take v, a CSV cell, for a formula.
func formulaLike(v string) bool {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return false
	}
	return !ledgerNumber.MatchString(v)
}

// ledgerNumber is a number as the ledger writes figures: an integer or a decimal, maybe signed,
// maybe a percentage.
var ledgerNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?%?$`)
