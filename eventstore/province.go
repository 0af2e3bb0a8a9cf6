package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// CityLedger reads one city's ledger stream from outside it (the province does, through NATS):
// its reference data and its freezes. It writes nothing and keeps no index.
type CityLedger struct {
	// Ledger is the city's code.
	Ledger string
	sub    Subjects
	stream jetstream.Stream
}

// OpenCityLedger finds city ledger's stream on js; an error says when the city has none there.
func OpenCityLedger(ctx context.Context, js jetstream.JetStream, ledger string) (*CityLedger, error) {
	if err := domain.CheckCity("ledger", ledger); err != nil {
		return nil, err
	}
	sub := SubjectsOf(ledger)
	stream, err := js.Stream(ctx, sub.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("city %s has no ledger on this NATS (no stream %s): start `kuozheng serve --ledger %s` on it", ledger, sub.Stream, ledger)
	}
	if err != nil {
		return nil, fmt.Errorf("city %s: stream %s: %w", ledger, sub.Stream, err)
	}
	return &CityLedger{Ledger: ledger, sub: sub, stream: stream}, nil
}

// ReferenceAt is the city's reference data as it stood after stream sequence seq.
func (c *CityLedger) ReferenceAt(ctx context.Context, seq uint64) (ref *domain.Reference, err error) {
	err = untilAvailable(ctx, time.Minute, time.Minute, nil, "city "+c.Ledger+": reference data", func(ctx context.Context) error {
		ref, err = referenceAt(ctx, c.stream, c.sub, seq)
		return err
	})
	return ref, err
}

// BooksClosedSince is the sequence of the reference message since which the city's ledger
// refuses what is dated d (domain.Reference.BooksClosed), without a break through the stream's
// end; closed is false when d's books are open now. (A write another replica decided just
// before it followed that message can still land after it: README, on closing a year.)
func (c *CityLedger) BooksClosedSince(ctx context.Context, d domain.Date) (since uint64, closed bool, err error) {
	err = untilAvailable(ctx, time.Minute, time.Minute, nil, "city "+c.Ledger+": reference data", func(ctx context.Context) error {
		var ref domain.Reference
		since = 0
		return eachMessage(ctx, c.stream, c.sub.Ref+">", func(seq uint64, data []byte) (bool, error) {
			if err := applyRef(&ref, seq, data); err != nil {
				return false, err
			}
			switch {
			case !ref.BooksClosed(d):
				since = 0
			case since == 0:
				since = seq
			}
			return true, nil
		})
	})
	return since, since > 0, err
}

