package chaos

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one kafkaplane process serving one account: started from the
// built binary, SIGKILLed and restarted on the same data dir, port and
// broker port block.
type server struct {
	bin, addr, dataDir, account string
	root                        principal
	portBase                    int
	qps                         string

	mu  sync.Mutex
	cmd *exec.Cmd
	up  chan struct{} // closed while the process serves
	// failed is closed when a restart failed: nobody waits for it then.
	failed chan struct{}
	logf   *os.File
}

// QPS overrides: the driver issues lifecycle calls faster than alikafka's
// quotas allow, and a run of throttled calls exercises nothing.
const qpsOverrides = "CreatePostPayOrder=200,CreatePrePayOrder=200,StartInstance=200,ReleaseInstance=200," +
	"UpgradeInstanceVersion=200,UpdateInstanceConfig=200,DeleteInstance=200,StopInstance=200,ReopenInstance=200"

func newServer(bin, dir, account string, portBase int) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{
		bin: bin, addr: addr, dataDir: filepath.Join(dir, "data"), account: account,
		root:     principal{name: "root", id: "LTAIchaosroot" + account[:8], secret: "chaos-root-secret-" + account},
		portBase: portBase, qps: qpsOverrides, up: make(chan struct{}), failed: make(chan struct{}),
	}
	s.logf, err = os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	return s, err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the process and waits until /healthz answers.
func (s *server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "serve", "--addr", s.addr, "--data-dir", s.dataDir,
		"--broker-ports", fmt.Sprintf("%d-%d", s.portBase, s.portBase+portBlockSize-1), "--qps", s.qps)
	cmd.Env = append(os.Environ(),
		"KAFKAPLANE_ACCOUNT_ID="+s.account,
		"KAFKAPLANE_ROOT_ACCESS_KEY_ID="+s.root.id,
		"KAFKAPLANE_ROOT_ACCESS_KEY_SECRET="+s.root.secret)
	cmd.Stdout, cmd.Stderr = s.logf, s.logf
	fmt.Fprintf(s.logf, "=== chaos: start %s\n", time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				close(s.up)
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			select {
			case <-s.failed:
			default:
				close(s.failed)
			}
			return fmt.Errorf("kafkaplane on %s (account %s) did not become healthy: %v", s.addr, s.account, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process with sig (SIGKILL or SIGTERM) and waits for it.
func (s *server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.up = make(chan struct{})
	fmt.Fprintf(s.logf, "=== chaos: %v %s\n", sig, time.Now().Format(time.RFC3339Nano))
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// waitUp blocks until the process serves or ctx ends.
func (s *server) waitUp(ctx context.Context) {
	s.mu.Lock()
	up := s.up
	s.mu.Unlock()
	select {
	case <-up:
	case <-s.failed:
	case <-ctx.Done():
	}
}

func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// usage is what the process holds at one moment.
type usage struct {
	fds, goroutines, threads int
	// files counts the open descriptors by what they point at (sockets,
	// pipes, files relative to the data dir), to explain a growth.
	files map[string]int
}

// measure reads the process's open files and threads from /proc and its
// goroutines from the Go collector on /metrics.
func (s *server) measure() (usage, error) {
	var u usage
	pid := s.pid()
	if pid == 0 {
		return u, fmt.Errorf("not running")
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, err
	}
	u.fds = len(ents)
	u.files = map[string]int{}
	for _, e := range ents {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		if i := strings.IndexByte(target, '['); i > 0 {
			target = target[:i] // socket:[1234] → socket:
		}
		if rel, err := filepath.Rel(s.dataDir, target); err == nil && !strings.HasPrefix(rel, "..") {
			target = "DATA/" + rel
		}
		u.files[target]++
	}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
				u.threads, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		f.Close()
	}
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return u, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			u.goroutines = int(f)
		}
	}
	return u, nil
}

// portBlockSize is how many loopback ports each server's brokers get.
const portBlockSize = 41

// portBlock returns the first of portBlockSize loopback ports, all bindable
// a moment ago, from below the kernel's ephemeral range so that outgoing
// connections cannot take a broker's port while it restarts.
func portBlock(taken map[int]bool) (int, error) {
	lo, hi := 20000, ephemeralFrom()
	for range 200 {
		base := lo + rand.IntN(hi-lo-portBlockSize)
		if taken[base/portBlockSize] || taken[base/portBlockSize+1] {
			continue
		}
		if bindable(base) {
			taken[base/portBlockSize], taken[base/portBlockSize+1] = true, true
			return base, nil
		}
	}
	return 0, fmt.Errorf("no block of %d bindable ports in %d-%d", portBlockSize, lo, hi)
}

func ephemeralFrom() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 21000 {
				return n
			}
		}
	}
	return 32768
}

func bindable(base int) bool {
	for p := base; p < base+portBlockSize; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// filesDiff lists what b holds more of than a.
func filesDiff(a, b usage) string {
	var out []string
	for k, n := range b.files {
		if n > a.files[k] {
			out = append(out, fmt.Sprintf("%s +%d", k, n-a.files[k]))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// nonData counts the descriptors that are not files in the data dir.
func (u usage) nonData() int {
	n := 0
	for k, c := range u.files {
		if !strings.HasPrefix(k, "DATA/") {
			n += c
		}
	}
	return n
}
