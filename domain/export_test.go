package domain

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
