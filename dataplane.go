package kafkaplane

// Listener is a kind of endpoint every broker of an instance may have,
// laid out as alikafka lays out an instance's endpoints.
type Listener string

const (
	// ListenerPlaintext is the default VPC endpoint: no authentication,
	// guarded only by its allowlist. ACLs do not apply to it.
	ListenerPlaintext Listener = "PLAINTEXT"
	// ListenerSasl is the VPC SASL endpoint (SASL_PLAINTEXT). It takes
	// connections only while the instance has ACLs enabled.
	ListenerSasl Listener = "SASL_PLAINTEXT"
	// ListenerSaslSSL is the internet endpoint: TLS, then SASL.
	ListenerSaslSSL Listener = "SASL_SSL"
)

// Listeners lists every listener kind.
var Listeners = []Listener{ListenerPlaintext, ListenerSasl, ListenerSaslSSL}

// Security is an instance's data-plane security: who may connect to which
// endpoint, who they are, and what they may do. It is per instance, not per
// broker, so it survives broker restarts; the control plane passes it in
// Spec on Start and changes it live with Runtime.ApplySecurity.
type Security struct {
	// ACLEnabled turns on the SASL_PLAINTEXT endpoint and ACL
	// enforcement for SASL principals on every SASL endpoint.
	ACLEnabled bool
	// Users are the SASL users with their salted credentials.
	Users []SaslUser
	// ACLs are the instance's Kafka ACLs.
	ACLs []ACL
	// Allowlists holds, per listener, the CIDRs (or single addresses)
	// whose connections are accepted. A listener absent from the map
	// accepts every source (0.0.0.0/0, alikafka's default for internet
	// instances); a listener present with an empty list accepts none.
	// Changes apply to new connections; open ones stay open.
	Allowlists map[Listener][]string
	// TLS is the certificate the SASL_SSL endpoint presents. When nil,
	// the runtime issues one from its installation CA.
	TLS *TLSCert
}

// TLSCert is a PEM-encoded certificate chain and its private key.
type TLSCert struct {
	CertPEM []byte
	KeyPEM  []byte
}

// SaslUser is one SASL user with salted credentials for each mechanism it
// may use; no plaintext password is kept.
type SaslUser struct {
	Name string
	// Plain verifies PLAIN logins; nil when the user may not use PLAIN.
	Plain *PlainCredential
	// Scram holds SCRAM credentials by mechanism (SCRAM-SHA-256,
	// SCRAM-SHA-512).
	Scram map[string]ScramCredential
}

// PlainCredential is a salted PBKDF2-HMAC-SHA-256 hash of a PLAIN password.
type PlainCredential struct {
	Salt       []byte
	Iterations int
	Hash       []byte
}

// ScramCredential is a SCRAM credential as RFC 5802 defines it.
type ScramCredential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// ResourceType is what a Kafka ACL is about.
type ResourceType string

// Resource types, spelt as alikafka's CreateAcl takes them.
const (
	ResourceTopic           ResourceType = "Topic"
	ResourceGroup           ResourceType = "Group"
	ResourceCluster         ResourceType = "Cluster"
	ResourceTransactionalID ResourceType = "TransactionalId"
)

// PatternType says how an ACL's resource name matches.
type PatternType string

// Pattern types: LITERAL matches the name exactly ("*" matches every
// name), PREFIXED every name that starts with it.
const (
	PatternLiteral  PatternType = "LITERAL"
	PatternPrefixed PatternType = "PREFIXED"
)

// ACLOperation is a Kafka ACL operation.
type ACLOperation string

// ACL operations, as Kafka names them.
const (
	OpAll             ACLOperation = "All"
	OpRead            ACLOperation = "Read"
	OpWrite           ACLOperation = "Write"
	OpCreate          ACLOperation = "Create"
	OpDelete          ACLOperation = "Delete"
	OpAlter           ACLOperation = "Alter"
	OpDescribe        ACLOperation = "Describe"
	OpClusterAction   ACLOperation = "ClusterAction"
	OpDescribeConfigs ACLOperation = "DescribeConfigs"
	OpAlterConfigs    ACLOperation = "AlterConfigs"
	OpIdempotentWrite ACLOperation = "IdempotentWrite"
)

// Permission is ALLOW or DENY.
type Permission string

// Permissions.
const (
	PermissionAllow Permission = "ALLOW"
	PermissionDeny  Permission = "DENY"
)

// ACL is one Kafka ACL. Principal is "User:<name>" or "User:*"; Host is
// "*" or one client address. Enumerations are matched without regard to
// case or underscores, so "IDEMPOTENT_WRITE", "TOPIC" and "literal" are
// read as IdempotentWrite, Topic and LITERAL.
type ACL struct {
	Principal    string
	ResourceType ResourceType
	ResourceName string
	PatternType  PatternType
	Operation    ACLOperation
	Permission   Permission
	Host         string
}
