package main

import (
	"log/slog"
	"strings"
	"testing"
)

func TestLogWriterWritesErrorsAtOnceAndEverythingOnFlush(t *testing.T) {
	var out syncBuffer
	w := newLogWriter(&out)
	log := slog.New(flushingHandler{slog.NewTextHandler(w, nil), w}).With("component", "test")
	log.Info("request", "n", 1)
	log.Error("internal error", "n", 2)
	// The error and everything logged before it are out without waiting.
	got := out.String()
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=\"internal error\"") || !strings.Contains(got, "component=test") {
		t.Fatalf("after an error the log holds %q", got)
	}
	log.Info("request", "n", 3)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "\n") != 3 || !strings.Contains(got, "n=3") {
		t.Fatalf("after Flush the log holds %q", got)
	}
}
