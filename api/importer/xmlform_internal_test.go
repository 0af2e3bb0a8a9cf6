package importer

import (
	"strings"
	"testing"
)

// TestACharacterSplitBetweenReadsIsReadWhole: a part's bytes come in reads of any size, so a
// character cut between two reads is checked once it is whole; one never made whole is damage.
func TestACharacterSplitBetweenReadsIsReadWhole(t *testing.T) {
	feed := func(pieces ...string) error {
		var f xmlForm
		f.root = true
		for _, p := range pieces {
			if err := f.chars([]byte(p)); err != nil {
				return err
			}
		}
		return f.finish()
	}
	whole := "赣州\t市 A\U0001F600\r\n"
	var bytewise []string
	for i := range len(whole) {
		bytewise = append(bytewise, whole[i:i+1])
	}
	if err := feed(bytewise...); err != nil {
		t.Errorf("valid text fed a byte at a time: %v", err)
	}
	for _, tt := range []struct {
		name   string
		pieces []string
		want   string
	}{
		{"a character never ended", []string{"A\xe4", "\xb8"}, "ends inside a character: the byte 0xE4"},
		{"a character ended by ASCII", []string{"A\xe4", "B"}, "the byte 0xE4, which is not UTF-8"},
		{"a control character after a split one", []string{"\xe4\xb8", "\xad\x02"}, "U+0002, which XML does not allow"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := feed(tt.pieces...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
