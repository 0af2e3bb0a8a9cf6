package demo

// WholeAccounts makes resumed payers' statements read from their whole accounts, not compacted
// ones, until the returned function is called.
func WholeAccounts() (restore func()) {
	compactAccounts = false
	return func() { compactAccounts = true }
}
