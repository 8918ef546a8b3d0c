package openapi

import (
	"errors"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// domainWire is the wire entry of every domain code (kafkaplane.Code*) when
// the handler has nothing more specific to say. Where the entry's code is
// the domain code itself, the store's message is answered; otherwise the
// entry's own message.
var domainWire = map[string]apierr.Def{
	kafkaplane.CodeConflict:             apierr.Conflict,
	kafkaplane.CodeInstanceNotFound:     apierr.InstanceNotFound,
	kafkaplane.CodeInstanceStatus:       apierr.InstanceStatus,
	kafkaplane.CodeOperationNotFound:    apierr.OperationNotFound,
	kafkaplane.CodeNotFound:             apierr.NotFound,
	kafkaplane.CodeAlreadyExists:        apierr.AlreadyExists,
	kafkaplane.CodeLimitExceeded:        apierr.LimitExceeded,
	kafkaplane.CodeLastRootKey:          apierr.RAMLastRootKey,
	kafkaplane.CodeHasAccessKeys:        apierr.DeleteConflict,
	kafkaplane.CodeHasPolicies:          apierr.DeleteConflict,
	kafkaplane.CodeHasGroups:            apierr.DeleteConflict,
	kafkaplane.CodeHasUsers:             apierr.DeleteConflict,
	kafkaplane.CodeAttemptsExhausted:    apierr.OperationAttemptsExhausted,
	kafkaplane.CodeUnsupportedOperation: apierr.UnsupportedOperation,
	kafkaplane.CodeUnsupportedStep:      apierr.UnsupportedOperationStep,
	kafkaplane.CodeNothingToUpgrade:     apierr.NothingToUpgrade,
	kafkaplane.CodeDowngrade:            apierr.Downgrade,
	kafkaplane.CodeInvalidTarget:        apierr.InvalidTarget,
	kafkaplane.CodeUnsupportedVersion:   apierr.UnsupportedVersion,
	kafkaplane.CodeUnavailable:          apierr.ServiceUnavailable,
}

// entity is what a handler's store call was about: the wire entries RAM
// publishes for that entity in place of the domain's generic codes. A zero
// field leaves the domain code to domainWire.
type entity struct {
	notFound apierr.Def
	exists   apierr.Def
	// inUse maps the domain's CodeHas* codes of a refused delete to the
	// entity's DeleteConflict.{Entity}.{Kind} entries.
	inUse map[string]apierr.Def
}

// The entities whose deletes RAM refuses while others refer to them.
var (
	ramUserEntity = entity{
		notFound: apierr.RAMUserNotExist,
		inUse: map[string]apierr.Def{
			kafkaplane.CodeHasAccessKeys: apierr.RAMDeleteUserAccessKey,
			kafkaplane.CodeHasPolicies:   apierr.RAMDeleteUserPolicy,
			kafkaplane.CodeHasGroups:     apierr.RAMDeleteUserGroup,
		},
	}
	ramPolicyEntity = entity{
		notFound: apierr.RAMPolicyNotExist,
		inUse: map[string]apierr.Def{
			kafkaplane.CodeHasUsers:  apierr.RAMDeletePolicyUser,
			kafkaplane.CodeHasGroups: apierr.RAMDeletePolicyGroup,
		},
	}
	ramGroupEntity = entity{
		notFound: apierr.RAMGroupNotExist,
		inUse: map[string]apierr.Def{
			kafkaplane.CodeHasUsers:    apierr.RAMDeleteGroupUser,
			kafkaplane.CodeHasPolicies: apierr.RAMDeleteGroupPolicy,
		},
	}
)

// wireError is the one place where a domain code becomes a wire code: the
// handler's entity decides first, then domainWire. A translated code
// answers the catalogue's message (the store wrote its message for the
// domain code, not for the wire code); an error that is not a domain error
// is returned as it is. toWire calls it with the zero entity for whatever
// a handler passed through.
func wireError(err error, ent entity) error {
	var e *kafkaplane.Error
	if !errors.As(err, &e) {
		return err
	}
	var d apierr.Def
	switch e.Code {
	case kafkaplane.CodeNotFound:
		d = ent.notFound
	case kafkaplane.CodeAlreadyExists:
		d = ent.exists
	default:
		d = ent.inUse[e.Code]
	}
	if d.Code == "" {
		d = domainWire[e.Code]
	}
	if d.Code == "" || d.Code == e.Code {
		return err
	}
	return d.New()
}
