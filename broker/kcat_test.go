package broker_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func kcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kcat %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestKcat(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat not installed")
	}
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			id := "alikafka_post-kcat" + strings.ReplaceAll(version, ".", "")
			addrs := startInstance(t, k, id, version, freePorts(t, 3))
			createTopic(t, addrs, version, "kc", 3)
			extra := []string{"-X", "api.version.request=true"}
			if version == "0.10.2" {
				extra = append(extra, "-X", "broker.version.fallback=0.10.2")
			}
			bs := strings.Join(addrs, ",")
			md := kcat(t, "", append([]string{"-L", "-b", bs}, extra...)...)
			for _, a := range addrs {
				if !strings.Contains(md, a) {
					t.Fatalf("metadata lacks %s:\n%s", a, md)
				}
			}
			if !strings.Contains(md, `topic "kc" with 3 partitions`) {
				t.Fatalf("metadata lacks topic:\n%s", md)
			}
			var lines []string
			for i := range 20 {
				lines = append(lines, fmt.Sprintf("kcat-%d", i))
			}
			for _, codec := range []string{"none", "gzip", "snappy", "lz4"} {
				kcat(t, strings.Join(lines, "\n")+"\n", append([]string{"-P", "-b", bs, "-t", "kc", "-z", codec}, extra...)...)
			}
			out := kcat(t, "", append([]string{"-C", "-b", bs, "-t", "kc", "-o", "beginning", "-e", "-q"}, extra...)...)
			got := strings.Count(out, "kcat-")
			if got != 80 {
				t.Fatalf("kcat consumed %d of 80:\n%s", got, out)
			}
		})
	}
}
