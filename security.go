package kafkaplane

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SaslUserRecord is one SASL user of an instance as the API keeps it
// (CreateSaslUser); the brokers get it as a SaslUser. A user is
// identified by its instance, Type and Username: a plain and a scram user
// may share a name, and the brokers then accept either login.
type SaslUserRecord struct {
	InstanceID string
	Username   string
	// Type is "plain" or "scram"; Mechanism is SCRAM-SHA-256 or
	// SCRAM-SHA-512 for scram users and empty for plain ones.
	Type      string
	Mechanism string
	// Password is the password in clear. alikafka returns it from
	// DescribeSaslUsers, so it is kept, sealed at rest like AccessKey
	// secrets.
	Password string
	// Credentials are the salted verifiers the brokers check logins
	// against, derived once when the user is created, as opaque JSON text.
	Credentials string
	CreateTime  time.Time
}

// ACLRecord is one Kafka ACL of an instance (CreateAcl), in the enumerations
// alikafka's API takes: ResourceType Topic, Group, Cluster or
// TransactionalId; PatternType LITERAL or PREFIXED; Operation Read, Write,
// IdempotentWrite…; Permission ALLOW or DENY; Host "*" or one address.
// Every field but CreateTime is part of its identity.
type ACLRecord struct {
	InstanceID   string
	Username     string
	ResourceType string
	ResourceName string
	PatternType  string
	Operation    string
	Permission   string
	Host         string
	CreateTime   time.Time
}

// AllowedIP is one entry of an instance's allowlists (UpdateAllowedIp):
// ListType vpc or internet, the endpoint's PortRange (9092/9092…), and an
// address or CIDR block.
type AllowedIP struct {
	InstanceID  string
	ListType    string
	PortRange   string
	IP          string
	Description string
	CreateTime  time.Time
}

// SecurityService stores the SASL users, ACLs and allowlists of instances.
// A limit above zero caps the rows of the kind per instance (per list for
// allowlists): CodeLimitExceeded, decided atomically with the insert.
type SecurityService interface {
	// PutSaslUser creates the user, or replaces the password, mechanism
	// and credentials of the one with the same instance, type and name.
	PutSaslUser(ctx context.Context, u *SaslUserRecord, limit int) error
	// DeleteSaslUser removes a user, or returns CodeNotFound.
	DeleteSaslUser(ctx context.Context, instanceID, typ, username string) error
	// ListSaslUsers lists an instance's users by name and type.
	ListSaslUsers(ctx context.Context, instanceID string) ([]*SaslUserRecord, error)

	// CreateACL stores an ACL; CodeAlreadyExists when the same one is
	// there.
	CreateACL(ctx context.Context, a *ACLRecord, limit int) error
	// DeleteACL removes the ACL equal to a in every field but CreateTime,
	// or returns CodeNotFound.
	DeleteACL(ctx context.Context, a *ACLRecord) error
	// ListACLs lists an instance's ACLs, oldest first.
	ListACLs(ctx context.Context, instanceID string) ([]*ACLRecord, error)

	// AddAllowedIPs adds entries to one list of an instance (all of the
	// same InstanceID, ListType and PortRange); entries already there keep
	// their description. The limit counts the list's entries afterwards.
	AddAllowedIPs(ctx context.Context, entries []AllowedIP, limit int) error
	// DeleteAllowedIPs removes entries from one list; entries not there
	// are ignored.
	DeleteAllowedIPs(ctx context.Context, instanceID, listType, portRange string, ips []string) error
	// ListAllowedIPs lists an instance's allowlist entries, oldest first.
	ListAllowedIPs(ctx context.Context, instanceID string) ([]*AllowedIP, error)
}

// AllowlistEndpoint is one allowlist an instance has, as alikafka names
// it (AllowedListType and PortRange of UpdateAllowedIp), and the broker
// listener that enforces it.
type AllowlistEndpoint struct {
	ListType  string
	PortRange string
	Listener  Listener
}

// AllowlistEndpoints are the allowlists kafkaplane enforces: the default
// VPC endpoint (9092), the VPC SASL endpoint (9094) and the internet
// SASL_SSL endpoint (9093). docs/dataplane.md describes the listeners.
var AllowlistEndpoints = []AllowlistEndpoint{
	{ListType: "vpc", PortRange: "9092/9092", Listener: ListenerPlaintext},
	{ListType: "vpc", PortRange: "9094/9094", Listener: ListenerSasl},
	{ListType: "internet", PortRange: "9093/9093", Listener: ListenerSaslSSL},
}

// ACLEnabled reports whether an instance's AllConfig turns ACLs on
// (enable.acl, which UpdateInstanceConfig sets).
func ACLEnabled(config map[string]string) bool { return config["enable.acl"] == "true" }

// SecurityFor builds an instance's data-plane security from what the store
// holds: every listener of AllowlistEndpoints gets its list (empty when
// the list has no entries, which admits nobody), users of both types are
// merged per name, and ACLs name their user as a Kafka principal.
func SecurityFor(ctx context.Context, store SecurityService, instanceID string, config map[string]string) (Security, error) {
	sec := Security{ACLEnabled: ACLEnabled(config), Allowlists: map[Listener][]string{}}
	users, err := store.ListSaslUsers(ctx, instanceID)
	if err != nil {
		return sec, err
	}
	byName := map[string]int{}
	for _, u := range users {
		var cred SaslUser
		if err := json.Unmarshal([]byte(u.Credentials), &cred); err != nil {
			return sec, fmt.Errorf("SASL user %s of %s: %w", u.Username, instanceID, err)
		}
		i, ok := byName[u.Username]
		if !ok {
			byName[u.Username] = len(sec.Users)
			sec.Users = append(sec.Users, SaslUser{Name: u.Username})
			i = len(sec.Users) - 1
		}
		merged := &sec.Users[i]
		if cred.Plain != nil {
			merged.Plain = cred.Plain
		}
		for m, c := range cred.Scram {
			if merged.Scram == nil {
				merged.Scram = map[string]ScramCredential{}
			}
			merged.Scram[m] = c
		}
	}
	acls, err := store.ListACLs(ctx, instanceID)
	if err != nil {
		return sec, err
	}
	for _, a := range acls {
		sec.ACLs = append(sec.ACLs, ACL{
			Principal:    "User:" + a.Username,
			ResourceType: ResourceType(a.ResourceType),
			ResourceName: a.ResourceName,
			PatternType:  PatternType(a.PatternType),
			Operation:    ACLOperation(a.Operation),
			Permission:   Permission(a.Permission),
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
