package openapi

// ramEntry is an action's RAM authorization and quota as alikafka
// publishes them (reference §3.2): the RAM action a policy must allow, the
// resource it is checked against, and the per-account QPS limit.
type ramEntry struct {
	ramAction string
	resource  string
	qps       float64
}

// instanceARN is alikafka's resource template for instance-scoped actions.
const instanceARN = "acs:alikafka:{RegionId}:{AccountId}:{InstanceId}"

// accountARN is the resource of actions on "all resources": every
// instance of the account in the region. It matches a policy Resource of
// "*" as well as AliyunKafkaReadOnlyAccess's acs:alikafka:*:*:*.
const accountARN = "acs:alikafka:{RegionId}:{AccountId}:*"

// alikafkaCatalogue is the table every alikafka action's declaration takes
// its RAM action, resource and QPS from. Actions whose quota the reference
// leaves unknown get 20/s, the common figure of the write actions around
// them.
var alikafkaCatalogue = map[string]ramEntry{
	"UpgradeInstanceVersion": {"alikafka:UpdateInstance", instanceARN, 2},
	"UpdateInstanceConfig":   {"alikafka:UpdateInstance", instanceARN, 2},
	"GetInstanceList":        {"alikafka:ListInstance", accountARN, 100},
	"GetAllInstanceIdList":   {"alikafka:ListInstance", accountARN, 100},
	"StartInstance":          {"alikafka:StartInstance", instanceARN, 2},
	"ModifyInstanceName":     {"alikafka:UpdateInstance", instanceARN, 40},
	"CreatePostPayOrder":     {"alikafka:CreatePostPayOrder", accountARN, 2},
	"CreatePrePayOrder":      {"alikafka:CreatePrePayOrder", accountARN, 2},
	"ReleaseInstance":        {"alikafka:ReleaseInstance", instanceARN, 2},
	"DeleteInstance":         {"alikafka:ReleaseInstance", instanceARN, 20},
	"StopInstance":           {"alikafka:ReleaseInstance", instanceARN, 20},
	"ReopenInstance":         {"alikafka:UpdateInstanceReopen", instanceARN, 20},
	// RAM actions as alikafka-actions.md lists them (unpublished: the
	// product's naming pattern); QPS 20 as published.
	"EnableAutoTopicCreation": {"alikafka:UpdateInstance", instanceARN, 20},
	"EnableAutoGroupCreation": {"alikafka:UpdateInstance", instanceARN, 20},
	// GetQuotaTip: 80 is the lower of the two figures alikafka has
	// published (docs/quotas.md).
	"GetQuotaTip":         {"alikafka:ListTopic", instanceARN, 80},
	"UpgradePostPayOrder": {"alikafka:UpgradePostPayOrder", instanceARN, 2},
	// Tag actions: RAM actions unpublished (the product's pattern);
	// ListTagResources 100/s and UntagResources 40/s as published,
	// TagResources 20/s (none published).
	"TagResources":     {"alikafka:TagResources", instanceARN, 20},
	"UntagResources":   {"alikafka:UntagResources", instanceARN, 40},
	"ListTagResources": {"alikafka:ListTagResources", instanceARN, 100},

	"CreateTopic":         {"alikafka:CreateTopic", instanceARN, 20},
	"DeleteTopic":         {"alikafka:DeleteTopic", instanceARN, 40},
	"GetTopicList":        {"alikafka:ListTopic", instanceARN, 100},
	"GetTopicStatus":      {"alikafka:ListTopic", instanceARN, 100},
	"ModifyTopicRemark":   {"alikafka:UpdateTopic", instanceARN, 40},
	"ModifyPartitionNum":  {"alikafka:UpdateTopic", instanceARN, 20},
	"CreateConsumerGroup": {"alikafka:CreateGroup", instanceARN, 40},
	"DeleteConsumerGroup": {"alikafka:DeleteGroup", instanceARN, 40},
	"GetConsumerList":     {"alikafka:ListGroup", instanceARN, 100},

	// SASL users, ACLs and allowlists: RAM actions and QPS as
	// alikafka-actions.md lists them; DeleteSaslUser's QPS is unpublished
	// (10, as CreateSaslUser's), and DescribeAclResourceName's RAM action
	// is unpublished (ListAcl, as DescribeAcls').
	"CreateSaslUser":          {"alikafka:CreateSaslUser", instanceARN, 10},
	"DeleteSaslUser":          {"alikafka:DeleteSaslUser", instanceARN, 10},
	"DescribeSaslUsers":       {"alikafka:ListSaslUser", instanceARN, 40},
	"CreateAcl":               {"alikafka:CreateAcl", instanceARN, 10},
	"DeleteAcl":               {"alikafka:DeleteAcl", instanceARN, 10},
	"DescribeAcls":            {"alikafka:ListAcl", instanceARN, 80},
	"DescribeAclResourceName": {"alikafka:ListAcl", instanceARN, 100},
	"UpdateAllowedIp":         {"alikafka:UpdateInstance", instanceARN, 40},
	"GetAllowedIpList":        {"alikafka:ListInstance", instanceARN, 100},

	// kafkaplane extensions: operations and upgrade targets are read-only
	// views of an instance. DescribeInstanceOperation derives the instance
	// from its OperationId.
	"ListInstanceOperations":    {"alikafka:ListInstance", instanceARN, 100},
	"DescribeInstanceOperation": {"alikafka:ListInstance", instanceARN, 100},
	"GetUpgradableVersions":     {"alikafka:ListInstance", instanceARN, 100},
}

// alikafkaVersion is the API version of alikafka.
const alikafkaVersion = "2019-09-16"

// kafkaAction declares an alikafka action from the catalogue. An action
// that names one instance (a single InstanceId parameter) is authorized on
// that instance's ARN, so that a policy about one instance governs every
// action on it; the catalogue may not say otherwise.
func kafkaAction(name string, params []Param, h Handler) *Action {
	e, ok := alikafkaCatalogue[name]
	if !ok {
		panic("openapi: " + name + " is not in the alikafka catalogue")
	}
	for _, p := range params {
		if p.Name == "InstanceId" && p.Kind != RepeatList && e.resource != instanceARN {
			panic("openapi: " + name + " takes an InstanceId but is not authorized on the instance's ARN")
		}
	}
	return &Action{
		Name:      name,
		Product:   "alikafka",
		Version:   alikafkaVersion,
		Params:    params,
		RAMAction: e.ramAction,
		Resource:  e.resource,
		QPS:       e.qps,
		Regional:  true,
		Envelope:  true,
		Handler:   h,
	}
}
