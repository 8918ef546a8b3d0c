package broker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane/broker"
)

func TestBrokerPortsOutsideTheEphemeralRange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ip_local_port_range")
	if err := os.WriteFile(file, []byte("32768\t60999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ports string
		want  string // "" = accepted
	}{
		{"19092-29091", ""},
		{"61000-62000", ""},
		{"20000-32768", "overlaps the kernel's ephemeral port range 32768-60999"},
		{"35000-36999", "overlaps the kernel's ephemeral port range 32768-60999"},
		{"60999-61100", "overlaps"},
	} {
		r, err := broker.ParsePortRange(tc.ports)
		if err != nil {
			t.Fatal(err)
		}
		err = broker.CheckBrokerPorts(r, file)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.ports, err, tc.want)
		}
	}
	// Without the file (not Linux) there is nothing to check against.
	if err := broker.CheckBrokerPorts(broker.PortRange{Min: 35000, Max: 36999}, filepath.Join(t.TempDir(), "none")); err != nil {
		t.Errorf("missing range file: %v", err)
	}
	for _, bad := range []string{"", "19092", "a-b", "0-10", "100-101", "60000-70000", " 1-2-3"} {
		if _, err := broker.ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
}