// Freezes are the city's freezes with their figures, oldest first.
func (c *CityLedger) Freezes(ctx context.Context) ([]FreezeRef, []domain.FreezeMade, error) {
	var refs []FreezeRef
	var made []domain.FreezeMade
	err := untilAvailable(ctx, time.Minute, time.Minute, nil, "city "+c.Ledger+": freezes", func(ctx context.Context) error {
		refs, made = nil, nil
		return eachMessage(ctx, c.stream, c.sub.Freeze+">", func(seq uint64, data []byte) (bool, error) {
			ev, err := domain.Decode(data)
			if err != nil {
				return false, fmt.Errorf("city %s: message %d: %w", c.Ledger, seq, err)
			}
			f, ok := ev.Body.(domain.FreezeMade)
			if !ok {
				return true, nil
			}
			made = append(made, f)
			f.Figures = nil
			refs = append(refs, FreezeRef{FreezeMade: f, Seq: seq, MadeBy: ev.Actor})
			return true, nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("city %s: freezes: %w", c.Ledger, err)
	}
	return refs, made, nil
}

// Freeze is the city's freeze id with its figures and its sequence in the city's stream. A freeze
// whose subject holds more than one message, whose hash header is not its bytes' or whose
// figures do not give its digest is refused as damaged: the province sums only what the city froze.
func (c *CityLedger) Freeze(ctx context.Context, id string) (domain.FreezeMade, uint64, error) {
	if !freezeID(id) {
		return domain.FreezeMade{}, 0, domain.NotFound("freeze", "city %s has no freeze %q: a freeze's id is a UUID", c.Ledger, id)
	}
	msg, err := storedOnce(ctx, c.stream, c.sub.Freeze+id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return domain.FreezeMade{}, 0, domain.NotFound("freeze", "city %s has no freeze %q", c.Ledger, id)
	}
	if err != nil {
		return domain.FreezeMade{}, 0, fmt.Errorf("city %s: freeze %s: %w", c.Ledger, id, err)
	}
	ev, err := domain.Decode(msg.Data)
	if err != nil {
		return domain.FreezeMade{}, 0, fmt.Errorf("city %s: freeze %s: %w", c.Ledger, id, err)
	}
	f, ok := ev.Body.(domain.FreezeMade)
	if !ok {
		return domain.FreezeMade{}, 0, fmt.Errorf("city %s: message %d is not a freeze", c.Ledger, msg.Sequence)
	}
	if err := givesDigest(f.Figures, f.Digest); err != nil {
		return domain.FreezeMade{}, 0, fmt.Errorf("city %s: freeze %s (message %d) is damaged: %w", c.Ledger, id, msg.Sequence, err)
	}
	return f, msg.Sequence, nil
}

// givesDigest refuses figures whose SHA-256 is not the digest stored with them.
func givesDigest(figures []byte, digest string) error {
	if sum := sha256.Sum256(figures); hex.EncodeToString(sum[:]) != digest {
		return fmt.Errorf("its figures give digest %x, it says %s", sum, digest)
	}
	return nil
}

// freezeID says whether id is a freeze's id (a UUID as the ledger writes them), so that a
// subject made of it names one freeze and never a wildcard.
func freezeID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// storedOnce is the message on a subject the ledger writes once (a freeze's), checked against its
// hash header. A second message on it was written past the ledger (which appends a freeze
// expecting its subject empty), and is refused as damage rather than read as the freeze.
func storedOnce(ctx context.Context, stream jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	first, err := stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subject))
	if err != nil {
		return nil, err
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return nil, err
	}
	if last.Sequence != first.Sequence {
		return nil, fmt.Errorf("damaged: messages %d and %d are both on %s, where the ledger stores one; the stream was written to past kuozheng",
			first.Sequence, last.Sequence, subject)
	}
	if h := first.Header.Get(HashHeader); h != domain.ChainHash("", first.Data) {
		return nil, fmt.Errorf("damaged: message %d on %s does not have the hash its bytes give", first.Sequence, subject)
	}
	return first, nil
}

// ProvinceStream is the name of a province's stream, which keeps the province's own freezes.
func ProvinceStream(province string) string { return "PROVINCE_" + province }

func provinceFreezePrefix(province string) string { return "province." + province + ".freeze." }

// Province keeps a province's freezes in its own stream on the cities' NATS.
type Province struct {
	Code   string
	js     jetstream.JetStream
	stream jetstream.Stream
}

// OpenProvince creates or finds the province's stream, with replicas copies on a cluster (0:
// as many as it has; a new one as many as the most any city's ledger on the same NATS has, so
// that it survives the nodes they survive; opening it never scales it down).
func OpenProvince(ctx context.Context, js jetstream.JetStream, code string, replicas int) (*Province, error) {
	if err := domain.CheckProvince("province", code); err != nil {
		return nil, err
	}
	if replicas <= 0 {
		var err error
		if replicas, err = provinceReplicas(ctx, js, code); err != nil {
			return nil, err
		}
	}
	// Made as the city's stream is (createStream): a create can go unanswered on a new cluster.
	stream, err := createStream(ctx, js, jetstream.StreamConfig{
		Name: ProvinceStream(code), Subjects: []string{"province." + code + ".>"}, Storage: jetstream.FileStorage,
		Replicas: replicas, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardNew,
		Duplicates: 2 * time.Minute, DenyDelete: true, DenyPurge: true, AllowDirect: true,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("province stream %s: %w", ProvinceStream(code), err)
	}
	return &Province{Code: code, js: js, stream: stream}, nil
}

// FindProvince finds the province's stream without making it; found is false when this NATS has
// none (no freeze of the province was ever stored on it).
func FindProvince(ctx context.Context, js jetstream.JetStream, code string) (p *Province, found bool, err error) {
	if err := domain.CheckProvince("province", code); err != nil {
		return nil, false, err
	}
	stream, err := js.Stream(ctx, ProvinceStream(code))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("province stream %s: %w", ProvinceStream(code), err)
	}
	return &Province{Code: code, js: js, stream: stream}, true, nil
}

// provinceReplicas is the replicas of the province's stream, or for a new one the most any
// city's ledger stream on the NATS has (1 with none).
func provinceReplicas(ctx context.Context, js jetstream.JetStream, code string) (int, error) {
	st, err := js.Stream(ctx, ProvinceStream(code))
	switch {
	case err == nil:
		return st.CachedInfo().Config.Replicas, nil
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return streamReplicas(ctx, js, ProvinceStream(code), nil) // asked again while the cluster cannot answer
	}
	n := 1
	streams := js.ListStreams(ctx)
	for info := range streams.Info() {
		if _, city := CityOfStream(info.Config.Name); city {
			n = max(n, info.Config.Replicas)
		}
	}
	if err := streams.Err(); err != nil {
		return 0, fmt.Errorf("list the cities' streams: %w", err)
	}
	return n, nil
}

// AppendFreeze stores a province freeze as made by actor and returns the freeze stored. A key (""
// for none) sent again within the stream's duplicate window stores nothing more: the freeze
// returned is then the one the key stored first (FreezeByKey finds it after the window).
func (p *Province) AppendFreeze(ctx context.Context, f domain.ProvinceFreezeMade, actor, key string) (domain.ProvinceFreezeMade, uint64, error) {
	env := domain.Envelope{ID: newID(), OccurredOn: f.ValidThrough, Actor: actor, IdemKey: key, N: 1}
	data, err := domain.Encode(env, f)
	if err != nil {
		return f, 0, err
	}
	m := nats.NewMsg(provinceFreezePrefix(p.Code) + f.ID)
	m.Data = data
	m.Header.Set(HashHeader, domain.ChainHash("", data))
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	if key != "" {
		m.Header.Set(nats.MsgIdHdr, key)
	}
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return f, 0, fmt.Errorf("store province freeze %s: %w", f.ID, err)
	}
	if ack.Duplicate {
		msg, err := p.stream.GetMsg(ctx, ack.Sequence)
		if err != nil {
			return f, 0, fmt.Errorf("province freeze stored before under key %q, at sequence %d: %w", key, ack.Sequence, err)
		}
		stored, _, err := provinceFreezeOf(p.Code, ack.Sequence, msg.Data)
		return stored, ack.Sequence, err
	}
	return f, ack.Sequence, nil
}

