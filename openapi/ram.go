package openapi

import (
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/policy"
)

// RAM serves the RAM OpenAPI (2015-05-01) on the same endpoint as
// alikafka, so that the official RAM SDKs, the aliyun CLI and Terraform
// manage kafkaplane's users, AccessKeys and policies unchanged.
type RAM struct {
	Identities kafkaplane.IdentityService
	// Now is the clock for the dates RAM reports (time.Now when nil).
	Now func() time.Time
}

// RAM's resource templates (help.aliyun.com, "RAM authorization" of each
// api-ram-2015-05-01-* page): users and policies are named by ARN, list
// actions apply to the whole account.
const (
	ramUserARN    = "acs:ram:*:{AccountId}:user/{UserName}"
	ramPolicyARN  = "acs:ram:*:{AccountId}:policy/{PolicyName}"
	ramAccountARN = "acs:ram:*:{AccountId}:*"
)

// ramQPS is the per-account limit of every RAM action. RAM publishes no
// per-API figure; 20/s keeps scripted bulk changes possible while bounding
// store load.
const ramQPS = 20

// maxAccessKeysPerUser is RAM's limit on AccessKeys per principal.
const maxAccessKeysPerUser = 2

// Register adds the RAM actions to g.
func (s *RAM) Register(g *Registry) {
	// Lengths and ranges are RAM's (docs/limits.md); the registry answers
	// a value beyond them with RAM's own code.
	userName := Param{Name: "UserName", Required: true, MaxLen: 64, OutOfRange: apierr.RAMUserNameLength}
	optUserName := Param{Name: "UserName", MaxLen: 64, OutOfRange: apierr.RAMUserNameLength}
	policyName := Param{Name: "PolicyName", Required: true, MaxLen: 128, OutOfRange: apierr.RAMPolicyNameLength}
	policyType := Param{Name: "PolicyType", Required: true, MaxLen: 16, OutOfRange: apierr.RAMPolicyType}
	paging := ramPaging

	g.Add(ramAction(Action{
		Name: "CreateUser", RAMAction: "ram:CreateUser", Resource: ramUserARN, QPS: ramQPS,
		Params: []Param{
			userName,
			{Name: "DisplayName", MaxLen: 128, OutOfRange: apierr.RAMDisplayNameLength},
			{Name: "MobilePhone", MaxLen: 32, OutOfRange: apierr.RAMMobilePhoneFormat},
			{Name: "Email", MaxLen: 128, OutOfRange: apierr.RAMEmailFormat},
			{Name: "Comments", MaxLen: 128, OutOfRange: apierr.RAMCommentsLength},
		},
		Handler: s.createUser,
	}))
	g.Add(ramAction(Action{
		Name: "GetUser", RAMAction: "ram:GetUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName},
		Handler: s.getUser,
	}))
	g.Add(ramAction(Action{
		Name: "UpdateUser", RAMAction: "ram:UpdateUser", Resource: ramUserARN, QPS: ramQPS,
		Params: []Param{
			userName,
			{Name: "NewUserName", MaxLen: 64, OutOfRange: apierr.RAMNewUserNameLength},
			{Name: "NewDisplayName", MaxLen: 128, OutOfRange: apierr.RAMNewDisplayNameLen},
			{Name: "NewMobilePhone", MaxLen: 32, OutOfRange: apierr.RAMNewMobilePhoneFmt},
			{Name: "NewEmail", MaxLen: 128, OutOfRange: apierr.RAMNewEmailFormat},
			{Name: "NewComments", MaxLen: 128, OutOfRange: apierr.RAMNewCommentsLength},
		},
		Handler: s.updateUser,
	}))
	g.Add(ramAction(Action{
		Name: "ListUsers", RAMAction: "ram:ListUsers", Resource: ramAccountARN, QPS: ramQPS,
		Params:  paging,
		Handler: s.listUsers,
	}))
	g.Add(ramAction(Action{
		Name: "DeleteUser", RAMAction: "ram:DeleteUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName},
		Handler: s.deleteUser,
	}))

	g.Add(keyAction(ramAction(Action{
		Name: "CreateAccessKey", RAMAction: "ram:CreateAccessKey", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{optUserName},
		Handler: s.createAccessKey,
	})))
	g.Add(keyAction(ramAction(Action{
		Name: "UpdateAccessKey", RAMAction: "ram:UpdateAccessKey", Resource: ramUserARN, QPS: ramQPS,
		Params: []Param{
			optUserName, {Name: "UserAccessKeyId", Required: true, MaxLen: 64}, {Name: "Status", Required: true, MaxLen: 16, OutOfRange: apierr.RAMStatus},
		},
		Handler: s.updateAccessKey,
	})))
	g.Add(keyAction(ramAction(Action{
		Name: "ListAccessKeys", RAMAction: "ram:ListAccessKeys", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{optUserName},
		Handler: s.listAccessKeys,
	})))
	g.Add(keyAction(ramAction(Action{
		Name: "DeleteAccessKey", RAMAction: "ram:DeleteAccessKey", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{optUserName, {Name: "UserAccessKeyId", Required: true, MaxLen: 64}},
		Handler: s.deleteAccessKey,
	})))

	g.Add(ramAction(Action{
		Name: "CreatePolicy", RAMAction: "ram:CreatePolicy", Resource: ramPolicyARN, QPS: ramQPS,
		Params: []Param{
			policyName,
			{Name: "PolicyDocument", Required: true, MaxLen: policy.MaxDocumentLength, OutOfRange: apierr.RAMPolicyDocLength},
			{Name: "Description", MaxLen: 1024, OutOfRange: apierr.RAMDescriptionLength},
		},
		Handler: s.createPolicy,
	}))
	g.Add(ramAction(Action{
		Name: "GetPolicy", RAMAction: "ram:GetPolicy", Resource: ramPolicyARN, QPS: ramQPS,
		Params:  []Param{policyName, policyType},
		Handler: s.getPolicy,
	}))
	g.Add(ramAction(Action{
		Name: "ListPolicies", RAMAction: "ram:ListPolicies", Resource: ramAccountARN, QPS: ramQPS,
		Params:  append([]Param{{Name: "PolicyType", MaxLen: 16, OutOfRange: apierr.RAMPolicyType}}, paging...),
		Handler: s.listPolicies,
	}))
	g.Add(ramAction(Action{
		Name: "DeletePolicy", RAMAction: "ram:DeletePolicy", Resource: ramPolicyARN, QPS: ramQPS,
		Params:  []Param{policyName},
		Handler: s.deletePolicy,
	}))

	g.Add(ramAction(Action{
		Name: "AttachPolicyToUser", RAMAction: "ram:AttachPolicyToUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName, policyName, policyType},
		Handler: s.attachPolicy(false, apierr.RAMUserPolicyExists),
	}))
	g.Add(ramAction(Action{
		Name: "DetachPolicyFromUser", RAMAction: "ram:DetachPolicyFromUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName, policyName, policyType},
		Handler: s.detachPolicy(false, apierr.RAMUserPolicyNotExist),
	}))
	g.Add(ramAction(Action{
		Name: "ListPoliciesForUser", RAMAction: "ram:ListPoliciesForUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName},
		Handler: s.listPoliciesFor(false),
	}))
	g.Add(ramAction(Action{
		Name: "ListEntitiesForPolicy", RAMAction: "ram:ListEntitiesForPolicy", Resource: ramPolicyARN, QPS: ramQPS,
		Params:  []Param{policyName, policyType},
		Handler: s.listEntitiesForPolicy,
	}))

	s.registerGroups(g)
}

func (s *RAM) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ramTranslate answers RAM's entity codes for the store's generic ones:
// notFound for a missing row, exists for a duplicate (a zero Def leaves the
// code to wireError's defaults).
func ramTranslate(err error, notFound, exists apierr.Def) error {
	return wireError(err, entity{notFound: notFound, exists: exists})
}
