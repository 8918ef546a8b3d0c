package broker

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// PortRange is an inclusive range of loopback ports for instance brokers.
type PortRange struct {
	Min, Max int
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Contains reports whether port lies in r.
func (r PortRange) Contains(port int) bool { return port >= r.Min && port <= r.Max }

// Overlaps reports whether r and o share a port.
func (r PortRange) Overlaps(o PortRange) bool { return r.Min <= o.Max && o.Min <= r.Max }

// ParsePortRange reads "MIN-MAX": two port numbers, MIN ≥ 1, MAX ≤ 65535,
// with room for at least one instance of three brokers.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	min, err1 := strconv.Atoi(lo)
	max, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("%q is not MIN-MAX (two port numbers, e.g. 19092-29091)", s)
	}
	if min < 1 || max > 65535 || max < min+2 {
		return PortRange{}, fmt.Errorf("%q: want 1 ≤ MIN, MAX ≤ 65535 and room for three brokers", s)
	}
	return PortRange{min, max}, nil
}

// EphemeralRangeFile is where Linux keeps the range it picks the local
// ports of outgoing connections and of listeners on port 0 from.
const EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// EphemeralRange reads the kernel's ephemeral port range from path. ok is
// false when the file does not exist (not Linux).
func EphemeralRange(path string) (r PortRange, ok bool, err error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return PortRange{}, false, nil
	}
	if err != nil {
		return PortRange{}, false, err
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return PortRange{}, false, fmt.Errorf("%s: unexpected content %q", path, data)
	}
	min, err1 := strconv.Atoi(f[0])
	max, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || min > max {
		return PortRange{}, false, fmt.Errorf("%s: unexpected content %q", path, data)
	}
	return PortRange{min, max}, true, nil
}

// CheckBrokerPorts refuses a broker range that shares ports with the
// kernel's ephemeral range (read from ephemeralFile). Every socket the
// process opens without a fixed port — outgoing connections to the store or
// to brokers, the storage engine's listeners — takes its port from the
// ephemeral range, so only a disjoint broker range guarantees that an
// instance finds its ports free when it starts or restarts.
func CheckBrokerPorts(r PortRange, ephemeralFile string) error {
	eph, ok, err := EphemeralRange(ephemeralFile)
	if err != nil {
		return fmt.Errorf("--broker-ports: cannot read the kernel's ephemeral port range: %w", err)
	}
	if ok && r.Overlaps(eph) {
		return fmt.Errorf("--broker-ports %s overlaps the kernel's ephemeral port range %s (%s), from which outgoing connections take ports an instance owns; "+
			"choose a range outside it (the default is 19092-29091) or move the ephemeral range with sysctl net.ipv4.ip_local_port_range", r, eph, ephemeralFile)
	}
	return nil
}

// PortAllocator hands out broker ports from a range: ports held by a
// stored instance (deleted ones have given theirs back) or handed out by
// this allocator within the reservation time are skipped, and a port is
// only handed out if it can be bound now. The reservation covers the time
// between allocation and the StartInstance transaction that stores the
// ports; a call that failed in between frees its ports when it is over.
type PortAllocator struct {
	Store kafkaplane.InstanceService
	Range PortRange
	// Host is the address ports are tried on (default 127.0.0.1).
	Host string
	// Now is the clock of reservations (default time.Now).
	Now func() time.Time

	mu       sync.Mutex
	reserved map[int]time.Time
}

// PortReservation is how long an allocation holds its ports before they
// must be stored with an instance.
const PortReservation = time.Minute

// Allocate returns n free ports of the range.
func (p *PortAllocator) Allocate(ctx context.Context, n int) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	if p.reserved == nil {
		p.reserved = map[int]time.Time{}
	}
	for port, at := range p.reserved {
		if now.Sub(at) > PortReservation {
			delete(p.reserved, port)
		}
	}
	all, err := p.Store.FindInstances(ctx, kafkaplane.InstanceFilter{})
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	for _, inst := range all {
		for _, ports := range [][]int{inst.BrokerPorts, inst.SaslPorts, inst.SslPorts} {
			for _, port := range ports {
				used[port] = true
			}
		}
	}
	host := p.Host
	if host == "" {
		host = "127.0.0.1"
	}
	var out []int
	for port := p.Range.Min; port <= p.Range.Max && len(out) < n; port++ {
		if _, held := p.reserved[port]; held || used[port] || !bindable(host, port) {
			continue
		}
		out = append(out, port)
	}
	if len(out) < n {
		return nil, kafkaplane.Errorf(kafkaplane.CodeUnavailable, "No free broker ports are left in %s.", p.Range)
	}
	for _, port := range out {
		p.reserved[port] = now
	}
	return out, nil
}

func bindable(host string, port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
