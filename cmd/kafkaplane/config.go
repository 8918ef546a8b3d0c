package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/openapi"
)

// Validate checks the whole configuration before anything is started, so
// that a setting that cannot work ends the process with one line naming
// the flag instead of starting a service that silently ignores it or
// fails half-way. It also loads the version catalogue.
//
// Every rule for a serve setting lives here; Open calls Validate first.
func (m *Main) Validate() error {
	if err := validAccountID(m.AccountID); err != nil {
		return fmt.Errorf("KAFKAPLANE_ACCOUNT_ID: %w", err)
	}
	addrPort, err := validListenAddr(m.Addr)
	if err != nil {
		return err
	}
	if m.BrokerRuntime != "kafka" && m.BrokerRuntime != "fake" && m.BrokerRuntime != "strimzi" {
		return fmt.Errorf("--broker-runtime %q: want kafka, strimzi or fake", m.BrokerRuntime)
	}
	ports := m.brokerPorts()
	if _, err := broker.ParsePortRange(ports.String()); err != nil {
		return fmt.Errorf("--broker-ports %w", err)
	}
	if addrPort != 0 && ports.Contains(addrPort) {
		return fmt.Errorf("--addr %s lies inside --broker-ports %s; choose a port outside the broker range", m.Addr, ports)
	}
	if m.BrokerRuntime == "kafka" {
		if err := broker.CheckBrokerPorts(ports, broker.EphemeralRangeFile); err != nil {
			return err
		}
	}
	if err := validHost(m.AdvertisedHost); err != nil {
		return fmt.Errorf("--advertised-host %w", err)
	}
	if err := validHost(m.DomainHost); err != nil {
		return fmt.Errorf("--domain-host %w", err)
	}
	if a := m.DefaultAllowedIP; a != "" && net.ParseIP(a) == nil {
		if _, _, err := net.ParseCIDR(a); err != nil {
			return fmt.Errorf("--default-allowed-ip %q: want an IP address or a CIDR block such as 10.0.0.0/8", a)
		}
	}
	if len(m.Regions) == 0 {
		return errors.New("--regions: name at least one RegionId")
	}
	if err := m.validQPS(); err != nil {
		return err
	}
	m.Catalogue = kafkaplane.DefaultVersionCatalogue()
	if m.CataloguePath != "" {
		data, err := os.ReadFile(m.CataloguePath)
		if err != nil {
			return fmt.Errorf("--catalogue: %w", err)
		}
		if m.Catalogue, err = kafkaplane.ParseVersionCatalogue(data); err != nil {
			return fmt.Errorf("--catalogue %s: %w", m.CataloguePath, err)
		}
	}
	if err := m.validateStrimzi(); err != nil {
		return err
	}
	// Last: the only check that creates something.
	return writableDir(m.DataDir)
}

func (m *Main) brokerPorts() broker.PortRange {
	return broker.PortRange{Min: m.PortMin, Max: m.PortMax}
}

// validListenAddr checks HOST:PORT and returns the port.
func validListenAddr(addr string) (int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("--addr %q: want HOST:PORT, e.g. %s", addr, DefaultAddr)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("--addr %q: port %q is not a number from 0 to 65535", addr, p)
	}
	if host != "" && net.ParseIP(host) == nil {
		if err := validHost(host); err != nil {
			return 0, fmt.Errorf("--addr %q: host %w", addr, err)
		}
	}
	return port, nil
}

// validHost accepts an IP address or a DNS name (no port, no scheme).
func validHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if h == "" || len(h) > 253 {
		return fmt.Errorf("%q: want an IP address or a host name", h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q: want an IP address or a host name", h)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q: want an IP address or a host name", h)
			}
		}
	}
	return nil
}

// knownActions lists the names of every action the endpoint serves.
func knownActions() []string {
	reg := openapi.NewRegistry()
	(&openapi.Instances{}).Register(reg)
	(&openapi.RAM{}).Register(reg)
	seen := map[string]bool{}
	var out []string
	for _, a := range reg.Actions() {
		if !seen[a.Name] {
			seen[a.Name] = true
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

// validQPS refuses overrides for actions the endpoint does not serve (a
// typo would otherwise change nothing). A wildcard is not an action and is
// refused the same way.
func (m *Main) validQPS() error {
	if len(m.QPS) == 0 {
		return nil
	}
	known := knownActions()
	var unknown []string
	for name, v := range m.QPS {
		if v < 0 {
			return fmt.Errorf("--qps %s=%v: want a number ≥ 0 (0 lifts the limit)", name, v)
		}
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("--qps: no action named %s (names are exact; no wildcards); known actions: %s",
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// writableDir creates dir when missing and proves a file can be written
// in it.
func writableDir(dir string) error {
	if dir == "" {
		return errors.New("--data-dir: must not be empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("--data-dir %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
