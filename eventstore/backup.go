package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	natsarchive "github.com/nats-io/nats-server/v2/server/archive"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backups are JetStream's own stream snapshots, taken and restored through the JetStream API
// ($JS.API.STREAM.SNAPSHOT.<stream> and $JS.API.STREAM.RESTORE.<stream>), which nats.go does not
// wrap. A snapshot is the stream as it stood when the server answered the request (its state's
// last sequence): messages appended while it is sent are not in it. The server sends it in
// chunks to an inbox, each acknowledged by the receiver before the server sends beyond its
// window, and ends it with an empty message whose status says whether it is whole; a restore
// sends the same bytes back in chunks, each answered, and an empty message, answered with the
// stream's information once the server has stored every message.
const (
	// streamSnapChunk is the chunk size asked of the server.
	streamSnapChunk = 256 << 10
	// streamSnapWait is the longest wait for the server's next chunk.
	streamSnapWait = 30 * time.Second
	// restoreBlock and restoreChunkMax bound what the server takes in at once in a restore. It
	// gives up on a restore when taking in one chunk takes 5 s, and takes in a compressed block
	// whole before it stores the block's messages; a server that syncs every write
	// (sync_interval: always) syncs every message it restores, a few hundred a second on a slow
	// disk. Snapshots come in blocks of 1 MiB (about a thousand of the ledger's messages), so a
	// restore sends the archive compressed again in blocks of 32 KiB (about thirty), in chunks
	// of 16 KiB (about sixty messages).
	restoreBlock    = 32 << 10
	restoreChunkMax = 16 << 10
	// restoreChunkTimeout bounds the answer to one chunk of a restore.
	restoreChunkTimeout = time.Minute
	// restoreDoneTimeout bounds the wait for the server to finish a restore once every chunk
	// is sent, unless ctx ends sooner.
	restoreDoneTimeout = 10 * time.Minute
	// apiTimeout bounds a JetStream API request that does no long work.
	apiTimeout = 30 * time.Second
)

// StreamSnapshot describes a snapshot of a stream: its configuration and its state at the
// snapshot's point, as the server described them, and what the archive it sent held.
type StreamSnapshot struct {
	// Stream is the stream's name.
	Stream string
	// Config and State are the server's JSON, kept as they came: a restore sends them back.
	Config json.RawMessage
	State  json.RawMessage
	// FirstSeq, LastSeq and Messages are the state's, found again in the archive.
	FirstSeq, LastSeq, Messages uint64
	// Size is the archive's size in bytes (compressed).
	Size int64
}

// SnapshotOptions are what a caller hears while a snapshot arrives.
type SnapshotOptions struct {
	// Taken, if set, is told the snapshot's point once the server has taken it, before any of
	// it arrives (Size is still 0): writes acknowledged after this are not in it.
	Taken func(StreamSnapshot)
	// Progress, if set, is told after each chunk the bytes received so far and the last
	// sequence found in them.
	Progress func(size int64, seq uint64)
	// Message, if set, is told each message's sequence and subject, in order.
	Message func(seq uint64, subject string)
}

