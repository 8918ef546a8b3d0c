package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

// testBootstrap: the root key comes from the file (generated once, then
// read), or from a fixed id and secret that replace it; a file that
// disagrees with the store is refused. System policies are seeded once,
// dated by the store clock, and a changed document is refused.
func testBootstrap(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	const account = "1234567890123456"
	file := filepath.Join(t.TempDir(), "root-access-key.json")

	k1, generated, err := db.BootstrapRootKey(ctx, RootKey{AccountID: account, File: file})
	must(t, err)
	if !generated || !k1.Root() || k1.Status != kafkaplane.AccessKeyActive || !k1.CreateDate.Equal(t0) {
		t.Fatalf("first start: generated=%v key=%+v", generated, k1)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	k2, generated, err := db.BootstrapRootKey(ctx, RootKey{AccountID: account, File: file})
	must(t, err)
	if generated || k2.ID != k1.ID || k2.Secret != k1.Secret {
		t.Fatalf("second start: generated=%v id %s, want %s", generated, k2.ID, k1.ID)
	}
	if _, _, err := db.BootstrapRootKey(ctx, RootKey{AccountID: "6543210987654321", File: file}); err == nil || !strings.Contains(err.Error(), "another principal") {
		t.Fatalf("key of another account: %v", err)
	}
	must(t, os.WriteFile(file, []byte(`{"AccessKeyId":"`+k1.ID+`","AccessKeySecret":"wrong"}`), 0o600))
	if _, _, err := db.BootstrapRootKey(ctx, RootKey{AccountID: account, File: file}); err == nil || !strings.Contains(err.Error(), "stored secret") {
		t.Fatalf("wrong secret in file: %v", err)
	}
	if _, _, err := db.BootstrapRootKey(ctx, RootKey{AccountID: account, ID: "LTAIfixed"}); err == nil {
		t.Fatal("id without secret accepted")
	}
	fixed, _, err := db.BootstrapRootKey(ctx, RootKey{AccountID: account, ID: "LTAIfixedrootkey00000001", Secret: "fixedsecret", File: file})
	must(t, err)
	keys, err := db.ListAccessKeys(ctx, account, "")
	must(t, err)
	if len(keys) != 1 || keys[0].ID != fixed.ID {
		t.Fatalf("root keys after a fixed key: %+v, want only %s", keys, fixed.ID)
	}

	docs := map[string]string{"SeedA": `{"Version":"1","Statement":[]}`}
	must(t, db.SeedSystemPolicies(ctx, docs, map[string]string{"SeedA": "a"}))
	must(t, db.SeedSystemPolicies(ctx, docs, nil))
	p, err := db.FindPolicy(ctx, "", kafkaplane.PolicyTypeSystem, "SeedA")
	must(t, err)
	if p.Description != "a" || p.Document != docs["SeedA"] || !p.CreateDate.Equal(t0) {
		t.Fatalf("seeded policy: %+v", p)
	}
	docs["SeedA"] = `{"Version":"1","Statement":[{}]}`
	if err := db.SeedSystemPolicies(ctx, docs, nil); err == nil {
		t.Fatal("changed system policy document accepted")
	}
}
