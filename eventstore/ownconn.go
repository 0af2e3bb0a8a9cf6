package eventstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// DialFollow opens a connection of the store's own to the server of its stream and gives what
// the server asks of a client (Embedded.DialFollow is one).
type DialFollow func() (net.Conn, Credentials, error)

// Credentials are what a NATS server asks of a client that connects; empty: nothing.
type Credentials struct {
	User, Password string
}

// ownConn is the follower's connection of its own to the embedded server: it reads the stream
// through an ephemeral pull consumer with no acknowledgements, speaking the NATS protocol
// itself. The messages of a pull are read into a buffer of their own, a subject is a string once
// per subject, and a message costs no allocation but its hash. Through the client a message
// costs several (its copy, its headers decoded into a map, its metadata, a timer for each Next):
// in a first start of the ten-year ledger, 12 of the 29 GB allocated, and the collector was a
// quarter of its CPU.
type ownConn struct {
	conn     net.Conn
	r        *bufio.Reader
	stream   string
	consumer string
	inbox    string
	pullReq  []byte     // the protocol line and body of a pull that does not wait
	waitReq  []byte     // of one that waits for new messages
	arena    *pullArena // where the messages of the pull being read go
	want     int        // the size an arena should have: the bytes of the largest pull yet
	read     int        // bytes of messages read in the pull so far
	frame    frame      // the protocol line read last
	lineBuf  []byte     // the copy of a message line that frame's slices are of
	small    []byte     // the payload of a status or an answer
}

const (
	// pullSize is how many messages a pull asks for. The server never waits on the connection:
	// during the replay all of a pull is read before any is handed on, after it a goroutine reads
	// the connection at all times and asks for more only when there is room for a pull's worth.
	pullSize = 1024
	// ownWait bounds one exchange with the server; a reader that waits longer gives up and
	// the follower goes on through the client.
	ownWait = 30 * time.Second
	// ownInactive is how long the server keeps the consumer while no pull asks of it: after its
	// reader went away without deleting it (the store closed, or its follower went on through
	// the client), or while the follower folds a backlog of pulls already read.
	ownInactive = 5 * time.Minute
	// followPullWait is how long a pull after the replay waits for new messages; the server
	// answers one that got none by then, so a connection silent for longer is broken.
	followPullWait = 10 * time.Second
)

// errOwnEnd ends the batches of an ownConn's reader, which failed: what it read is all handed on,
// and the follower goes on through the client from the next sequence.
var errOwnEnd = errors.New("the follower's own connection is done")

// openOwn connects through dial and creates a consumer of stream from sequence from on.
func openOwn(dial DialFollow, stream string, from uint64) (*ownConn, error) {
	conn, cred, err := dial()
	if err != nil {
		return nil, fmt.Errorf("own connection: %w", err)
	}
	c := &ownConn{
		conn: conn, r: bufio.NewReaderSize(conn, 256<<10), stream: stream,
		consumer: "kz-follow-" + uuid.NewString(), inbox: "_KZ_FOLLOW." + strings.ReplaceAll(uuid.NewString(), "-", ""),
	}
	if err := c.handshake(cred); err != nil {
		conn.Close()
		return nil, fmt.Errorf("own connection: %w", err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"stream_name": stream,
		"action":      "create",
		"config": map[string]any{
			"name": c.consumer, "deliver_policy": "by_start_sequence", "opt_start_seq": max(from, 1),
			"ack_policy": "none", "replay_policy": "instant", "mem_storage": true, "num_replicas": 1,
			"inactive_threshold": ownInactive.Nanoseconds(),
		},
	})
	if err := c.request("$JS.API.CONSUMER.CREATE."+stream+"."+c.consumer, cfg); err != nil {
		conn.Close()
		return nil, fmt.Errorf("own connection: consumer: %w", err)
	}
	pull := func(body string) []byte {
		return fmt.Appendf(nil, "PUB $JS.API.CONSUMER.MSG.NEXT.%s.%s %s.pull %d\r\n%s\r\n", stream, c.consumer, c.inbox, len(body), body)
	}
	c.pullReq = pull(fmt.Sprintf(`{"batch":%d,"no_wait":true}`, pullSize))
	c.waitReq = pull(fmt.Sprintf(`{"batch":%d,"expires":%d}`, pullSize, followPullWait.Nanoseconds()))
	return c, nil
}

// handshake reads the server's INFO, connects, subscribes to the inbox and waits for the
// server's PONG, by which it has taken all that.
func (c *ownConn) handshake(cred Credentials) error {
	c.conn.SetDeadline(time.Now().Add(ownWait))
	defer c.conn.SetDeadline(time.Time{})
	if err := c.readLine(); err != nil {
		return err
	}
	if c.frame.kind != "INFO" {
		return errors.New("the server's first line is not INFO")
	}
	connect, _ := json.Marshal(map[string]any{
		"verbose": false, "pedantic": false, "headers": true, "no_responders": true, "protocol": 1,
		"name": "kuozheng follower", "lang": "go", "user": cred.User, "pass": cred.Password,
	})
	if _, err := fmt.Fprintf(c.conn, "CONNECT %s\r\nSUB %s.* 1\r\nPING\r\n", connect, c.inbox); err != nil {
		return err
	}
	for {
		if err := c.readLine(); err != nil {
			return err
		}
		switch c.frame.kind {
		case "PONG":
			return nil
		case "PING", "+OK", "INFO":
		default:
			return fmt.Errorf("unexpected %s from the server", c.frame.kind)
		}
	}
}

