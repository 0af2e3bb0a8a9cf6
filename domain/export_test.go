package domain

// DecodeFallback and DecodeGenerated are decodeFallback and decodeGenerated, for the external
// tests: what Decode means for any input, and the decoder it tries first.
var (
	DecodeFallback  = decodeFallback
	DecodeGenerated = decodeGenerated
)