// Freezes are the province's freezes with their figures, oldest first. A freeze stored twice, or
// whose figures do not give its digest, is refused as damage.
func (p *Province) Freezes(ctx context.Context) ([]domain.ProvinceFreezeMade, error) {
	var out []domain.ProvinceFreezeMade
	err := untilAvailable(ctx, time.Minute, time.Minute, nil, "province "+p.Code+": freezes", func(ctx context.Context) error {
		out = nil
		at := map[string]uint64{}
		return eachMessage(ctx, p.stream, provinceFreezePrefix(p.Code)+">", func(seq uint64, data []byte) (bool, error) {
			f, _, err := provinceFreezeOf(p.Code, seq, data)
			if err != nil {
				return false, err
			}
			if first, ok := at[f.ID]; ok {
				return false, fmt.Errorf("damaged: freeze %s is stored at sequences %d and %d, where the ledger stores it once; the stream was written to past kuozheng", f.ID, first, seq)
			}
			at[f.ID] = seq
			out = append(out, f)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("province %s: freezes: %w", p.Code, err)
	}
	return out, nil
}

// Freeze is the province's freeze id, refused as damaged when its subject holds more than one
// message, its hash header is not its bytes' or its figures do not give its digest.
func (p *Province) Freeze(ctx context.Context, id string) (domain.ProvinceFreezeMade, error) {
	if !freezeID(id) {
		return domain.ProvinceFreezeMade{}, domain.NotFound("freeze", "province %s has no freeze %q: a freeze's id is a UUID", p.Code, id)
	}
	msg, err := storedOnce(ctx, p.stream, provinceFreezePrefix(p.Code)+id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return domain.ProvinceFreezeMade{}, domain.NotFound("freeze", "province %s has no freeze %q", p.Code, id)
	}
	if err != nil {
		return domain.ProvinceFreezeMade{}, fmt.Errorf("province %s: freeze %s: %w", p.Code, id, err)
	}
	f, _, err := provinceFreezeOf(p.Code, msg.Sequence, msg.Data)
	return f, err
}

// FreezeByKey is the province's freeze stored under idempotency key, if any.
func (p *Province) FreezeByKey(ctx context.Context, key string) (f domain.ProvinceFreezeMade, found bool, err error) {
	err = untilAvailable(ctx, time.Minute, time.Minute, nil, "province "+p.Code+": freezes", func(ctx context.Context) error {
		found = false
		return eachMessage(ctx, p.stream, provinceFreezePrefix(p.Code)+">", func(seq uint64, data []byte) (bool, error) {
			made, k, err := provinceFreezeOf(p.Code, seq, data)
			if err != nil || k != key {
				return err == nil, err
			}
			f, found = made, true
			return false, nil
		})
	})
	return f, found, err
}

// provinceFreezeOf decodes the province freeze stored at seq, with the idempotency key it was
// stored under, checking its figures give its digest.
func provinceFreezeOf(province string, seq uint64, data []byte) (domain.ProvinceFreezeMade, string, error) {
	ev, err := domain.Decode(data)
	if err != nil {
		return domain.ProvinceFreezeMade{}, "", fmt.Errorf("province %s: message %d: %w", province, seq, err)
	}
	f, ok := ev.Body.(domain.ProvinceFreezeMade)
	if !ok {
		return domain.ProvinceFreezeMade{}, "", fmt.Errorf("province %s: message %d is not a freeze", province, seq)
	}
	if err := givesDigest(f.Figures, f.Digest); err != nil {
		return domain.ProvinceFreezeMade{}, "", fmt.Errorf("province %s: freeze %s (message %d) is damaged: %w", province, f.ID, seq, err)
	}
	return f, ev.IdemKey, nil
}
