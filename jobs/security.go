package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// AllowlistEndpoint is one allowlist an instance has, as alikafka names
// it (AllowedListType and PortRange of UpdateAllowedIp), and the broker
// listener that enforces it.
type AllowlistEndpoint struct {
	ListType  string
	PortRange string
	Listener  broker.Listener
}

// AllowlistEndpoints are the allowlists kafkaplane enforces: the default
// VPC endpoint (9092), the VPC SASL endpoint (9094) and the internet
// SASL_SSL endpoint (9093). docs/dataplane.md describes the listeners.
var AllowlistEndpoints = []AllowlistEndpoint{
	{ListType: "vpc", PortRange: "9092/9092", Listener: broker.ListenerPlaintext},
	{ListType: "vpc", PortRange: "9094/9094", Listener: broker.ListenerSasl},
	{ListType: "internet", PortRange: "9093/9093", Listener: broker.ListenerSaslSSL},
}

// ACLEnabled reports whether an instance's AllConfig turns ACLs on
// (enable.acl, which UpdateInstanceConfig sets).
func ACLEnabled(config map[string]string) bool { return config["enable.acl"] == "true" }

// SaslCredentials derives the salted credentials the brokers verify a
// user's logins with, as the text stored in SaslUser.Credentials.
func SaslCredentials(username, password string, mechanisms ...string) (string, error) {
	u, err := broker.NewSaslUser(username, password, mechanisms...)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(u)
	return string(b), err
}

// SecurityFor builds an instance's data-plane security from what the store
// holds: every listener of AllowlistEndpoints gets its list (empty when
// the list has no entries, which admits nobody), users of both types are
// merged per name, and ACLs name their user as a Kafka principal.
func SecurityFor(ctx context.Context, store kafkaplane.SecurityService, instanceID string, config map[string]string) (broker.Security, error) {
	sec := broker.Security{ACLEnabled: ACLEnabled(config), Allowlists: map[broker.Listener][]string{}}
	users, err := store.ListSaslUsers(ctx, instanceID)
	if err != nil {
		return sec, err
	}
	byName := map[string]int{}
	for _, u := range users {
		var cred broker.SaslUser
		if err := json.Unmarshal([]byte(u.Credentials), &cred); err != nil {
			return sec, fmt.Errorf("SASL user %s of %s: %w", u.Username, instanceID, err)
		}
		i, ok := byName[u.Username]
		if !ok {
			byName[u.Username] = len(sec.Users)
			sec.Users = append(sec.Users, broker.SaslUser{Name: u.Username})
			i = len(sec.Users) - 1
		}
		merged := &sec.Users[i]
		if cred.Plain != nil {
			merged.Plain = cred.Plain
		}
		for m, c := range cred.Scram {
			if merged.Scram == nil {
				merged.Scram = map[string]broker.ScramCredential{}
			}
			merged.Scram[m] = c
		}
	}
	acls, err := store.ListACLs(ctx, instanceID)
	if err != nil {
		return sec, err
	}
	for _, a := range acls {
		sec.ACLs = append(sec.ACLs, broker.ACL{
			Principal:    "User:" + a.Username,
			ResourceType: broker.ResourceType(a.ResourceType),
			ResourceName: a.ResourceName,
			PatternType:  broker.PatternType(a.PatternType),
			Operation:    broker.Operation(a.Operation),
			Permission:   broker.Permission(a.Permission),
			Host:         a.Host,
		})
	}
	ips, err := store.ListAllowedIPs(ctx, instanceID)
	if err != nil {
		return sec, err
	}
	for _, ep := range AllowlistEndpoints {
		list := []string{}
		for _, e := range ips {
			if e.ListType == ep.ListType && e.PortRange == ep.PortRange {
				list = append(list, e.IP)
			}
		}
		sec.Allowlists[ep.Listener] = list
	}
	return sec, nil
}

// SecureRuntime is the Runtime every part of the server starts brokers
// through: each Start carries the instance's stored Security, so brokers
// brought back by StartInstance, ReopenInstance, a restart of kafkaplane or
// an upgrade enforce the same users, ACLs and allowlists as before. Build
// it with Secure, which keeps the optional interfaces of the runtime it
// wraps.
type SecureRuntime struct {
	broker.Runtime
	Store kafkaplane.SecurityService
}

// Secure wraps rt in a SecureRuntime that still implements each optional
// runtime interface rt implements (kafkaplane.EndpointReporter,
// kafkaplane.UpgradeFinalizer), so callers that look for them find them
// through the wrapper exactly when rt has them.
func Secure(rt broker.Runtime, store kafkaplane.SecurityService) broker.Runtime {
	s := &SecureRuntime{Runtime: rt, Store: store}
	er, isER := rt.(kafkaplane.EndpointReporter)
	uf, isUF := rt.(kafkaplane.UpgradeFinalizer)
	switch {
	case isER && isUF:
		return struct {
			*SecureRuntime
			kafkaplane.EndpointReporter
			kafkaplane.UpgradeFinalizer
		}{s, er, uf}
	case isER:
		return struct {
			*SecureRuntime
			kafkaplane.EndpointReporter
		}{s, er}
	case isUF:
		return struct {
			*SecureRuntime
			kafkaplane.UpgradeFinalizer
		}{s, uf}
	}
	return s
}

// Start fills spec.Security from the store and starts the brokers.
func (r *SecureRuntime) Start(ctx context.Context, spec broker.Spec) ([]broker.BrokerStatus, error) {
	sec, err := SecurityFor(ctx, r.Store, spec.InstanceID, spec.Config)
	if err != nil {
		return nil, err
	}
	spec.Security = sec
	return r.Runtime.Start(ctx, spec)
}
