package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSIGTERMClosesStorage sends SIGTERM to a serving kafkaplane with a
// running instance and checks that it exits 0 after closing the storage
// engine in order, which is when it writes out the producers' sequence
// state (a crash leaves that to be rebuilt from the log).
func TestSIGTERMClosesStorage(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	base := portBlock(t)
	start := serveProcess(t, addr, dataDir, "--broker-ports", fmt.Sprintf("%d-%d", base, base+40))
	cmd := start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	c := kafkaClient(t, addr)
	id := createRunning(t, c, "2.2.0")
	endpoint := describe(t, c, id).EndPoint
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(kgoClient(t, endpoint)).CreateTopic(ctx, 3, 1, nil, "term"); err != nil {
		t.Fatal(err)
	}
	prod := kgoClient(t, endpoint, kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range 100 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "term", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The storage engine writes its producers' sequence windows when it
	// is closed in order (the file may be there already, from a start of
	// the deploy, but without this topic's producer).
	windows := filepath.Join(dataDir, "brokers", id, "kfake", "seq_windows.json")
	if termWindows(t, windows) {
		t.Fatal("producer windows written before the shutdown")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	if !termWindows(t, windows) {
		t.Fatal("storage was not closed in order on SIGTERM: no producer windows written")
	}
}

// termWindows reports whether the storage engine's saved sequence windows
// hold the producer of topic "term".
func termWindows(t *testing.T, path string) bool {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Windows []struct {
			Topic string `json:"topic"`
		} `json:"windows"`
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range saved.Windows {
		if w.Topic == "term" {
			return true
		}
	}
	return false
}
