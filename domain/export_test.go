package domain

// DecodeStandard is decodeStandard, for tests outside the package.
var DecodeStandard = decodeStandard
