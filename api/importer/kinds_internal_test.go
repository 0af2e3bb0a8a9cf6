package importer

import "testing"

// TestEveryKindReadsTheColumnsItRequires: what a kind requires it reads, so a required column
// is never named among those left aside.
func TestEveryKindReadsTheColumnsItRequires(t *testing.T) {
	for _, kind := range Kinds {
		for _, f := range required[kind] {
			if !takes(kind, f) {
				t.Errorf("a %s file requires %s but is not read from it", kind, f)
			}
		}
	}
}
