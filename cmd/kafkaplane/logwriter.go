package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushDelay is how long a log line may wait in memory before it is
// written.
const logFlushDelay = 50 * time.Millisecond

// logWriter gathers log lines and writes them in batches: the request log
// has a line per request, and one write(2) per line was a noticeable part
// of serving a cheap request. Lines are written at most logFlushDelay
// after they were logged, when 64 KiB are waiting, on every warning or
// error (see flushingHandler), and when the service closes; a process
// killed outright loses at most the last logFlushDelay of info lines.
type logWriter struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	pending bool
}

func newLogWriter(w io.Writer) *logWriter { return &logWriter{w: w} }

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) >= 64<<10 {
		return len(p), l.flushLocked()
	}
	if !l.pending {
		l.pending = true
		time.AfterFunc(logFlushDelay, func() { l.Flush() })
	}
	return len(p), nil
}

// Flush writes what is waiting.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *logWriter) flushLocked() error {
	l.pending = false
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// flushingHandler writes warnings and errors through at once, so that
// what explains a failure is never left waiting in memory.
type flushingHandler struct {
	slog.Handler
	w *logWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.w}
}
