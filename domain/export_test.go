package domain

import "reflect"

// DecodeFallback and DecodeGenerated are decodeFallback and decodeGenerated, for the external
// tests: what Decode means for any input, and the decoder it tries first.
var (
	DecodeFallback  = decodeFallback
	DecodeGenerated = decodeGenerated
)

// StatementOfNewBook is Statement made with a book of its own, never one a statement used before.
func (a *Account) StatementOfNewBook(asOf Date, fees []LateFeeRate) Statement {
	return a.statementOf(a.bookThrough(asOf, fees), asOf, fees, nil)
}

// EncodeAccountState and DecodeAccountState are the account's snapshot form (appendState,
// readState), for the external tests.
func EncodeAccountState(a *Account) []byte { return a.appendState(nil) }

func DecodeAccountState(b []byte) (Account, error) {
	var a Account
	err := a.readState(b)
	return a, err
}

// SameAccount reports whether x and y hold the same entries and carry (no entries, nil or
// empty, being the same).
func SameAccount(x, y Account) bool {
	if len(x.entries) == 0 && len(y.entries) == 0 {
		x.entries, y.entries = nil, nil
	}
	return reflect.DeepEqual(x, y)
}
