package policy

import "maps"

// Names of the system policies this control plane ships. RAM users of the
// real service attach these by name, so scripts and Terraform that grant
// them keep working unchanged.
const (
	AliyunKafkaFullAccess     = "AliyunKafkaFullAccess"
	AliyunKafkaReadOnlyAccess = "AliyunKafkaReadOnlyAccess"
	AliyunRAMFullAccess       = "AliyunRAMFullAccess"
	AliyunRAMReadOnlyAccess   = "AliyunRAMReadOnlyAccess"
)

// systemPolicies holds the documents verbatim as RAM publishes them, so that
// GetPolicyVersion returns the text users already know.
var systemPolicies = map[string]string{
	// help.aliyun.com/zh/ram/developer-reference/aliyunkafkafullaccess
	// (version 4): everything in alikafka, plus creating the service-linked
	// roles that connectors, disk encryption and ETL need.
	AliyunKafkaFullAccess: `{
    "Version": "1",
    "Statement": [
        {
            "Action": "alikafka:*",
            "Resource": "*",
            "Effect": "Allow"
        },
        {
            "Action": "ram:CreateServiceLinkedRole",
            "Resource": "*",
            "Effect": "Allow",
            "Condition": {
                "StringEquals": {
                    "ram:ServiceName": [
                        "connector.alikafka.aliyuncs.com",
                        "instanceencryption.alikafka.aliyuncs.com",
                        "alikafka.aliyuncs.com",
                        "etl.alikafka.aliyuncs.com"
                    ]
                }
            }
        }
    ]
}`,
	// alibabacloud.com/help/en/ram/developer-reference/aliyunkafkareadonlyaccess
	// (version 3). Version 4 adds ram:GetRole on two internal roles that
	// have no counterpart here, so it is left out. The patterns match RAM
	// action names, not API names: GetInstanceList is authorized through
	// alikafka:ListInstance, which List* covers.
	AliyunKafkaReadOnlyAccess: `{
    "Version": "1",
    "Statement": [
        {
            "Action": [
                "alikafka:List*",
                "alikafka:Query*",
                "alikafka:Get*",
                "alikafka:Download*",
                "alikafka:Check*",
                "alikafka:DashboardList",
                "alikafka:MetaData",
                "alikafka:RegionData",
                "alikafka:ReportMigrationProcess",
                "alikafka:DashboardCheckServiceStatus"
            ],
            "Resource": "acs:alikafka:*:*:*",
            "Effect": "Allow"
        }
    ]
}`,
	// Administrators of this control plane manage users, keys and policies
	// through the RAM API; these are the two RAM system policies for it.
	AliyunRAMFullAccess: `{
    "Version": "1",
    "Statement": [
        {
            "Action": "ram:*",
            "Resource": "*",
            "Effect": "Allow"
        }
    ]
}`,
	AliyunRAMReadOnlyAccess: `{
    "Version": "1",
    "Statement": [
        {
            "Action": [
                "ram:Get*",
                "ram:List*"
            ],
            "Resource": "*",
            "Effect": "Allow"
        }
    ]
}`,
}

var systemPolicyDescriptions = map[string]string{
	AliyunKafkaFullAccess:     "Provides full access to Message Queue for Apache Kafka via Management Console.",
	AliyunKafkaReadOnlyAccess: "Provides read-only access to Message Queue for Apache Kafka via Management Console.",
	AliyunRAMFullAccess:       "Provides full access to Resource Access Management (RAM), including managing users and their permissions.",
	AliyunRAMReadOnlyAccess:   "Provides read-only access to Resource Access Management (RAM).",
}

// SystemPolicies returns the built-in system policies as name → policy
// document JSON. The map is a fresh copy; callers may modify it.
func SystemPolicies() map[string]string {
	return maps.Clone(systemPolicies)
}

// SystemPolicyDescriptions returns the description of each system policy,
// keyed like SystemPolicies, for ListPolicies/GetPolicy responses. The map is
// a fresh copy.
func SystemPolicyDescriptions() map[string]string {
	return maps.Clone(systemPolicyDescriptions)
}

// SystemPolicy returns the parsed document of the named system policy. The
// built-in documents are validated by the package tests, so ok is false only
// for an unknown name.
func SystemPolicy(name string) (doc *Document, ok bool) {
	text, ok := systemPolicies[name]
	if !ok {
		return nil, false
	}
	d, err := Parse([]byte(text))
	if err != nil {
		return nil, false
	}
	return d, true
}
