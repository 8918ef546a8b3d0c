package apierr

import (
	"fmt"
	"net/http"
	"slices"
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
// messages are Alibaba's published ones (docs/wire.md).
var (
	// InvalidParameter: a query string or form body that cannot be parsed, or a body that cannot be read.
	InvalidParameter = def("InvalidParameter", 400, "Specified parameter is not valid.")
	// InvalidParameterFormat: Format is neither JSON nor XML.
	InvalidParameterFormat = def("InvalidParameter.Format", 400, "Specified parameter format is not valid.")
	// InvalidAccessKeyNotFound: the AccessKeyId is not known.
	InvalidAccessKeyNotFound = def("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.")
	// InvalidAccessKeyInactive: the AccessKey has been set Inactive.
	InvalidAccessKeyInactive = def("InvalidAccessKeyId.Inactive", 400, "Specified access key is disabled.")
	// SignatureDoesNotMatch: the signature or the V3 payload hash is wrong; the message ends with the server's string to sign.
	SignatureDoesNotMatch = def("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation.")
	// IncompleteSignature: a V3 Authorization header is malformed or leaves a required header unsigned.
	IncompleteSignature = def("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards.")
	// InvalidSignatureMethod: a signature method other than HMAC-SHA1 (V1) or an unsupported V3 algorithm or SignatureType.
	InvalidSignatureMethod = def("InvalidSignatureMethod", 400, "Specified signature method is not valid.")
	// InvalidSignatureVersion: a V1 SignatureVersion other than 1.0.
	InvalidSignatureVersion = def("InvalidSignatureVersion", 400, "Specified signature version is not valid.")
	// SignatureNonceUsed: the SignatureNonce was already used by this AccessKey.
	SignatureNonceUsed = def("SignatureNonceUsed", 400, "Specified signature nonce was used already.")
	// TimeStampExpired: the Timestamp or x-acs-date is more than 15 minutes away from the server's clock.
	TimeStampExpired = def("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired.")
	// TimeStampFormat: the Timestamp or x-acs-date is not ISO 8601 UTC.
	TimeStampFormat = def("InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted.")
	// ThrottlingUser: the action's per-second quota is used up.
	ThrottlingUser = def("Throttling.User", 400, "Request was denied due to user flow control.")
	// ThrottlingAPI: not answered by kafkaplane (it throttles per user); listed because clients retry it.
	ThrottlingAPI = def("Throttling.Api", 400, "Request was denied due to api flow control.")
	// InvalidAPINotFound: the Action is not served for the product and version.
	InvalidAPINotFound = def("InvalidApi.NotFound", 404, "Specified api is not found, please check your url and method.")
	// InvalidVersion: the Version is not a served API version.
	InvalidVersion = def("InvalidVersion", 400, "Specified parameter Version is not valid.")
	// InvalidRegionID: the RegionId is not a served region.
	InvalidRegionID = def("InvalidRegionId", 400, "The specified region does not exist.")
	// UnsupportedHTTPMethod: a method other than GET or POST.
	UnsupportedHTTPMethod = def("UnsupportedHTTPMethod", 405, "This http method not supported.")
	// ForbiddenRAM: RAM policies do not allow the caller the action on the resource.
	ForbiddenRAM = def("Forbidden.RAM", 403, "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
	// NoPermission: not answered by kafkaplane (RAM denials are Forbidden.RAM); listed for completeness.
	NoPermission = def("NoPermission", 403, "You are not authorized to perform this operation.")
	// RequestTooLarge: the request body is larger than 1 MiB.
	RequestTooLarge = def("InvalidParameter.RequestTooLarge", 413, "The request body is too large.")
	// InternalError: an unexpected failure; the cause is logged with the RequestId.
	InternalError = def("InternalError", 500, "An unknown error occurred while processing your request.")
	// ServiceUnavailable: the server cannot serve the request now, for example no broker ports are free.
	ServiceUnavailable = def("ServiceUnavailable", 503, "The server is temporarily unavailable.")
)

// alikafka instance errors. alikafka answers business failures with HTTP
// 400 and a string code; the codes Alibaba's API pages leave unnamed are
// kafkaplane's own, documented in the README.
var (
	// NothingToUpgrade: UpgradeInstanceVersion to the instance's version when it already runs the latest minor.
	NothingToUpgrade = def(kafkaplane.CodeNothingToUpgrade, 400, "The instance already runs the latest minor version; no need to update version.")
	// Downgrade: UpgradeInstanceVersion to an older version.
	Downgrade = def(kafkaplane.CodeDowngrade, 400, "Downgrading the open-source version of an instance is not supported.")
	// InvalidTarget: UpgradeInstanceVersion to a version that is not in the catalogue or not an offered path.
	InvalidTarget = def(kafkaplane.CodeInvalidTarget, 400, "Specified parameter TargetVersion is not valid.")
	// UnsupportedVersion: the instance runs a version the catalogue no longer lists.
	UnsupportedVersion = def(kafkaplane.CodeUnsupportedVersion, 400, "The instance runs a version that is not in the version catalogue.")
	// InstanceNotFound: no such instance in the caller's account and region.
	InstanceNotFound = def(kafkaplane.CodeInstanceNotFound, 400, "The instance does not exist in this region.")
	// InstanceStatus: the instance's status does not allow the action (for example not Running).
	InstanceStatus = def(kafkaplane.CodeInstanceStatus, 400, "The current status of the instance does not allow this operation.")
	// OperationNotFound: DescribeInstanceOperation of an unknown operation.
	OperationNotFound = def(kafkaplane.CodeOperationNotFound, 404, "The specified operation does not exist.")
	// Conflict: a concurrent request changed the row between read and write.
	Conflict = def(kafkaplane.CodeConflict, 409, "The resource was changed by a concurrent request; read it again and retry.")
	// NotFound: a missing row the handler has no more specific code for.
	NotFound = def(kafkaplane.CodeNotFound, 404, "The specified entity does not exist.")
	// AlreadyExists: a duplicate row the handler has no more specific code for.
	AlreadyExists = def(kafkaplane.CodeAlreadyExists, 409, "The specified entity already exists.")
	// Quotas (docs/limits.md): a create that would take the account or the
	// instance past its quota changes nothing.

	// InstanceQuotaExceeded: a new instance would take the account past --max-instances.
	InstanceQuotaExceeded = def("BIZ_INSTANCE_QUOTA_EXCEEDED", 400, "The account already holds the most instances allowed.")
	// TopicQuotaExceeded: CreateTopic on an instance that holds TopicNumLimit topics.
	TopicQuotaExceeded = def("BIZ_TOPIC_QUOTA_EXCEEDED", 400, "The instance already holds as many topics as its TopicNumLimit allows.")
	// GroupQuotaExceeded: CreateConsumerGroup on an instance that holds the most consumer groups allowed.
	GroupQuotaExceeded = def("BIZ_SUBSCRIPTION_QUOTA_EXCEEDED", 400, "The instance already holds the most consumer groups allowed.")
	// TagsPerResource: TagResources would leave a resource with more than 20 tags.
	TagsPerResource = def("QuotaExceed.TagsPerResource", 400, "A resource may carry at most 20 tags.")
)

// Console errors (README "Console"): the web console's own endpoints answer
// in the same envelope as the API.
var (
	// ConsoleNotSignedIn: a console endpoint without a live session.
	ConsoleNotSignedIn = def("Console.NotSignedIn", 401, "Sign in to the console first; the session is missing or has expired.")
	// ConsoleInvalidCredentials: console sign-in with an AccessKey that does not authenticate.
	ConsoleInvalidCredentials = def("Console.InvalidCredentials", 401, "The AccessKey ID or AccessKey secret is not valid.")
	// ConsoleInvalidCSRFToken: a console POST without the session's CSRF token.
	ConsoleInvalidCSRFToken = def("Console.InvalidCSRFToken", 403, "The request carries no valid CSRF token for this session.")
	// ConsoleSignInThrottled: too many console sign-in attempts from one address or for one AccessKey id.
	ConsoleSignInThrottled = def("Throttling.SignIn", 429, "Too many sign-in attempts; wait a minute and try again.")
)

var table = map[string]Def{}

// def adds an entry to the catalogue. Entries are defined only in this
// package, each once: a second definition of a code panics at start-up.
func def(code string, status int, msg string) Def {
	d := Def{Code: code, HTTPStatus: status, Message: msg}
	if _, dup := table[code]; dup {
		panic("apierr: duplicate code " + code)
	}
	table[code] = d
	return d
}

// Parameter families: the gateway builds Missing{Parameter} and
// Invalid{Parameter} from the names of the action's parameters, through
// Missing and Invalid only. They are the catalogue's only codes that are
// not listed one by one.
const (
	missingPrefix = "Missing"
	invalidPrefix = "Invalid"
)

// Lookup returns the catalogue entry of code, and false when the code is
// not in the catalogue. An unknown code is a bug in the caller, never a
// business error: the gateway answers it as InternalError.
func Lookup(code string) (Def, bool) {
	if d, ok := table[code]; ok {
		return d, true
	}
	for _, p := range []string{missingPrefix, invalidPrefix} {
		if name, ok := strings.CutPrefix(code, p); ok && isParamName(name) {
			return Def{Code: code, HTTPStatus: http.StatusBadRequest}, true
		}
	}
	return Def{}, false
}

// isParamName reports whether s is a parameter name as the registry
// declares them: an upper-case letter, then letters, digits and the dots of
// repeated parameters (Tag.1.Key).
func isParamName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.') {
			return false
		}
	}
	return true
}

// All returns every listed entry of the catalogue, sorted by code.
func All() []Def {
	out := make([]Def, 0, len(table))
	for _, d := range table {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Def) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Missing returns the gateway error for a required parameter that is absent:
// code Missing{Name}, message "{Name} is mandatory for this action.".
func Missing(name string) *kafkaplane.Error {
	return &kafkaplane.Error{Code: missingPrefix + name, Message: name + " is mandatory for this action."}
}

// Invalid returns the gateway error for a parameter whose value is not
// valid: code Invalid{Name}, message "Specified parameter {Name} is not
// valid." followed by why, when given.
func Invalid(name, why string) *kafkaplane.Error {
	msg := "Specified parameter " + name + " is not valid."
	if why != "" {
		msg += " " + why
	}
	return &kafkaplane.Error{Code: invalidPrefix + name, Message: msg}
}
