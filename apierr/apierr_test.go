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
		{"InvalidTargetVersion", 400},
		{"EntityNotExist.User", 404},
		{"EntityAlreadyExists.Policy", 409},
		{"DeleteConflict.User.AccessKey", 409},
		{"ONS_INIT_ENV_ERROR", 400},
		{"SOMETHING_UNLISTED", 400},
	}
	for _, tt := range tests {
		if got := Lookup(tt.code); got.HTTPStatus != tt.status || got.Code != tt.code {
			t.Errorf("Lookup(%q) = %+v, want status %d", tt.code, got, tt.status)
		}
	}
}

func TestEveryEntryIsAnError(t *testing.T) {
	for code, d := range table {
		if d.HTTPStatus < 400 || d.HTTPStatus > 599 {
			t.Errorf("%s: status %d is not an error status", code, d.HTTPStatus)
		}
		if d.Message == "" {
			t.Errorf("%s: no default message", code)
		}
		if got := kafkaplane.ErrorCode(d.New()); got != code {
			t.Errorf("%s: New() has code %q", code, got)
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
