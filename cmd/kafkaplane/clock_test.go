package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestOneClock: Main.Now reaches every component that records a time, so a
// server whose clock runs ahead dates instances, RAM users and operations
// by it, not by the host's clock. The skew stays inside the signature
// window, so the official client is still accepted.
func TestOneClock(t *testing.T) {
	const skew = 10 * time.Minute
	w := &world{t: t}
	w.m = startMain(t, shiftClock(skew))
	w.root = principal{addr: w.m.ListenAddr(), id: testKeyID, secret: testKeySecret}
	floor := time.Now().Add(skew - time.Minute)

	id := w.instance()
	vo := w.instances(map[string]string{"InstanceId.1": id})[0]
	ms, err := strconv.ParseInt(fmt.Sprint(vo["CreateTime"]), 10, 64)
	if err != nil || time.UnixMilli(ms).Before(floor) {
		t.Errorf("instance CreateTime %v is on the host clock, want the server's (after %v)", time.UnixMilli(ms), floor)
	}
	user := w.ram("CreateUser", map[string]string{"UserName": "clocked"})["User"].(map[string]any)
	if d, err := time.Parse(time.RFC3339, user["CreateDate"].(string)); err != nil || d.Before(floor.Truncate(time.Second)) {
		t.Errorf("user CreateDate %v (%v), want the server's clock (after %v)", user["CreateDate"], err, floor)
	}
}
