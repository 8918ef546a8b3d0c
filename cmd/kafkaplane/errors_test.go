package main

import (
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane/apierr"
)

// TestDeleteConflictAnswers: a delete that the store refuses because other
// rows still refer to the entity answers RAM's entity-specific code with
// the catalogue's (RAM's) message, whatever the store's own text, through
// a real SDK on a real socket.
func TestDeleteConflictAnswers(t *testing.T) {
	m := startMain(t)
	c := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	call := func(action string, params map[string]string) result {
		t.Helper()
		return c.call(t, ramVersion, action, params)
	}
	ok := func(what string, r result) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("%s: HTTP %d %s %s", what, r.status, r.code, r.msg)
		}
	}
	want := func(what string, r result, d apierr.Def) {
		t.Helper()
		// The SDK wraps the message in its own text.
		if r.status != d.HTTPStatus || r.code != d.Code || !strings.Contains(r.msg, d.Message) {
			t.Errorf("%s: HTTP %d %q %q, want %d %q %q", what, r.status, r.code, r.msg, d.HTTPStatus, d.Code, d.Message)
		}
	}
	ok("CreateUser", call("CreateUser", map[string]string{"UserName": "carol"}))
	ok("CreateGroup", call("CreateGroup", map[string]string{"GroupName": "ops"}))
	key := call("CreateAccessKey", map[string]string{"UserName": "carol"})
	ok("CreateAccessKey", key)
	ak, _ := key.body["AccessKey"].(map[string]any)
	keyID, _ := ak["AccessKeyId"].(string)

	want("DeleteUser with a key", call("DeleteUser", map[string]string{"UserName": "carol"}), apierr.RAMDeleteUserAccessKey)
	ok("DeleteAccessKey", call("DeleteAccessKey", map[string]string{"UserName": "carol", "UserAccessKeyId": keyID}))
	ok("AddUserToGroup", call("AddUserToGroup", map[string]string{"UserName": "carol", "GroupName": "ops"}))
	want("DeleteUser in a group", call("DeleteUser", map[string]string{"UserName": "carol"}), apierr.RAMDeleteUserGroup)
	want("DeleteGroup with a member", call("DeleteGroup", map[string]string{"GroupName": "ops"}), apierr.RAMDeleteGroupUser)
	want("DeleteGroup of no group", call("DeleteGroup", map[string]string{"GroupName": "nobody"}), apierr.RAMGroupNotExist)
}
