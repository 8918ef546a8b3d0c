package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// kp runs the kafkaplane command line in-process.
func kp(t *testing.T, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	var body map[string]any
	_ = json.Unmarshal(out.Bytes(), &body)
	return code, body, out.String() + errOut.String()
}

func TestCallCommand(t *testing.T) {
	m := startMain(t)
	creds := []string{"--endpoint", m.URL(), "--access-key-id", testKeyID, "--access-key-secret", testKeySecret}
	for _, sig := range []string{"v1", "v3"} {
		t.Run(sig, func(t *testing.T) {
			args := append([]string{"call", "GetAllInstanceIdList", "--signature-version", sig}, creds...)
			code, body, out := kp(t, args...)
			if code != 0 || body["Code"] != float64(200) {
				t.Fatalf("exit %d: %s", code, out)
			}
			// Parameters in both of the aliyun CLI's spellings, an error
			// answer and its exit status.
			args = append([]string{"call", "alikafka", "UpgradeInstanceVersion", "--signature-version", sig,
				"--InstanceId", "alikafka_post-cn-nosuchthing", "--TargetVersion=2.2.0"}, creds...)
			code, body, out = kp(t, args...)
			if code != 1 || body["Code"] != "BIZ_INSTANCE_NOT_FOUND" {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	}
	t.Run("ram", func(t *testing.T) {
		code, body, out := kp(t, append([]string{"call", "ram", "CreateUser", "--UserName", "alice"}, creds...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		if u, _ := body["User"].(map[string]any); u["UserName"] != "alice" {
			t.Fatalf("CreateUser answered %s", out)
		}
		code, _, out = kp(t, append([]string{"call", "ram", "GetUser", "--UserName", "alice", "--signature-version", "v1"}, creds...)...)
		if code != 0 || !strings.Contains(out, `"alice"`) {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("xml", func(t *testing.T) {
		code, _, out := kp(t, append([]string{"call", "GetAllInstanceIdList", "--signature-version", "v1", "--format", "XML"}, creds...)...)
		if code != 0 || !strings.Contains(out, "<GetAllInstanceIdListResponse>") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"call"},
			{"call", "GetAllInstanceIdList", "--endpoint", m.URL(), "--access-key-id", "", "--access-key-secret", ""},
			{"call", "GetAllInstanceIdList", "--signature-version", "v9", "--access-key-id", "a", "--access-key-secret", "b"},
			{"call", "A", "B", "--access-key-id", "a", "--access-key-secret", "b"},
			{"serve", "--broker-ports", "5-6"},
			{"serve", "extra"},
			{"nosuchcommand"},
		} {
			if code, _, out := kp(t, args...); code != 2 {
				t.Errorf("%q: exit %d, want 2: %s", args, code, out)
			}
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		code, body, out := kp(t, "call", "GetAllInstanceIdList", "--endpoint", m.URL(), "--access-key-id", testKeyID, "--access-key-secret", "nope")
		if code != 1 || body["Code"] != "SignatureDoesNotMatch" {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
}

// TestRootKeyGenerated checks the first start without a configured key:
// a key is generated, stored with mode 0600, printed once, and reused.
func TestRootKeyGenerated(t *testing.T) {
	dir := t.TempDir()
	var out, logs bytes.Buffer
	m := startMain(t, func(m *Main) {
		m.DataDir = dir
		m.RootAccessKeyID, m.RootAccessKeySecret = "", ""
		m.Stdout = &out
		m.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	id := m.RootKey.ID
	if !strings.HasPrefix(id, "LTAI") || !strings.Contains(out.String(), id) || !strings.Contains(out.String(), m.RootKey.Secret) {
		t.Fatalf("first start printed %q for key %s", out.String(), id)
	}
	if st, err := osStat(dir + "/root-access-key.json"); err != nil || st != 0o600 {
		t.Fatalf("key file mode %v %v", st, err)
	}
	// Secrets are never logged, also not the requests signed with them.
	kp(t, "call", "GetAllInstanceIdList", "--endpoint", m.URL(), "--access-key-id", id, "--access-key-secret", m.RootKey.Secret)
	kp(t, "call", "GetAllInstanceIdList", "--endpoint", m.URL(), "--access-key-id", id, "--access-key-secret", "wrong")
	if strings.Contains(logs.String(), m.RootKey.Secret) || !strings.Contains(logs.String(), "GetAllInstanceIdList") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	m.Close()
	out.Reset()
	m2 := startMain(t, func(m *Main) {
		m.DataDir = dir
		m.RootAccessKeyID, m.RootAccessKeySecret = "", ""
		m.Stdout = &out
	})
	if m2.RootKey.ID != id || out.Len() != 0 {
		t.Fatalf("second start: key %s (was %s), printed %q", m2.RootKey.ID, id, out.String())
	}
	code, _, msg := kp(t, "call", "GetAllInstanceIdList", "--endpoint", m2.URL(), "--access-key-id", id, "--access-key-secret", m2.RootKey.Secret)
	if code != 0 {
		t.Fatalf("calling with the generated key: %s", msg)
	}
}

func osStat(path string) (uint32, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return uint32(st.Mode().Perm()), nil
}
