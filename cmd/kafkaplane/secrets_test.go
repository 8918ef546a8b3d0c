package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"github.com/kafkaplane/kafkaplane/sealer"
)

// dataDirHolds reports which files under dir contain s.
func dataDirHolds(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSecretsAtRestThroughAPI creates and deletes a RAM user's AccessKey
// with the official SDK and reads the data dir as bytes: neither that
// secret nor the root key's is in any file, before or after the delete,
// and the data dir, which existed with mode 0755, is owner-only.
func TestSecretsAtRestThroughAPI(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, func(m *Main) { m.DataDir = dataDir })
	sdk := ramSDK{t: t, addr: m.ListenAddr()}
	root, err := ram.NewClientWithAccessKey(testRegion, testKeyID, testKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	cu := ram.CreateCreateUserRequest()
	sdk.at(cu.RpcRequest)
	cu.UserName = "bob"
	_, err = root.CreateUser(cu)
	sdk.must("CreateUser", err)
	ck := ram.CreateCreateAccessKeyRequest()
	sdk.at(ck.RpcRequest)
	ck.UserName = "bob"
	created, err := root.CreateAccessKey(ck)
	sdk.must("CreateAccessKey", err)
	key := created.AccessKey

	// The sealed secret still signs: bob is authenticated, then refused
	// by RAM for want of a policy.
	bob, err := ram.NewClientWithAccessKey(testRegion, key.AccessKeyId, key.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	lu := ram.CreateListUsersRequest()
	sdk.at(lu.RpcRequest)
	_, err = bob.ListUsers(lu)
	sdk.wantErr("bob without policy", err, 403, "Forbidden.RAM")

	for _, s := range []string{key.AccessKeySecret, testKeySecret} {
		if files := dataDirHolds(t, dataDir, s); len(files) > 0 {
			t.Errorf("a secret is readable in %q", files)
		}
	}
	fi, err := os.Stat(dataDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	for _, name := range []string{"kafkaplane.db", sealer.DefaultKeyFile} {
		if fi, err := os.Stat(filepath.Join(dataDir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v (%v), want 0600", name, fi.Mode().Perm(), err)
		}
	}

	dk := ram.CreateDeleteAccessKeyRequest()
	sdk.at(dk.RpcRequest)
	dk.UserName, dk.UserAccessKeyId = "bob", key.AccessKeyId
	_, err = root.DeleteAccessKey(dk)
	sdk.must("DeleteAccessKey", err)
	m.Close()
	if files := dataDirHolds(t, dataDir, key.AccessKeySecret); len(files) > 0 {
		t.Errorf("the deleted secret is readable in %q", files)
	}
}

// TestSecretsKeyFileFromEnvironment: a key file named by
// KAFKAPLANE_SECRETS_KEY_FILE is used instead of one in the data dir, and a
// restart with another key refuses to start rather than serve with
// secrets it cannot open.
func TestSecretsKeyFileFromEnvironment(t *testing.T) {
	keyDir := t.TempDir()
	writeKey := func(name string, b byte) string {
		p := filepath.Join(keyDir, name)
		if err := os.WriteFile(p, []byte(hex.EncodeToString(bytes.Repeat([]byte{b}, sealer.KeySize))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first, second := writeKey("first.key", 1), writeKey("second.key", 2)
	dataDir := t.TempDir()

	t.Setenv(sealer.KeyFileEnv, first)
	m := NewMain()
	if err := m.ParseFlags([]string{"--data-dir", dataDir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if m.SecretsKeyFile != first {
		t.Fatalf("SecretsKeyFile %q, want the environment's %q", m.SecretsKeyFile, first)
	}
	m = startMain(t, func(m *Main) { m.DataDir, m.SecretsKeyFile = dataDir, first })
	m.Close()
	if _, err := os.Stat(filepath.Join(dataDir, sealer.DefaultKeyFile)); !os.IsNotExist(err) {
		t.Errorf("a key file was written to the data dir: %v", err)
	}

	m2 := NewMain()
	m2.Addr, m2.DataDir, m2.SecretsKeyFile, m2.BrokerRuntime = "127.0.0.1:0", dataDir, second, "fake"
	m2.RootAccessKeyID, m2.RootAccessKeySecret = testKeyID, testKeySecret
	m2.Logger = slog.New(slog.DiscardHandler)
	err := m2.Open(context.Background())
	if err == nil {
		m2.Close()
		t.Fatal("started with another secrets key")
	}
	if !strings.Contains(err.Error(), "secrets key") {
		t.Errorf("error %q does not name the secrets key", err)
	}
}
