package apierr

import (
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		code   string
		status int
	}{
		{"SignatureDoesNotMatch", 400},
		{"InvalidAccessKeyId.NotFound", 404},
		{"InvalidApi.NotFound", 404},
		{"Throttling.User", 400},
		{"Forbidden.RAM", 403},
		{"InternalError", 500},
		{"MissingInstanceId", 400},
		{"MissingTag.1", 400},
		{"InvalidTargetVersion", 400},
		{"InvalidPartitionNum", 400},
		{"EntityNotExist.User", 404},
		{"EntityAlreadyExists.Policy", 409},
		{"DeleteConflict.User.AccessKey", 409},
		{"ONS_INIT_ENV_ERROR", 400},
		{"BIZ_TOPIC_NOT_FOUND", 400},
	}
	for _, tt := range tests {
		if got, ok := Lookup(tt.code); !ok || got.HTTPStatus != tt.status || got.Code != tt.code {
			t.Errorf("Lookup(%q) = %+v, %v; want status %d", tt.code, got, ok, tt.status)
		}
	}
}

// TestLookupUnknown: a code outside the catalogue is not found, whatever it
// resembles; nothing falls back to a business error.
func TestLookupUnknown(t *testing.T) {
	for _, code := range []string{
		"", "SOMETHING_UNLISTED", "EntityNotExist.Topic", "DeleteConflict.Topic.Group",
		"LimitExceeded.Group", "Throttling.Nobody", "Forbidden", "Missing", "Invalid", "Invalid-x", "Missingfoo",
	} {
		if d, ok := Lookup(code); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", code, d)
		}
	}
}

// TestEveryEntryIsAnError walks the whole catalogue: every entry has a
// code, an error status and a default message, and its code is its key.
func TestEveryEntryIsAnError(t *testing.T) {
	all := All()
	if len(all) != len(table) {
		t.Fatalf("All() has %d entries, the table %d", len(all), len(table))
	}
	seen := map[string]bool{}
	for _, d := range all {
		if d.Code == "" || seen[d.Code] {
			t.Errorf("code %q is empty or listed twice", d.Code)
		}
		seen[d.Code] = true
		if d.HTTPStatus < 400 || d.HTTPStatus > 599 {
			t.Errorf("%s: status %d is not an error status", d.Code, d.HTTPStatus)
		}
		if d.Message == "" {
			t.Errorf("%s: no default message", d.Code)
		}
		if got := kafkaplane.ErrorCode(d.New()); got != d.Code {
			t.Errorf("%s: New() has code %q", d.Code, got)
		}
		if got, ok := Lookup(d.Code); !ok || got != d {
			t.Errorf("Lookup(%s) = %+v, %v", d.Code, got, ok)
		}
	}
}

func TestMissingAndInvalid(t *testing.T) {
	e := Missing("InstanceId")
	if e.Code != "MissingInstanceId" || e.Message != "InstanceId is mandatory for this action." {
		t.Errorf("Missing = %+v", e)
	}
	e = Invalid("TargetVersion", "")
	if e.Code != "InvalidTargetVersion" || e.Message != "Specified parameter TargetVersion is not valid." {
		t.Errorf("Invalid = %+v", e)
	}
}
