package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

const crashInstance = "alikafka_post-crash"

// crashHelper runs in a child process: it starts an instance, writes data
// and group offsets, reports READY and waits to be killed.
func crashHelper(t *testing.T, dir string, ports []int) {
	k := newRuntime(t, dir)
	addrs := startInstance(t, k, crashInstance, "2.2.0", ports)
	createTopic(t, addrs, "2.2.0", "crash", 3)
	cl := newClient(t, addrs)
	produceN(t, cl, "crash", "c", 1000, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs := kadm.Offsets{}
	for p := int32(0); p < 3; p++ {
		offs.Add(kadm.Offset{Topic: "crash", Partition: p, At: 7, LeaderEpoch: -1, Metadata: "m"})
	}
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, "crash-g", offs); err != nil {
		t.Fatal(err)
	}
	fmt.Println("READY")
	time.Sleep(time.Minute)
}

func TestSIGKILLRecovery(t *testing.T) {
	if dir := os.Getenv("BROKER_CRASH_DIR"); dir != "" {
		var ports []int
		for _, p := range strings.Split(os.Getenv("BROKER_CRASH_PORTS"), ",") {
			n, _ := strconv.Atoi(p)
			ports = append(ports, n)
		}
		crashHelper(t, dir, ports)
		return
	}
	dir := t.TempDir()
	ports := freePorts(t, 3)
	var ps []string
	for _, p := range ports {
		ps = append(ps, strconv.Itoa(p))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLRecovery$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BROKER_CRASH_DIR="+dir, "BROKER_CRASH_PORTS="+strings.Join(ps, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("helper exited before READY")
		}
	case <-time.After(40 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper never got READY")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no graceful shutdown
		t.Fatal(err)
	}
	cmd.Wait()

	k := newRuntime(t, dir)
	defer k.Close()
	addrs := startInstance(t, k, crashInstance, "2.2.0", ports)
	recs := consumeAll(t, addrs, "crash", 1000)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Value)] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("after SIGKILL %d distinct records of 1000", len(seen))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fo, err := kadm.NewClient(newClient(t, addrs)).FetchOffsets(ctx, "crash-g")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 3; p++ {
		if o, ok := fo.Lookup("crash", p); !ok || o.At != 7 || o.Metadata != "m" {
			t.Fatalf("partition %d offset after SIGKILL: %+v", p, o)
		}
	}
	// Destroy removes the data.
	if err := k.Destroy(ctx, crashInstance); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/" + crashInstance); !os.IsNotExist(err) {
		t.Fatalf("data left after Destroy: %v", err)
	}
}
