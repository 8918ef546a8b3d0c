package jobs

import (
	"context"
	"encoding/json"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// SaslCredentials derives the salted credentials the brokers verify a
// user's logins with, as the text stored in SaslUserRecord.Credentials.
func SaslCredentials(username, password, mechanism string) (string, error) {
	u, err := broker.NewSaslUser(username, password, mechanism)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(u)
	return string(b), err
}

// SecureRuntime is the Runtime every part of the server starts brokers
// through: each Start carries the instance's stored Security, so brokers
// brought back by StartInstance, ReopenInstance, a restart of kafkaplane or
// an upgrade enforce the same users, ACLs and allowlists as before. The
// optional interfaces of the runtime it wraps are found through
// kafkaplane.RuntimeAs.
type SecureRuntime struct {
	broker.Runtime
	Store kafkaplane.SecurityService
}

// Secure wraps rt in a SecureRuntime.
func Secure(rt broker.Runtime, store kafkaplane.SecurityService) *SecureRuntime {
	return &SecureRuntime{Runtime: rt, Store: store}
}

// Unwrap returns the wrapped runtime.
func (r *SecureRuntime) Unwrap() kafkaplane.Runtime { return r.Runtime }

// Start fills spec.Security from the store and starts the brokers.
func (r *SecureRuntime) Start(ctx context.Context, spec broker.Spec) ([]broker.BrokerStatus, error) {
	sec, err := kafkaplane.SecurityFor(ctx, r.Store, spec.InstanceID, spec.Config)
	if err != nil {
		return nil, err
	}
	spec.Security = sec
	return r.Runtime.Start(ctx, spec)
}
