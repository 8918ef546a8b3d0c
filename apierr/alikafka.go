package apierr

import "github.com/kafkaplane/kafkaplane"

// alikafka topic and consumer-group errors. They share the BIZ_ codes of
// Alibaba's message-queue products; the messages are kafkaplane's.
var (
	// TopicNotFound: a topic action names a topic the instance does not hold.
	TopicNotFound = def("BIZ_TOPIC_NOT_FOUND", 400, "The specified topic does not exist.")
	// TopicExisted: CreateTopic names a topic the instance already holds.
	TopicExisted = def("BIZ_TOPIC_EXISTED", 400, "The specified topic already exists.")
	// GroupNotFound: a consumer-group action names a group the instance does not hold.
	GroupNotFound = def("BIZ_SUBSCRIPTION_NOT_FOUND", 400, "The specified consumer group does not exist.")
	// GroupExisted: CreateConsumerGroup names a group the instance already holds.
	GroupExisted = def("BIZ_SUBSCRIPTION_EXISTED", 400, "The specified consumer group already exists.")
	// RuntimeUnsupported: the action needs the brokers' data or observations, which the configured broker runtime (strimzi) does not provide.
	RuntimeUnsupported = def("UnsupportedOperation.Runtime", 400, "The broker runtime of this service does not support the action.")
	// GroupActive: UpdateConsumerOffset names a group that has members; only they may commit its offsets until they leave.
	GroupActive = def("BIZ_CONSUMER_GROUP_ACTIVE", 400, "The consumer group has active members; stop its consumers before resetting its offsets.")
)

// Generic domain errors. They are answered when a handler has no more
// specific code for a failure of the store.
var (
	// LimitExceeded: a create would take its owner past a count limit the handler has no quota code for.
	LimitExceeded = def(kafkaplane.CodeLimitExceeded, 400, "The count limit of the entity was reached.")
	// DeleteConflict: a delete of an entity that others still refer to, where the handler has no entity-specific code.
	DeleteConflict = def("DeleteConflict", 409, "The entity is still in use; remove what refers to it first.")
)

// Operation errors. They are never an HTTP answer of their own:
// ListInstanceOperations and DescribeInstanceOperation show them in an
// operation's ErrorInfo (besides {STEP}_FAILED, a step that failed without
// a code of its own).
var (
	// OperationAttemptsExhausted: the operation was claimed the most times allowed without finishing.
	OperationAttemptsExhausted = def(kafkaplane.CodeAttemptsExhausted, 500, "The operation did not finish in the attempts allowed.")
	// UnsupportedOperation: the worker does not know the operation's type or it has no steps.
	UnsupportedOperation = def(kafkaplane.CodeUnsupportedOperation, 500, "This worker cannot run the operation's type.")
	// UnsupportedOperationStep: the worker does not know one of the operation's steps.
	UnsupportedOperationStep = def(kafkaplane.CodeUnsupportedStep, 500, "This worker cannot run one of the operation's steps.")
)

// Scheduled scaling rule errors.
var (
	// ScalingRuleNotFound: ModifyScheduledScalingRule or DeleteScheduledScalingRule names a rule the instance does not have.
	ScalingRuleNotFound = def("BIZ_SCHEDULED_SCALING_RULE_NOT_FOUND", 400, "The specified scheduled scaling rule does not exist.")
	// ScalingRuleExisted: CreateScheduledScalingRule names a rule the instance already has.
	ScalingRuleExisted = def("BIZ_SCHEDULED_SCALING_RULE_EXISTED", 400, "A scheduled scaling rule of that name already exists.")
	// ScalingRuleQuotaExceeded: CreateScheduledScalingRule on an instance that has the most rules allowed.
	ScalingRuleQuotaExceeded = def("BIZ_SCHEDULED_SCALING_RULE_QUOTA_EXCEEDED", 400, "The instance has the most scheduled scaling rules allowed.")
)

// alikafka SASL user, ACL and allowlist errors (docs/limits.md has the
// quotas).
var (
	// SaslUserNotFound: DeleteSaslUser names a user the instance does not have.
	SaslUserNotFound = def("BIZ_SASL_USER_NOT_FOUND", 400, "The specified SASL user does not exist.")
	// AclNotFound: DeleteAcl matches no ACL of the instance.
	AclNotFound = def("BIZ_ACL_NOT_FOUND", 400, "The specified ACL does not exist.")
	// SaslUserQuotaExceeded: CreateSaslUser of a new user on an instance that holds the most SASL users allowed.
	SaslUserQuotaExceeded = def("BIZ_SASL_USER_QUOTA_EXCEEDED", 400, "The instance already holds the most SASL users allowed.")
	// AclQuotaExceeded: CreateAcl on an instance that holds the most ACLs allowed.
	AclQuotaExceeded = def("BIZ_ACL_QUOTA_EXCEEDED", 400, "The instance already holds the most ACLs allowed.")
	// AllowedIPQuotaExceeded: UpdateAllowedIp would leave an allowlist with more entries than allowed.
	AllowedIPQuotaExceeded = def("BIZ_ALLOWED_IP_QUOTA_EXCEEDED", 400, "An allowlist may hold at most 100 entries.")
	// SecurityUnsupported: a SASL user, ACL or allowlist change on an instance whose data plane (the strimzi runtime) does not apply them.
	SecurityUnsupported = def("BIZ_SECURITY_NOT_SUPPORTED", 400, "The data plane of this instance does not apply SASL users, ACLs or allowlists.")
)
