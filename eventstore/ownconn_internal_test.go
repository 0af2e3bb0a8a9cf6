package eventstore

import "testing"

func TestAnAckReplyGivesTheStreamSequenceTimeAndPendingInEitherFormat(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		want        ackMeta
		ok          bool
	}{
		{"the format before domains", "$JS.ACK.LEDGER.c1.1.4711.12.1700000000123456789.99", ackMeta{4711, 1700000000123456789, 99}, true},
		{"with a domain and an account hash", "$JS.ACK.hub.ACCHASH.LEDGER.c1.1.4711.12.1700000000123456789.99", ackMeta{4711, 1700000000123456789, 99}, true},
		{"with a domain, an account hash and a token", "$JS.ACK.hub.ACCHASH.LEDGER.c1.1.4711.12.1700000000123456789.0.tok", ackMeta{4711, 1700000000123456789, 0}, true},
		{"too few tokens", "$JS.ACK.LEDGER.c1.1.4711", ackMeta{}, false},
		{"not an acknowledgement", "_INBOX.a.b.c.d.e.f.g.h", ackMeta{}, false},
		{"a sequence that is no number", "$JS.ACK.LEDGER.c1.1.x.12.1700000000123456789.99", ackMeta{}, false},
		{"pending that is no number", "$JS.ACK.LEDGER.c1.1.4711.12.1700000000123456789.x", ackMeta{}, false},
		{"too many tokens", "$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m.n", ackMeta{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseAckReply([]byte(tc.reply))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("parseAckReply(%q) = %+v, %v; want %+v, %v", tc.reply, got, ok, tc.want, tc.ok)
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
