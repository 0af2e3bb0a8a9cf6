package eventstore

import "testing"

func TestAnAckReplyGivesTheStreamSequenceAndTimeInEitherFormat(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		seq         uint64
		ts          int64
		ok          bool
	}{
		{"the format before domains", "$JS.ACK.LEDGER.c1.1.4711.12.1700000000123456789.99", 4711, 1700000000123456789, true},
		{"with a domain and an account hash", "$JS.ACK.hub.ACCHASH.LEDGER.c1.1.4711.12.1700000000123456789.99", 4711, 1700000000123456789, true},
		{"with a domain, an account hash and a token", "$JS.ACK.hub.ACCHASH.LEDGER.c1.1.4711.12.1700000000123456789.99.tok", 4711, 1700000000123456789, true},
		{"too few tokens", "$JS.ACK.LEDGER.c1.1.4711", 0, 0, false},
		{"not an acknowledgement", "_INBOX.a.b.c.d.e.f.g.h", 0, 0, false},
		{"a sequence that is no number", "$JS.ACK.LEDGER.c1.1.x.12.1700000000123456789.99", 0, 0, false},
		{"too many tokens", "$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m.n", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq, ts, ok := parseAckReply([]byte(tc.reply))
			if seq != tc.seq || ts != tc.ts || ok != tc.ok {
				t.Fatalf("parseAckReply(%q) = %d, %d, %v; want %d, %d, %v", tc.reply, seq, ts, ok, tc.seq, tc.ts, tc.ok)
			}
		})
	}
}

func TestAHeaderIsFoundByItsExactName(t *testing.T) {
	block := []byte("NATS/1.0\r\nNats-Msg-Id: abc\r\nKz-Hash:  deadbeef \r\nKz-Hash-Other: no\r\n\r\n")
	if got := headerValue(block, HashHeader); got != "deadbeef" {
		t.Fatalf("Kz-Hash = %q, want deadbeef", got)
	}
	if got := headerValue(block, "Kz-Missing"); got != "" {
		t.Fatalf("a missing header = %q, want empty", got)
	}
}
