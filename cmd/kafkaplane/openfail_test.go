package main

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestOpenFailureReleasesEverything makes Open fail at its last step (the
// endpoint's address is taken) after it restored an instance's brokers and
// started the worker: the brokers' ports, the store and every goroutine it
// started are released.
func TestOpenFailureReleasesEverything(t *testing.T) {
	dir := t.TempDir()
	ports := kafkaPorts(t, 6)
	m1 := startMain(t, ports, inDir(dir))
	c := kafkaClient(t, m1.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	endpoint := describe(t, c, id).EndPoint
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before := runtime.NumGoroutine()
	m := NewMain()
	ports(m)
	m.DataDir, m.Addr = dir, taken.Addr().String()
	m.RootAccessKeyID, m.RootAccessKeySecret = testKeyID, testKeySecret
	m.Logger = slog.New(slog.DiscardHandler)
	err = m.Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		m.Close()
		t.Fatalf("Open on a taken address: %v", err)
	}
	for _, addr := range seeds(endpoint) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("broker port %s still held after the failed Open: %v", addr, err)
		}
		ln.Close()
	}
	if _, err := m.DB.SchemaVersion(context.Background()); err == nil {
		t.Fatal("the store is still open after the failed Open")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left after the failed Open, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
