package sqlstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/sealer"
)

// fileBytes returns the contents of the SQLite database and its -wal and
// -shm files, those that exist.
func fileBytes(t *testing.T, path string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		must(t, err)
		out[filepath.Base(p)] = b
	}
	return out
}

func wantAbsent(t *testing.T, files map[string][]byte, what, s string) {
	t.Helper()
	for name, b := range files {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s found in %s", what, name)
		}
	}
}

// TestSQLiteSecretsAtRest reads the SQLite files as bytes, as anyone who
// gets a copy of them would: no AccessKey secret is there while the key
// exists, and after the key is deleted not even its sealed form is.
// The files are owner-only under an umask of 0, in a directory that
// already existed with mode 0755. Not parallel: the umask is the
// process's.
func TestSQLiteSecretsAtRest(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "kafkaplane.db")

	db, err := Open(ctx, path)
	must(t, err)
	const secret = "SECRETbytes-9c41d7e2a0"
	// A second root key stays, since the last active one cannot be deleted.
	must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIkeep", Secret: "other-secret-value", AccountID: "acct1"}, 0))
	k := &kafkaplane.AccessKey{ID: "LTAIatrest", Secret: secret, AccountID: "acct1"}
	must(t, db.CreateAccessKey(ctx, k, 0))
	sealed := storedSecret(t, db, k.ID)
	for _, p := range []string{path, path + "-wal", path + "-shm", filepath.Join(dir, sealer.DefaultKeyFile)} {
		fi, err := os.Stat(p)
		must(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	wantAbsent(t, fileBytes(t, path), "the secret", secret)

	must(t, db.DeleteAccessKey(ctx, "acct1", k.ID))
	must(t, db.Close())
	files := fileBytes(t, path)
	wantAbsent(t, files, "the secret", secret)
	wantAbsent(t, files, "the deleted key's sealed secret", sealed)
}

// TestSQLitePlaintextMigrated: a database whose secrets an older release
// wrote in plaintext holds none of them in its files once it was opened.
func TestSQLitePlaintextMigrated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kafkaplane.db")
	db, err := Open(ctx, path)
	must(t, err)
	const secret = "LEGACYplaintext-51be30"
	if _, err := db.db.Exec(`INSERT INTO access_keys (id, secret, account_id, user_name, status, create_date, modify_index)
		VALUES ('LTAIold', $1, 'acct1', '', 'Active', 1, 1)`, secret); err != nil {
		t.Fatal(err)
	}
	must(t, db.Close())
	if !bytes.Contains(fileBytes(t, path)["kafkaplane.db"], []byte(secret)) {
		t.Fatal("setup: the plaintext secret is not in the file")
	}
	db, err = Open(ctx, path)
	must(t, err)
	got, err := db.FindAccessKey(ctx, "LTAIold")
	must(t, err)
	if got.Secret != secret {
		t.Fatalf("secret %q after sealing", got.Secret)
	}
	wantAbsent(t, fileBytes(t, path), "the plaintext secret while open", secret)
	must(t, db.Close())
	wantAbsent(t, fileBytes(t, path), "the plaintext secret", secret)
}
