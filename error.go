package kafkaplane

import (
	"errors"
	"fmt"
)

// Error is the one error type of the domain. Code is one of the Code*
// constants of this package when the domain or the store returns it, or a
// wire code of the apierr catalogue when a handler does; openapi maps the
// former to the latter (docs/errors.md lists every wire code). Message is
// what the caller reads; when empty, the catalogue's default message is
// used.
type Error struct {
	Code    string
	Message string
	// Detail carries structured data that some codes render on the wire,
	// such as the AccessDeniedDetail of a RAM denial.
	Detail any
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err when it is, or wraps, an *Error, and
// the empty string otherwise. Tests and callers compare codes, never the
// text of messages.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorMessage returns the message of err when it is, or wraps, an *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// Codes that the domain, the store and the operation worker return
// themselves: semantic codes, never a product's wire code. Wire codes of the
// gateway, alikafka and RAM live in the apierr catalogue, and openapi's
// wireError maps each of these codes to one of them.
const (
	// CodeConflict reports a compare-and-set that lost against a concurrent
	// writer: the row's modify index was not the one the caller read.
	CodeConflict = "ConcurrentUpdate"
	// CodeInstanceNotFound reports an instance that does not exist in the
	// caller's account and region.
	CodeInstanceNotFound = "BIZ_INSTANCE_NOT_FOUND"
	// CodeInstanceStatus reports an instance that is not in a status that
	// allows the requested action.
	CodeInstanceStatus = "BIZ_INSTANCE_STATUS_ERROR"
	// CodeOperationNotFound reports an unknown operation id.
	CodeOperationNotFound = "OperationNotFound"
	// CodeNotFound reports any other missing row.
	CodeNotFound = "EntityNotExist"
	// CodeAlreadyExists reports a duplicate key on create.
	CodeAlreadyExists = "EntityAlreadyExists"
	// CodeLimitExceeded reports a create that would take its owner past
	// a count limit.
	CodeLimitExceeded = "LimitExceeded"
	// CodeLastRootKey reports a delete or deactivation of the account's
	// last active root AccessKey, which would lock the account out.
	CodeLastRootKey = "LastActiveRootAccessKey"
	// CodeHasAccessKeys reports a delete of a user that still holds
	// AccessKeys.
	CodeHasAccessKeys = "HasAccessKeys"
	// CodeHasPolicies reports a delete of a user or group that still has
	// policies attached.
	CodeHasPolicies = "HasPolicies"
	// CodeHasGroups reports a delete of a user that is still a member of a
	// group, or of a policy still attached to a group.
	CodeHasGroups = "HasGroups"
	// CodeHasUsers reports a delete of a group that still has members, or
	// of a policy still attached to a user.
	CodeHasUsers = "HasUsers"
	// CodeAttemptsExhausted fails an operation that was claimed the most
	// times allowed without finishing.
	CodeAttemptsExhausted = "OperationAttemptsExhausted"
	// CodeUnsupportedOperation fails an operation whose type the worker
	// cannot run (or that has no steps).
	CodeUnsupportedOperation = "UnsupportedOperation"
	// CodeUnsupportedStep fails an operation with a step the worker cannot
	// run.
	CodeUnsupportedStep = "UnsupportedOperationStep"
	// CodeUnavailable reports that a resource the service hands out (broker
	// ports) is exhausted for now; the caller may retry later.
	CodeUnavailable = "ServiceUnavailable"
)
