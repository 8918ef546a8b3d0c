package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
)

// TestDefaultAllowedIPFlag: --default-allowed-ip is the entry a new
// instance's VPC allowlists start with, as GetAllowedIpList shows it
// through the legacy SDK; without it they start with 127.0.0.1/32; a
// value that is neither an address nor a CIDR block stops the service.
func TestDefaultAllowedIPFlag(t *testing.T) {
	for _, c := range []struct{ flag, want string }{{"", "127.0.0.1/32"}, {"10.0.0.0/8", "10.0.0.0/8"}} {
		m := startMain(t, func(m *Main) { m.DefaultAllowedIP = c.flag })
		cl := kafkaClient(t, m.ListenAddr())
		id := createRunning(t, cl, "2.2.0")
		req := alikafka.CreateGetAllowedIpListRequest()
		req.InstanceId = id
		resp, err := cl.GetAllowedIpList(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.AllowedList.VpcList) == 0 {
			t.Fatalf("flag %q: no VPC allowlist: %+v", c.flag, resp.AllowedList)
		}
		for _, l := range resp.AllowedList.VpcList {
			if !slices.Equal(l.AllowedIpList, []string{c.want}) {
				t.Errorf("flag %q: %s starts with %v, want [%s]", c.flag, l.PortRange, l.AllowedIpList, c.want)
			}
		}
	}
	m := NewMain()
	m.DataDir, m.BrokerRuntime, m.DefaultAllowedIP = t.TempDir(), "fake", "10.0.0.0/33"
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "--default-allowed-ip") {
		t.Errorf("Validate with 10.0.0.0/33 = %v, want a --default-allowed-ip refusal", err)
	}
}
