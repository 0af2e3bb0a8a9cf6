package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// faultWatch is the embedded nats-server's logger: it logs nothing but the server's reports that
// it could not write its files, and keeps the first. A JetStream file store that met a write
// error (a full disk the reserve did not cover, an I/O error) stores nothing more, and answers
// nothing, until the server restarts; one that met a permission error shuts JetStream down.
type faultWatch struct {
	dir   string
	log   *slog.Logger
	mu    sync.Mutex
	fault string
}

func (w *faultWatch) note(level slog.Level, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	lower := strings.ToLower(msg)
	// A stream's own write error, not one of a store the server makes for a while (an atomic
	// batch's staging store, which fails that batch alone: not recorded).
	stream := strings.HasPrefix(lower, "jetstream stream ") && strings.Contains(lower, "critical write error")
	if !stream && !strings.Contains(lower, "disabling jetstream") {
		return
	}
	w.mu.Lock()
	first := w.fault == ""
	if first {
		w.fault = msg
	}
	w.mu.Unlock()
	if first && w.log != nil {
		w.log.Log(context.Background(), level, "the embedded nats-server could not write the data folder and takes no write until serve restarts; free space there (or make it writable), then restart",
			"dir", w.dir, "nats", msg)
	}
}

func (w *faultWatch) Noticef(string, ...any)         {}
func (w *faultWatch) Debugf(string, ...any)          {}
func (w *faultWatch) Tracef(string, ...any)          {}
func (w *faultWatch) Warnf(format string, v ...any)  { w.note(slog.LevelWarn, format, v) }
func (w *faultWatch) Errorf(format string, v ...any) { w.note(slog.LevelError, format, v) }
func (w *faultWatch) Fatalf(format string, v ...any) { w.note(slog.LevelError, format, v) }

func (w *faultWatch) current() (dir, fault string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dir, w.fault
}

// WriteFault says why the embedded server takes no write now: it reported that it could not
// write its files (a *DiskError naming the data folder, wrapping ErrDiskFull), or nil. Only a
// restart of the server clears it; Config.WriteFault gives it to the store, which then refuses
// writes at once, not recorded, rather than send them to a server that would never answer.
func (e *Embedded) WriteFault() error {
	if e == nil || e.faults == nil {
		return nil
	}
	if dir, fault := e.faults.current(); fault != "" {
		return &DiskError{Dir: dir, Fault: fault}
	}
	return nil
}
