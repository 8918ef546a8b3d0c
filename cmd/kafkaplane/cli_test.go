package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
)

// TestCommandLine installs the command as the README says (go install, so
// the binary is built once) and runs it as a user does: the README's
// "Using it" lines against a started server, and serve with every kind of
// setting that cannot work.
func TestCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("README", func(t *testing.T) { readmeLines(t, root, bin) })
	t.Run("refused", func(t *testing.T) { refusedSettings(t, filepath.Join(bin, "kafkaplane")) })
}

// readmeBlock returns the lines of the indented code block that follows
// heading in README.md.
func readmeBlock(t *testing.T, root, heading string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q", heading)
	}
	var out []string
	for _, line := range strings.Split(section, "\n") {
		if code, ok := strings.CutPrefix(line, "    "); ok {
			out = append(out, strings.TrimSpace(code))
		} else if len(out) > 0 {
			break
		}
	}
	return out
}

func readmeLines(t *testing.T, root, bin string) {
	m := startMain(t)
	env := append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KAFKAPLANE_ENDPOINT="+m.URL())
	// A user fills in what earlier answers told them.
	fill := map[string]string{}
	sh := func(line string) (map[string]any, error) {
		for k, v := range fill {
			line = strings.ReplaceAll(line, k, v)
		}
		if strings.ContainsAny(line, "<>") {
			t.Fatalf("README line %q has a placeholder the test cannot fill", line)
		}
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir, cmd.Env = root, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var body map[string]any
		_ = json.Unmarshal(out.Bytes(), &body)
		if err != nil {
			return body, fmt.Errorf("%s: %v\n%s%s", line, err, out.String(), errOut.String())
		}
		return body, nil
	}
	waitRunning := func() {
		deadline := time.Now().Add(30 * time.Second)
		for {
			body, err := sh("kafkaplane call GetInstanceList --InstanceId " + fill["<id>"])
			if err != nil {
				t.Fatal(err)
			}
			if jsonAt(body, "InstanceList", "InstanceVO", "0", "ServiceStatus") == "5" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance never Running: %v", body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	lines := readmeBlock(t, root, "## Using it")
	if len(lines) == 0 || lines[0] != "go install ./cmd/kafkaplane" {
		t.Fatalf("the README's Using it block does not install the command first: %q", lines)
	}
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "export "):
			// The README elides the key serve printed.
			for _, kv := range strings.Fields(strings.TrimPrefix(line, "export ")) {
				name, _, _ := strings.Cut(kv, "=")
				switch name {
				case "KAFKAPLANE_ROOT_ACCESS_KEY_ID":
					env = append(env, name+"="+testKeyID)
				case "KAFKAPLANE_ROOT_ACCESS_KEY_SECRET":
					env = append(env, name+"="+testKeySecret)
				default:
					t.Fatalf("README exports %s", name)
				}
			}
			continue
		case line == "go install ./cmd/kafkaplane", strings.HasPrefix(line, "kafkaplane call "):
		default:
			t.Fatalf("README line %q is neither go install, export nor kafkaplane call", line)
		}
		body, err := sh(line)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(line, " CreatePostPayOrder "):
			fill["<OrderId>"] = jsonAt(body, "OrderId")
		case strings.Contains(line, " GetInstanceList --OrderId"):
			fill["<id>"] = jsonAt(body, "InstanceList", "InstanceVO", "0", "InstanceId")
		case strings.Contains(line, " StartInstance "), strings.Contains(line, " UpgradeInstanceVersion "):
			waitRunning()
		}
	}
}

// jsonAt follows path through objects and (by index) arrays and prints
// what it finds ("" when nothing).
func jsonAt(v any, path ...string) string {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// refusedSettings starts serve with settings that cannot work: each ends
// the process with exit status 2 and one line naming the problem, before
// anything is started.
func refusedSettings(t *testing.T, bin string) {
	eph, ok, err := broker.EphemeralRange(broker.EphemeralRangeFile)
	if err != nil || !ok {
		t.Fatalf("cannot read the ephemeral range: %v", err)
	}
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCatalogue := filepath.Join(dir, "catalogue.json")
	if err := os.WriteFile(badCatalogue, []byte(`{"versions":`), 0o600); err != nil {
		t.Fatal(err)
	}
	overlap := fmt.Sprintf("%d-%d", eph.Min+100, eph.Min+2099)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown qps action", []string{"--qps", "NoSuchAction=5"},
			[]string{"--qps: no action named NoSuchAction", "known actions: ", "GetInstanceList", "UpgradeInstanceVersion", "CreateUser"}},
		{"qps wildcard", []string{"--qps", "*=100000"}, []string{"--qps: no action named *", "no wildcards"}},
		{"negative qps", []string{"--qps", "GetInstanceList=-1"}, []string{"--qps"}},
		{"missing catalogue", []string{"--catalogue", filepath.Join(dir, "none.json")}, []string{"--catalogue: open ", "none.json"}},
		{"malformed catalogue", []string{"--catalogue", badCatalogue}, []string{"--catalogue " + badCatalogue}},
		{"data dir under a file", []string{"--data-dir", filepath.Join(notDir, "data")}, []string{"--data-dir", "not a directory"}},
		{"address without port", []string{"--addr", "127.0.0.1"}, []string{`--addr "127.0.0.1": want HOST:PORT`}},
		{"address port out of range", []string{"--addr", "127.0.0.1:70000"}, []string{`--addr "127.0.0.1:70000": port`}},
		{"address inside the broker range", []string{"--addr", "127.0.0.1:20000"}, []string{"--addr 127.0.0.1:20000 lies inside --broker-ports 19092-29091"}},
		{"broker ports not a range", []string{"--broker-ports", "19092"}, []string{`--broker-ports "19092" is not MIN-MAX`}},
		{"broker ports with junk", []string{"--broker-ports", "19092-29091x"}, []string{`--broker-ports "19092-29091x" is not MIN-MAX`}},
		{"broker ports too few", []string{"--broker-ports", "20000-20001"}, []string{"room for three brokers"}},
		{"broker ports in the ephemeral range", []string{"--broker-ports", overlap},
			[]string{"--broker-ports " + overlap + " overlaps the kernel's ephemeral port range " + eph.String(), "ip_local_port_range", "19092-29091"}},
		{"advertised host with a port", []string{"--advertised-host", "127.0.0.1:9092"}, []string{"--advertised-host"}},
		{"unknown runtime", []string{"--broker-runtime", "docker"}, []string{`--broker-runtime "docker"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--data-dir", data, "--addr", "127.0.0.1:0"}, tc.args...)
			cmd := exec.Command(bin, args...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("serve %q is still running; it should have refused", tc.args)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("serve %q: %v, want exit status 2; stderr %q", tc.args, err, errOut.String())
			}
			msg := errOut.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "kafkaplane: ") {
				t.Fatalf("serve %q: want one line on stderr, got %q", tc.args, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("serve %q: stderr %q lacks %q", tc.args, msg, w)
				}
			}
			if out.Len() > 0 {
				t.Errorf("serve %q printed %q", tc.args, out.String())
			}
			if _, err := os.Stat(filepath.Join(data, "kafkaplane.db")); err == nil {
				t.Errorf("serve %q created a store before refusing", tc.args)
			}
		})
	}
}
