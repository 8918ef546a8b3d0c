package main

import (
	"testing"
)

// TestRootKeyRotationThroughEnvironment: the root key fixed by the
// environment is the account's only root key after every start. A new
// secret for the same id replaces the old one; a new id replaces the old
// key, and root keys made through the API are gone as well. RAM users'
// keys are not touched.
func TestRootKeyRotationThroughEnvironment(t *testing.T) {
	dir := t.TempDir()
	inDir := func(id, secret string) func(*Main) {
		return func(m *Main) { m.DataDir, m.RootAccessKeyID, m.RootAccessKeySecret = dir, id, secret }
	}
	listRoot := func(w *world) []any {
		t.Helper()
		return w.ram("ListAccessKeys", nil)["AccessKeys"].(map[string]any)["AccessKey"].([]any)
	}
	wantCode := func(what string, o outcome, status int, code string) {
		t.Helper()
		if o.status != status || o.code != code {
			t.Errorf("%s: HTTP %d %q (%s), want %d %s", what, o.status, o.code, o.msg, status, code)
		}
	}

	m1 := startMain(t, inDir(testKeyID, testKeySecret))
	w1 := &world{t: t, m: m1, root: principal{addr: m1.ListenAddr(), id: testKeyID, secret: testKeySecret}}
	api := w1.ram("CreateAccessKey", nil)["AccessKey"].(map[string]any)
	apiKey := principal{id: api["AccessKeyId"].(string), secret: api["AccessKeySecret"].(string)}
	user := w1.user("survivor", "AliyunRAMReadOnlyAccess")
	if n := len(listRoot(w1)); n != 2 {
		t.Fatalf("root keys before restart: %d, want 2", n)
	}
	m1.Close()

	// Same id, new secret.
	const rotated = "rotatedrootsecret0000000000002"
	m2 := startMain(t, inDir(testKeyID, rotated))
	old := principal{addr: m2.ListenAddr(), id: testKeyID, secret: testKeySecret}
	wantCode("old secret", old.tea(t, false, ramVersion, "ListUsers", nil), 400, "SignatureDoesNotMatch")
	wantCode("old secret, legacy SDK", old.legacy(t, ramVersion, "ListUsers", nil), 400, "SignatureDoesNotMatch")
	w2 := &world{t: t, m: m2, root: principal{addr: m2.ListenAddr(), id: testKeyID, secret: rotated}}
	w2.ram("ListUsers", nil)
	apiKey.addr = m2.ListenAddr()
	wantCode("root key made through the API", apiKey.tea(t, false, ramVersion, "ListUsers", nil), 404, "InvalidAccessKeyId.NotFound")
	user.addr = m2.ListenAddr()
	ok(t, "RAM user's key after rotation", user.tea(t, false, ramVersion, "ListUsers", nil))
	m2.Close()

	// New id.
	const newID, newSecret = "LTAInewrootkey0000000002", "newrootsecret00000000000000003"
	m3 := startMain(t, inDir(newID, newSecret))
	old = principal{addr: m3.ListenAddr(), id: testKeyID, secret: rotated}
	wantCode("previous root key id", old.tea(t, false, ramVersion, "ListUsers", nil), 404, "InvalidAccessKeyId.NotFound")
	w3 := &world{t: t, m: m3, root: principal{addr: m3.ListenAddr(), id: newID, secret: newSecret}}
	keys := listRoot(w3)
	if len(keys) != 1 || keys[0].(map[string]any)["AccessKeyId"] != newID || keys[0].(map[string]any)["Status"] != "Active" {
		t.Errorf("root keys after rotation: %v, want only %s", keys, newID)
	}
}

// TestRootKeyLastActiveKept: the account's last active root key can be
// neither deleted nor disabled through RAM's API, which would lock the
// account out; with a second active root key both are allowed.
func TestRootKeyLastActiveKept(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		action string
		params map[string]string
	}{
		{"DeleteAccessKey", map[string]string{"UserAccessKeyId": testKeyID}},
		{"UpdateAccessKey", map[string]string{"UserAccessKeyId": testKeyID, "Status": "Inactive"}},
	} {
		for name, o := range map[string]outcome{
			"darabonba-v3": w.root.tea(t, false, ramVersion, c.action, c.params),
			"legacy":       w.root.legacy(t, ramVersion, c.action, c.params),
		} {
			if o.status != 409 || o.code != "DeleteConflict.Account.AccessKey" {
				t.Errorf("%s of the last root key (%s): HTTP %d %q (%s), want 409 DeleteConflict.Account.AccessKey", c.action, name, o.status, o.code, o.msg)
			}
		}
	}
	w.ram("ListUsers", nil)

	// With a second key the first may go; then the second is the last.
	second := w.ram("CreateAccessKey", nil)["AccessKey"].(map[string]any)
	secondID := second["AccessKeyId"].(string)
	w.ram("UpdateAccessKey", map[string]string{"UserAccessKeyId": testKeyID, "Status": "Inactive"})
	o := w.root.tea(t, false, ramVersion, "ListUsers", nil)
	if o.code != "InvalidAccessKeyId.Inactive" {
		t.Fatalf("disabled root key: %s", o.code)
	}
	w.root = principal{addr: w.root.addr, id: secondID, secret: second["AccessKeySecret"].(string)}
	if o := w.root.tea(t, false, ramVersion, "UpdateAccessKey", map[string]string{"UserAccessKeyId": secondID, "Status": "Inactive"}); o.code != "DeleteConflict.Account.AccessKey" {
		t.Errorf("disabling the last active root key: HTTP %d %q", o.status, o.code)
	}
	w.ram("DeleteAccessKey", map[string]string{"UserAccessKeyId": testKeyID})
	if o := w.root.tea(t, false, ramVersion, "DeleteAccessKey", map[string]string{"UserAccessKeyId": secondID}); o.code != "DeleteConflict.Account.AccessKey" {
		t.Errorf("deleting the last root key: HTTP %d %q", o.status, o.code)
	}
	w.ram("ListUsers", nil)
}
