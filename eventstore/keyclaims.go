package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// keyClaim is what the claim of an idempotency key holds (ClaimKey): like a claim of a notice
// number, an envelope whose type no event has, so no reader takes it for an event.
type keyClaim struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	Schema     int         `json:"schema"`
	OccurredOn domain.Date `json:"occurred_on"`
	Actor      string      `json:"actor"`
	Payload    struct {
		KeySHA256 string `json:"key_sha256"`
		BodyHash  string `json:"body_hash"`
	} `json:"payload"`
}

// keyClaimSubject is the subject of key's claim: under the notice numbers' prefix, whose
// messages every reader already leaves out as no events ("key" is no prefix's hex).
func (s *Store) keyClaimSubject(key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.sub.Notice + "key." + hex.EncodeToString(sum[:])
}

// ClaimKey makes key, as the caller scopes it, the request's of body hash on the stream, for a
// request that records its events under keys derived from key (a county batch of notices)
// rather than under key itself: called before it records any, it answers nil when key is
// claimed for hash (now, or by an earlier try), and KeyReused's idempotency mismatch when
// another body claimed it, through this replica or any other. The claim is one message on a
// subject of its own, appended expecting the subject empty: of two claims sent at once, the
// stream stores one. on and actor are the request's, for the claim's reader.
func (s *Store) ClaimKey(ctx context.Context, key, hash, actor string, on domain.Date) error {
	subject := s.keyClaimSubject(key)
	retry := s.retrier(ctx)
	for {
		if err := retry.catchUp(ctx); err != nil {
			return err
		}
		s.mu.RLock()
		at := s.foldHead(subject).seq
		s.mu.RUnlock()
		if at != 0 {
			raw, err := s.getFolded(ctx, at, "")
			if err != nil {
				return err
			}
			var c keyClaim
			if err := json.Unmarshal(raw.Data, &c); err != nil {
				return fmt.Errorf("the claim of an idempotency key at %d: %w", at, err)
			}
			if c.Payload.BodyHash != hash {
				return KeyReused()
			}
			return nil
		}
		c := keyClaim{ID: newID(), Type: "key.claim", Schema: 1, OccurredOn: on, Actor: actor}
		sum := sha256.Sum256([]byte(key))
		c.Payload.KeySHA256, c.Payload.BodyHash = hex.EncodeToString(sum[:]), hash
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		m := nats.NewMsg(subject)
		m.Data = data
		m.Header.Set(HashHeader, domain.ChainHash("", data))
		_, err = s.com.publish([]*unit{{subject: subject, msgs: []*nats.Msg{m}}}, 1)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		// Claimed by another meanwhile: read its claim once followed.
		if err := retry.again(ctx, err); err != nil {
			return err
		}
	}
}
