package apierr

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// Def is one catalogue entry.
type Def struct {
	Code       string
	HTTPStatus int
	Message    string
}

// New returns an error with the entry's code and default message.
func (d Def) New() *kafkaplane.Error {
	return &kafkaplane.Error{Code: d.Code, Message: d.Message}
}

// Errorf returns an error with the entry's code and a specific message.
func (d Def) Errorf(format string, args ...any) *kafkaplane.Error {
	return &kafkaplane.Error{Code: d.Code, Message: fmt.Sprintf(format, args...)}
}

// Gateway errors, shared by every Alibaba Cloud RPC product. Codes and
// messages are the published ones (alikafka-openapi.md §5.3).
var (
	InvalidParameter         = def("InvalidParameter", 400, "Specified parameter is not valid.")
	InvalidParameterFormat   = def("InvalidParameter.Format", 400, "Specified parameter format is not valid.")
	InvalidAccessKeyNotFound = def("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.")
	InvalidAccessKeyInactive = def("InvalidAccessKeyId.Inactive", 400, "Specified access key is disabled.")
	SignatureDoesNotMatch    = def("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation.")
	IncompleteSignature      = def("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards.")
	InvalidSignatureMethod   = def("InvalidSignatureMethod", 400, "Specified signature method is not valid.")
	InvalidSignatureVersion  = def("InvalidSignatureVersion", 400, "Specified signature version is not valid.")
	SignatureNonceUsed       = def("SignatureNonceUsed", 400, "Specified signature nonce was used already.")
	TimeStampExpired         = def("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired.")
	TimeStampFormat          = def("InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted.")
	ThrottlingUser           = def("Throttling.User", 400, "Request was denied due to user flow control.")
	ThrottlingAPI            = def("Throttling.Api", 400, "Request was denied due to api flow control.")
	InvalidAPINotFound       = def("InvalidApi.NotFound", 404, "Specified api is not found, please check your url and method.")
	InvalidVersion           = def("InvalidVersion", 400, "Specified parameter Version is not valid.")
	InvalidRegionID          = def("InvalidRegionId", 400, "The specified region does not exist.")
	UnsupportedHTTPMethod    = def("UnsupportedHTTPMethod", 405, "This http method not supported.")
	ForbiddenRAM             = def("Forbidden.RAM", 403, "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
	NoPermission             = def("NoPermission", 403, "You are not authorized to perform this operation.")
	RequestTooLarge          = def("InvalidParameter.RequestTooLarge", 413, "The request body is too large.")
	InternalError            = def("InternalError", 500, "An unknown error occurred while processing your request.")
	ServiceUnavailable       = def("ServiceUnavailable", 503, "The server is temporarily unavailable.")
)

// alikafka business errors. alikafka answers business failures with HTTP
// 400 and a string code; the codes that the reference leaves unnamed are
// kafkaplane's own, documented in the README.
var (
	NothingToUpgrade   = def(kafkaplane.CodeNothingToUpgrade, 400, "The instance already runs the latest minor version; no need to update version.")
	Downgrade          = def(kafkaplane.CodeDowngrade, 400, "Downgrading the open-source version of an instance is not supported.")
	InvalidTarget      = def(kafkaplane.CodeInvalidTarget, 400, "Specified parameter TargetVersion is not valid.")
	UnsupportedVersion = def(kafkaplane.CodeUnsupportedVersion, 400, "The instance runs a version that is not in the version catalogue.")
	InstanceNotFound   = def(kafkaplane.CodeInstanceNotFound, 400, "The instance does not exist in this region.")
	InstanceStatus     = def(kafkaplane.CodeInstanceStatus, 400, "The current status of the instance does not allow this operation.")
	OperationNotFound  = def(kafkaplane.CodeOperationNotFound, 404, "The specified operation does not exist.")
	Conflict           = def(kafkaplane.CodeConflict, 409, "The resource was changed by a concurrent request; read it again and retry.")
	NotFound           = def(kafkaplane.CodeNotFound, 404, "The specified entity does not exist.")
	AlreadyExists      = def(kafkaplane.CodeAlreadyExists, 409, "The specified entity already exists.")
	// Quotas (docs/limits.md): a create that would take the account or the
	// instance past its quota changes nothing.
	InstanceQuotaExceeded = def("BIZ_INSTANCE_QUOTA_EXCEEDED", 400, "The account already holds the most instances allowed.")
	TopicQuotaExceeded    = def("BIZ_TOPIC_QUOTA_EXCEEDED", 400, "The instance already holds as many topics as its TopicNumLimit allows.")
	GroupQuotaExceeded    = def("BIZ_SUBSCRIPTION_QUOTA_EXCEEDED", 400, "The instance already holds the most consumer groups allowed.")
)

// Console errors (README "Console"): the web console's own endpoints answer
// in the same envelope as the API.
var (
	ConsoleNotSignedIn        = def("Console.NotSignedIn", 401, "Sign in to the console first; the session is missing or has expired.")
	ConsoleInvalidCredentials = def("Console.InvalidCredentials", 401, "The AccessKey ID or AccessKey secret is not valid.")
	ConsoleInvalidCSRFToken   = def("Console.InvalidCSRFToken", 403, "The request carries no valid CSRF token for this session.")
	ConsoleSignInThrottled    = def("Throttling.SignIn", 429, "Too many sign-in attempts; wait a minute and try again.")
)

var table = map[string]Def{}

func def(code string, status int, msg string) Def {
	d := Def{Code: code, HTTPStatus: status, Message: msg}
	if _, dup := table[code]; dup {
		panic("apierr: duplicate code " + code)
	}
	table[code] = d
	return d
}

// Register adds an entry to the catalogue at package initialisation of the
// packages that own further codes (for example RAM's). It panics on a
// duplicate code, so two definitions of one code cannot disagree.
func Register(code string, status int, msg string) Def { return def(code, status, msg) }

// families are code prefixes whose members share a status: the gateway
// builds Missing{Parameter} and Invalid{Parameter} codes from parameter
// names, and RAM groups its codes by entity (EntityNotExist.User, …).
var families = []struct {
	prefix string
	status int
}{
	{"Missing", http.StatusBadRequest},
	{"Invalid", http.StatusBadRequest},
	{"EntityNotExist.", http.StatusNotFound},
	{"EntityAlreadyExists.", http.StatusConflict},
	{"DeleteConflict.", http.StatusConflict},
	{"LimitExceeded.", http.StatusConflict},
	{"Throttling", http.StatusBadRequest},
	{"Forbidden", http.StatusForbidden},
}

// Lookup returns the catalogue entry of code. A code that is not in the
// table but belongs to a family gets the family's status and an empty
// message; any other code is treated as a business error (HTTP 400), as
// alikafka does.
func Lookup(code string) Def {
	if d, ok := table[code]; ok {
		return d
	}
	for _, f := range families {
		if strings.HasPrefix(code, f.prefix) {
			return Def{Code: code, HTTPStatus: f.status}
		}
	}
	return Def{Code: code, HTTPStatus: http.StatusBadRequest}
}

// Missing returns the gateway error for a required parameter that is absent:
// code Missing{Name}, message "{Name} is mandatory for this action.".
func Missing(name string) *kafkaplane.Error {
	return &kafkaplane.Error{Code: "Missing" + name, Message: name + " is mandatory for this action."}
}

// Invalid returns the gateway error for a parameter whose value is not
// valid: code Invalid{Name}, message "Specified parameter {Name} is not
// valid." followed by why, when given.
func Invalid(name, why string) *kafkaplane.Error {
	msg := "Specified parameter " + name + " is not valid."
	if why != "" {
		msg += " " + why
	}
	return &kafkaplane.Error{Code: "Invalid" + name, Message: msg}
}
