package importer

import (
	"regexp"
	"strings"
)

// SpreadsheetText is v as a CSV cell: behind a single quote if a spreadsheet would take it for
// a formula (a name such as "=HYPERLINK(…)": one that begins with =, +, -, @, a tab or a
// carriage return), which a spreadsheet then shows as text and does not run. Numbers ("-120",
// "12.5%") stay as they are: a spreadsheet reads them as numbers, never as formulas. A CSV
// file imported reads such a cell without its quote (Table.Next).
func SpreadsheetText(v string) string {
	if formulaLike(v) {
		return "'" + v
	}
	return v
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