// snapshotState is the part of a stream's state a snapshot is checked against.
type snapshotState struct {
	Msgs      uint64 `json:"messages"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Consumers int    `json:"consumer_count"`
}

// SnapshotStream asks the server for a snapshot of stream, without its consumers, and writes the
// archive to w as it arrives. It reads the archive as it goes and fails unless the archive is
// whole: the stream's state first, every message in order through the state's last sequence,
// as many as the state counts, and the archive's end marker.
func SnapshotStream(ctx context.Context, nc *nats.Conn, stream string, w io.Writer, opt SnapshotOptions) (*StreamSnapshot, error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("snapshot of stream %s: %w", stream, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "no_consumers": true, "chunk_size": streamSnapChunk})
	var resp struct {
		Error  *jetstream.APIError `json:"error"`
		Config json.RawMessage     `json:"config"`
		State  json.RawMessage     `json:"state"`
	}
	if err := apiRequest(ctx, nc, "$JS.API.STREAM.SNAPSHOT."+stream, req, &resp); err != nil {
		return nil, fmt.Errorf("snapshot of stream %s: %w", stream, err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("snapshot of stream %s: %w", stream, apiError(resp.Error))
	}
	var st snapshotState
	if err := json.Unmarshal(resp.State, &st); err != nil {
		return nil, fmt.Errorf("snapshot of stream %s: the server's state: %w", stream, err)
	}
	snap := &StreamSnapshot{Stream: stream, Config: resp.Config, State: resp.State, FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, Messages: st.Msgs}
	if opt.Taken != nil {
		opt.Taken(*snap)
	}

	// The archive is read as it arrives, through a pipe: a scan that fails closes the pipe, so
	// that the receiving loop stops at its next chunk.
	pr, pw := io.Pipe()
	var seen atomic.Uint64
	scanned := make(chan error, 1)
	go func() {
		err := scanArchive(pr, st, &seen, opt.Message)
		pr.CloseWithError(err)
		scanned <- err
	}()
	out := io.MultiWriter(w, pw)
	err = func() error {
		for {
			wctx, cancel := context.WithTimeout(ctx, streamSnapWait)
			msg, err := sub.NextMsgWithContext(wctx)
			cancel()
			switch {
			case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
				return fmt.Errorf("the server sent nothing for %v after %d bytes", streamSnapWait, snap.Size)
			case err != nil:
				return err
			}
			if len(msg.Data) == 0 {
				// The end: status 204 when the snapshot was sent whole.
				if status := msg.Header.Get("Status"); status != "" && status != "204" {
					return fmt.Errorf("the server ended the snapshot with status %s: %s", status, msg.Header.Get("Description"))
				}
				return nil
			}
			if _, err := out.Write(msg.Data); err != nil {
				return err
			}
			snap.Size += int64(len(msg.Data))
			if msg.Reply != "" {
				if err := msg.Respond(nil); err != nil {
					return fmt.Errorf("acknowledging a chunk: %w", err)
				}
			}
			if opt.Progress != nil {
				opt.Progress(snap.Size, seen.Load())
			}
		}
	}()
	pw.CloseWithError(err)
	// A failed scan closes the pipe with its error, which the next write then returns.
	if serr := <-scanned; serr != nil && (err == nil || errors.Is(err, serr)) {
		err = fmt.Errorf("the archive received is not whole: %w", serr)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot of stream %s: %w", stream, err)
	}
	return snap, nil
}

// scanArchive reads a snapshot's archive (S2-compressed, nats-server's archive format) and checks
// that it is whole and holds what st says, telling message about each message and seen the last
// sequence read.
func scanArchive(r io.Reader, st snapshotState, seen *atomic.Uint64, message func(seq uint64, subject string)) error {
	dec := s2.NewReader(r)
	ar := natsarchive.NewReader(dec)
	hdr, err := ar.Next()
	if errors.Is(err, natsarchive.ErrInvalidArchive) {
		return errors.New("not a snapshot in nats-server 2.15's format (an older server sends another one: upgrade it)")
	}
	if err != nil {
		return err
	}
	if hdr.Name != "state.json" {
		return fmt.Errorf("the archive begins with %q, not the stream's state", hdr.Name)
	}
	var inside snapshotState
	if err := json.NewDecoder(ar).Decode(&inside); err != nil {
		return fmt.Errorf("the stream's state in the archive: %w", err)
	}
	if inside.LastSeq != st.LastSeq || inside.Msgs != st.Msgs {
		return fmt.Errorf("the archive's state (%d messages through %d) is not the one the server announced (%d through %d)",
			inside.Msgs, inside.LastSeq, st.Msgs, st.LastSeq)
	}
	for range inside.Consumers {
		if _, err := ar.Next(); err != nil {
			return fmt.Errorf("a consumer's state: %w", err)
		}
	}
	var n, last uint64
	var missing []string // the first gaps in the sequences
	for {
		hdr, err := ar.Next()
		if err != nil {
			return fmt.Errorf("the archive ends after sequence %d, before its end marker: %w", last, err)
		}
		if hdr.Sequence == 0 {
			if hdr.Name != "" || hdr.Timestamp != 0 || hdr.HeaderSize != 0 || hdr.PayloadSize != 0 {
				return fmt.Errorf("an entry %q without a sequence after sequence %d", hdr.Name, last)
			}
			break
		}
		if hdr.Sequence <= last {
			return fmt.Errorf("sequence %d after %d", hdr.Sequence, last)
		}
		if from := max(last+1, st.FirstSeq); hdr.Sequence > from && len(missing) < 5 {
			missing = append(missing, seqRange(from, hdr.Sequence-1))
		}
		n, last = n+1, hdr.Sequence
		seen.Store(last)
		if message != nil {
			message(last, hdr.Name)
		}
	}
	if n != st.Msgs || (n > 0 && last != st.LastSeq) {
		err := fmt.Errorf("the archive holds %d messages through sequence %d; the stream's state at the snapshot says %d through %d", n, last, st.Msgs, st.LastSeq)
		if last < st.LastSeq && len(missing) < 5 {
			missing = append(missing, seqRange(max(last+1, st.FirstSeq), st.LastSeq))
		}
		// Named only for a stream without deleted messages (the ledger deletes none): a gap
		// there is a message the server left out.
		if n < st.Msgs && len(missing) > 0 && st.LastSeq-st.FirstSeq+1 == st.Msgs {
			// The server leaves out a message it cannot read back (its stored bytes damaged).
			err = fmt.Errorf("%w: it lacks sequence %s, which the server could not read back (damaged in the stream's files? kuozheng verify names the employer)",
				err, strings.Join(missing, ", "))
		}
		return err
	}
	// The rest of the compressed stream (its last blocks' checksums) must read cleanly too.
	if _, err := io.Copy(io.Discard, dec); err != nil {
		return fmt.Errorf("after the end marker: %w", err)
	}
	return nil
}

// seqRange names the sequences from a through b: "7" or "7-9".
func seqRange(a, b uint64) string {
	if a == b {
		return strconv.FormatUint(a, 10)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// RestoreStream creates a stream from a snapshot's archive read from r, with the configuration
// config (the server's JSON; its name names the stream) and the snapshot's state. The stream must
// not exist. progress, if set, is told the bytes of r sent so far. A restore that fails part way
// leaves no stream behind: the server's partial one is deleted.
func RestoreStream(ctx context.Context, nc *nats.Conn, config, state json.RawMessage, r io.Reader, progress func(sent int64)) (*jetstream.StreamInfo, error) {
	var named struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(config, &named); err != nil || named.Name == "" {
		return nil, fmt.Errorf("restore: the stream's configuration names no stream (%v)", err)
	}
	stream := named.Name
	req, _ := json.Marshal(map[string]json.RawMessage{"config": config, "state": state})
	var resp struct {
		Error          *jetstream.APIError `json:"error"`
		DeliverSubject string              `json:"deliver_subject"`
	}
	if err := apiRequest(ctx, nc, "$JS.API.STREAM.RESTORE."+stream, req, &resp); err != nil {
		return nil, fmt.Errorf("restore of stream %s: %w", stream, err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("restore of stream %s: %w", stream, apiError(resp.Error))
	}
	// The archive, compressed again in small blocks; read through a counter for progress.
	read := &countingReader{r: r}
	pr, pw := io.Pipe()
	recompressed := make(chan struct{})
	go func() {
		defer close(recompressed)
		enc := s2.NewWriter(pw, s2.WriterBlockSize(restoreBlock), s2.WriterConcurrency(1))
		_, err := io.Copy(enc, s2.NewReader(read))
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("reading the archive at byte %d: %w", read.n.Load(), err)
		}
		pw.CloseWithError(err)
	}()
	var told func(int64)
	if progress != nil {
		told = func(int64) { progress(read.n.Load()) }
	}
	info, err := sendArchive(ctx, nc, resp.DeliverSubject, pr, told)
	pr.CloseWithError(errors.New("restore ended"))
	<-recompressed
	if err != nil {
		// The server may have made the stream before the failure: take it away again.
		dctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		defer cancel()
		if js, jerr := jetstream.New(nc); jerr == nil {
			if derr := js.DeleteStream(dctx, stream); derr != nil && !errors.Is(derr, jetstream.ErrStreamNotFound) {
				err = fmt.Errorf("%w (and the partial stream could not be deleted: %w)", err, derr)
			}
		}
		return nil, fmt.Errorf("restore of stream %s: %w", stream, err)
	}
	return info, nil
}

// sendArchive sends r in chunks to a restore's deliver subject, each answered, then the empty
// message that ends it, answered with the restored stream's information. progress is told the
// bytes sent after each chunk.
func sendArchive(ctx context.Context, nc *nats.Conn, deliver string, r io.Reader, progress func(int64)) (*jetstream.StreamInfo, error) {
	chunk := int64(restoreChunkMax)
	if mp := nc.MaxPayload() - 1024; mp > 0 && mp < chunk {
		chunk = mp
	}
	buf := make([]byte, chunk)
	var sent int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			cctx, cancel := context.WithTimeout(ctx, restoreChunkTimeout)
			reply, err := nc.RequestWithContext(cctx, deliver, buf[:n])
			cancel()
			if err != nil {
				return nil, fmt.Errorf("chunk at byte %d: %w", sent, err)
			}
			if len(reply.Data) > 0 {
				var e struct {
					Error *jetstream.APIError `json:"error"`
				}
				if json.Unmarshal(reply.Data, &e) == nil && e.Error != nil {
					return nil, fmt.Errorf("the server refused the chunk at byte %d: %w", sent, apiError(e.Error))
				}
			}
			sent += int64(n)
			if progress != nil {
				progress(sent)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	dctx, cancel := context.WithTimeout(ctx, restoreDoneTimeout)
	defer cancel()
	reply, err := nc.RequestWithContext(dctx, deliver, nil)
	if err != nil {
		return nil, fmt.Errorf("the server did not confirm the restore after all %d bytes: %w", sent, err)
	}
	var done struct {
		Error *jetstream.APIError `json:"error"`
		jetstream.StreamInfo
	}
	if err := json.Unmarshal(reply.Data, &done); err != nil {
		return nil, fmt.Errorf("the server's answer to the restore: %w", err)
	}
	if done.Error != nil {
		return nil, apiError(done.Error)
	}
	return &done.StreamInfo, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// apiRequest sends a JetStream API request and decodes its answer into v.
func apiRequest(ctx context.Context, nc *nats.Conn, subject string, req []byte, v any) error {
	rctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, subject, req)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("JetStream does not answer (%w): is JetStream enabled on the server?", err)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("JetStream did not answer %s within %v (on a cluster: has the stream a leader?): %w", subject, apiTimeout, err)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(msg.Data, v)
}

// apiError is a JetStream API error in a sentence, matching nats.go's own errors with errors.Is
// (jetstream.ErrStreamNotFound) and the API error with errors.As.
func apiError(e *jetstream.APIError) error {
	if e.ErrorCode == jetstream.JSErrCodeStreamNotFound {
		return fmt.Errorf("%w: %s", jetstream.ErrStreamNotFound, e.Description)
	}
	return jsAPIError{e}
}

// jsAPIError words a JetStream API error for people.
type jsAPIError struct{ *jetstream.APIError }

func (e jsAPIError) Error() string {
	return fmt.Sprintf("JetStream: %s (error %d)", e.Description, e.ErrorCode)
}

func (e jsAPIError) Unwrap() error { return e.APIError }
