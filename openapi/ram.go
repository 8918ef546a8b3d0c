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

// ramVersion is RAM's API version.
const ramVersion = "2015-05-01"

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

// ramAction declares one RAM action.
func ramAction(name, resource string, params []Param, h Handler) *Action {
	return &Action{
		Name:      name,
		Product:   "ram",
		Version:   ramVersion,
		Params:    params,
		RAMAction: "ram:" + name,
		Resource:  resource,
		QPS:       ramQPS,
		Handler:   h,
	}
}

// Register adds the RAM actions to g.
func (s *RAM) Register(g *Registry) {
	// Lengths and ranges are RAM's (docs/limits.md); the registry answers
	// a value beyond them with RAM's own code.
	userName := Param{Name: "UserName", Required: true, MaxLen: 64, OutOfRange: apierr.RAMUserNameLength}
	optUserName := Param{Name: "UserName", MaxLen: 64, OutOfRange: apierr.RAMUserNameLength}
	policyName := Param{Name: "PolicyName", Required: true, MaxLen: 128, OutOfRange: apierr.RAMPolicyNameLength}
	policyType := Param{Name: "PolicyType", Required: true, MaxLen: 16, OutOfRange: apierr.RAMPolicyType}
	paging := ramPaging

	g.Add(ramAction("CreateUser", ramUserARN, []Param{
		userName,
		{Name: "DisplayName", MaxLen: 128, OutOfRange: apierr.RAMDisplayNameLength},
		{Name: "MobilePhone", MaxLen: 32, OutOfRange: apierr.RAMMobilePhoneFormat},
		{Name: "Email", MaxLen: 128, OutOfRange: apierr.RAMEmailFormat},
		{Name: "Comments", MaxLen: 128, OutOfRange: apierr.RAMCommentsLength},
	}, s.createUser))
	g.Add(ramAction("GetUser", ramUserARN, []Param{userName}, s.getUser))
	g.Add(ramAction("UpdateUser", ramUserARN, []Param{
		userName,
		{Name: "NewUserName", MaxLen: 64, OutOfRange: apierr.RAMNewUserNameLength},
		{Name: "NewDisplayName", MaxLen: 128, OutOfRange: apierr.RAMNewDisplayNameLen},
		{Name: "NewMobilePhone", MaxLen: 32, OutOfRange: apierr.RAMNewMobilePhoneFmt},
		{Name: "NewEmail", MaxLen: 128, OutOfRange: apierr.RAMNewEmailFormat},
		{Name: "NewComments", MaxLen: 128, OutOfRange: apierr.RAMNewCommentsLength},
	}, s.updateUser))
	g.Add(ramAction("ListUsers", ramAccountARN, paging, s.listUsers))
	g.Add(ramAction("DeleteUser", ramUserARN, []Param{userName}, s.deleteUser))

	g.Add(keyAction(ramAction("CreateAccessKey", ramUserARN, []Param{optUserName}, s.createAccessKey)))
	g.Add(keyAction(ramAction("UpdateAccessKey", ramUserARN, []Param{
		optUserName, {Name: "UserAccessKeyId", Required: true, MaxLen: 64}, {Name: "Status", Required: true, MaxLen: 16, OutOfRange: apierr.RAMStatus},
	}, s.updateAccessKey)))
	g.Add(keyAction(ramAction("ListAccessKeys", ramUserARN, []Param{optUserName}, s.listAccessKeys)))
	g.Add(keyAction(ramAction("DeleteAccessKey", ramUserARN, []Param{optUserName, {Name: "UserAccessKeyId", Required: true, MaxLen: 64}}, s.deleteAccessKey)))

	g.Add(ramAction("CreatePolicy", ramPolicyARN, []Param{
		policyName,
		{Name: "PolicyDocument", Required: true, MaxLen: policy.MaxDocumentLength, OutOfRange: apierr.RAMPolicyDocLength},
		{Name: "Description", MaxLen: 1024, OutOfRange: apierr.RAMDescriptionLength},
	}, s.createPolicy))
	g.Add(ramAction("GetPolicy", ramPolicyARN, []Param{policyName, policyType}, s.getPolicy))
	g.Add(ramAction("ListPolicies", ramAccountARN, append([]Param{{Name: "PolicyType", MaxLen: 16, OutOfRange: apierr.RAMPolicyType}}, paging...), s.listPolicies))
	g.Add(ramAction("DeletePolicy", ramPolicyARN, []Param{policyName}, s.deletePolicy))

	g.Add(ramAction("AttachPolicyToUser", ramUserARN, []Param{userName, policyName, policyType}, s.attachPolicy(false, apierr.RAMUserPolicyExists)))
	g.Add(ramAction("DetachPolicyFromUser", ramUserARN, []Param{userName, policyName, policyType}, s.detachPolicy(false, apierr.RAMUserPolicyNotExist)))
	g.Add(ramAction("ListPoliciesForUser", ramUserARN, []Param{userName}, s.listPoliciesFor(false)))
	g.Add(ramAction("ListEntitiesForPolicy", ramPolicyARN, []Param{policyName, policyType}, s.listEntitiesForPolicy))

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