// request sends an API request and reads its answer: an error if it says one.
func (c *ownConn) request(subject string, body []byte) error {
	c.conn.SetDeadline(time.Now().Add(ownWait))
	defer c.conn.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c.conn, "PUB %s %s.api %d\r\n%s\r\n", subject, c.inbox, len(body), body); err != nil {
		return err
	}
	for {
		if err := c.readLine(); err != nil {
			return err
		}
		if c.frame.kind != "MSG" && c.frame.kind != "HMSG" {
			continue
		}
		isAnswer := bytes.HasSuffix(c.frame.subject, []byte(".api"))
		hdr := c.frame.hdr
		payload, err := c.payload()
		if err != nil {
			return err
		}
		if !isAnswer {
			continue // a delivery of a pull before
		}
		if hdr > 0 {
			return fmt.Errorf("%s", bytes.TrimSpace(payload[:hdr]))
		}
		var ans struct {
			Error *struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(payload, &ans); err != nil {
			return fmt.Errorf("an answer that is not JSON: %w", err)
		}
		if ans.Error != nil {
			return fmt.Errorf("%s (%d)", ans.Error.Description, ans.Error.Code)
		}
		return nil
	}
}

// pullArena is a buffer that the messages of a pull are read into, shared by the batches
// they are handed on in: the last batch released gives it back to pullArenas.
type pullArena struct {
	buf  []byte
	refs atomic.Int32
}

var pullArenas = sync.Pool{New: func() any { return &pullArena{} }}

// release tells a that one of the batches sharing it is done with it.
func (a *pullArena) release() {
	if a != nil && a.refs.Add(-1) == 0 {
		a.buf = a.buf[:0]
		pullArenas.Put(a)
	}
}

// pull asks for the next pullSize messages, waiting up to followPullWait for them to be
// stored if wait (else not at all), and gives each to deliver as it is read, its bytes in arena
// (or, when it is too small, in buffers of their own); short reports that the pull ended before
// it had them all: there was nothing more to deliver, or the wait was over.
func (c *ownConn) pull(wait bool, arena *pullArena, deliver func(tailMsg)) (short bool, err error) {
	req, deadline := c.pullReq, ownWait
	if wait {
		req, deadline = c.waitReq, followPullWait+ownWait
	} else if cap(arena.buf) < c.want {
		arena.buf = make([]byte, 0, c.want)
	}
	c.conn.SetDeadline(time.Now().Add(deadline))
	defer c.conn.SetDeadline(time.Time{})
	if _, err := c.conn.Write(req); err != nil {
		return false, err
	}
	c.arena, c.read = arena, 0
	defer func() { c.want = max(c.want, c.read+c.read/8) }()
	for n := 0; n < pullSize; {
		if err := c.readLine(); err != nil {
			return false, err
		}
		switch c.frame.kind {
		case "PING":
			if _, err := io.WriteString(c.conn, "PONG\r\n"); err != nil {
				return false, err
			}
			continue
		case "MSG", "HMSG":
		default:
			continue
		}
		if !bytes.HasPrefix(c.frame.reply, []byte("$JS.ACK.")) {
			hdr := c.frame.hdr
			payload, err := c.payload()
			if err != nil {
				return false, err
			}
			status := payload[:hdr]
			switch {
			case bytes.HasPrefix(status, []byte("NATS/1.0 404")), bytes.HasPrefix(status, []byte("NATS/1.0 408")):
				return true, nil // nothing left to deliver, or the wait is over: the pull ends early
			case bytes.HasPrefix(status, []byte("NATS/1.0 100")):
				continue // a heartbeat
			default:
				return false, fmt.Errorf("the server answers a pull with %q", bytes.TrimSpace(status))
			}
		}
		m, err := c.message()
		if err != nil {
			return false, err
		}
		deliver(m)
		n++
	}
	return false, nil
}

// message reads the delivery whose line was read last.
func (c *ownConn) message() (tailMsg, error) {
	f := c.frame
	meta, ok := parseAckReply(f.reply)
	if !ok {
		return tailMsg{}, fmt.Errorf("a delivery with metadata %q", f.reply)
	}
	// A string of its own: looking it up in a map of the subjects read cost more than making
	// it, once the map held a city's payers.
	subject := string(f.subject)
	c.read += f.size
	a := c.arena
	if cap(a.buf)-len(a.buf) < f.size+2 {
		// The arena is full: the pull's other messages go to a buffer of their own (the
		// messages read before stay where they are), and the next pull's arena is larger.
		c.arena = &pullArena{buf: make([]byte, 0, max(f.size+2, 64<<10))}
		a = c.arena
	}
	b := a.buf[len(a.buf) : len(a.buf)+f.size+2]
	if _, err := io.ReadFull(c.r, b); err != nil {
		return tailMsg{}, err
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return tailMsg{}, errors.New("a message not followed by CRLF")
	}
	a.buf = a.buf[:len(a.buf)+f.size]
	return tailMsg{ok: true, seq: meta.seq, ts: meta.ts, pending: meta.pending, subject: subject, hash: headerValue(b[:f.hdr], HashHeader), data: b[f.hdr:f.size:f.size]}, nil
}

// frame is the protocol line read last: its kind and, for a message, its subject, reply
// subject (nil: none), header length and size; the slices are the reader's until the next line.
type frame struct {
	kind           string // "MSG", "HMSG", "PING", "PONG", "+OK", "INFO" or "other"
	subject, reply []byte
	hdr, size      int
}

// readLine reads a protocol line into c.frame.
func (c *ownConn) readLine() error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = errors.New("a protocol line longer than the buffer")
		}
		return err
	}
	line = bytes.TrimRight(line, "\r\n")
	kind, rest, _ := bytes.Cut(line, []byte(" "))
	f := frame{kind: "other"}
	switch string(kind) {
	case "-ERR":
		return fmt.Errorf("the server says %s", rest)
	case "MSG", "HMSG", "PING", "PONG", "+OK", "INFO":
		f.kind = string(kind) // a constant: the switch compares without a string
	}
	if f.kind == "MSG" || f.kind == "HMSG" {
		c.lineBuf = append(c.lineBuf[:0], rest...) // the payload's read overwrites line
		var args [5][]byte
		n := 0
		for rest := c.lineBuf; len(rest) > 0; n++ {
			if n == len(args) {
				return fmt.Errorf("a %s line with too many fields", f.kind)
			}
			args[n], rest, _ = bytes.Cut(rest, []byte(" "))
			rest = bytes.TrimLeft(rest, " ")
		}
		headers := 0
		if f.kind == "HMSG" {
			headers = 1
		}
		// subject sid [reply] [header length] size
		switch n - headers {
		case 3:
		case 4:
			f.reply = args[2]
		default:
			return fmt.Errorf("a %s line with %d fields", f.kind, n)
		}
		f.subject = args[0]
		if f.size, err = strconv.Atoi(string(args[n-1])); err == nil && headers == 1 {
			f.hdr, err = strconv.Atoi(string(args[n-2]))
		}
		if err != nil || f.size < 0 || f.hdr < 0 || f.hdr > f.size || f.size > maxPulledMessage {
			return fmt.Errorf("a %s line with sizes %q", f.kind, c.lineBuf)
		}
	}
	c.frame = f
	return nil
}

// maxPulledMessage bounds a message read: the embedded server's own limit on a payload, and
// its headers.
const maxPulledMessage = 8<<20 + 64<<10

// payload reads the payload of the message line read last into c.small and returns it.
func (c *ownConn) payload() ([]byte, error) {
	c.small = slices.Grow(c.small[:0], c.frame.size+2)[:c.frame.size+2]
	if _, err := io.ReadFull(c.r, c.small); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(c.small, []byte("\r\n")) {
		return nil, errors.New("a message not followed by CRLF")
	}
	return c.small[:c.frame.size], nil
}

// close deletes the consumer, if the connection still serves, and closes the connection.
func (c *ownConn) close() {
	_ = c.request("$JS.API.CONSUMER.DELETE."+c.stream+"."+c.consumer, nil)
	c.conn.Close()
}

// parseAckReply reads a delivery's stream sequence, time and the messages pending after it from
// its reply subject: $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.
// <pending>, or with a domain and an account hash after $JS.ACK (and a token at the end) on
// newer servers.
func parseAckReply(reply []byte) (m ackMeta, ok bool) {
	var tokens [13][]byte
	n := 0
	for rest := reply; ; n++ {
		if n == len(tokens) {
			return ackMeta{}, false
		}
		var found bool
		tokens[n], rest, found = bytes.Cut(rest, []byte("."))
		if !found {
			n++
			break
		}
	}
	var at int // where the stream sequence is
	switch {
	case n == 9:
		at = 5
	case n >= 11:
		at = 7
	default:
		return ackMeta{}, false
	}
	if string(tokens[0]) != "$JS" || string(tokens[1]) != "ACK" {
		return ackMeta{}, false
	}
	var err1, err2, err3 error
	m.seq, err1 = strconv.ParseUint(string(tokens[at]), 10, 64)
	m.ts, err2 = strconv.ParseInt(string(tokens[at+2]), 10, 64)
	m.pending, err3 = strconv.ParseUint(string(tokens[at+3]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return ackMeta{}, false
	}
	return m, true
}

// ackMeta is what a delivery's reply subject says of it.
type ackMeta struct {
	seq     uint64 // its stream sequence
	ts      int64  // when it was stored, Unix nanoseconds
	pending uint64 // messages after it the consumer has yet to deliver
}

// headerValue returns the value of a header in a NATS header block, or "".
func headerValue(block []byte, name string) string {
	for rest := block; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, found := bytes.Cut(line, []byte(":"))
		if found && string(k) == name {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}
