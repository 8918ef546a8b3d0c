package openapi

import (
	"context"
	"encoding/base64"
	"regexp"
	"time"
	"unicode/utf8"

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

// Name rules from RAM's parameter tables: user names are 1–64 letters,
// digits, periods, underscores and hyphens (doc-detail/28754); policy names
// 1–128 letters, digits and hyphens (api-ram-2015-05-01-createpolicy).
var (
	ramUserNameRE   = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	ramPolicyNameRE = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	// A mobile phone is "<country code>-<number>", e.g. 86-18600008888.
	ramMobileRE = regexp.MustCompile(`^[0-9]{1,6}-[0-9]{4,20}$`)
	ramEmailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

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

// ramTime formats a date the way RAM answers it: 2015-01-23T12:33:18Z.
func ramTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ramTranslate answers RAM's entity codes for the store's generic ones:
// notFound for a missing row, exists for a duplicate (a zero Def leaves the
// code to wireError's defaults).
func ramTranslate(err error, notFound, exists apierr.Def) error {
	return wireError(err, entity{notFound: notFound, exists: exists})
}

// ---- validation ----

func ramCheckUserName(v string, chars, length apierr.Def) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 64 {
		return length.New()
	}
	if !ramUserNameRE.MatchString(v) {
		return chars.New()
	}
	return nil
}

func ramCheckLength(v string, limit int, d apierr.Def) error {
	if utf8.RuneCountInString(v) > limit {
		return d.New()
	}
	return nil
}

func ramCheckFormat(v string, re *regexp.Regexp, d apierr.Def) error {
	if v != "" && !re.MatchString(v) {
		return d.New()
	}
	return nil
}

func ramCheckPolicyName(v string) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 128 {
		return apierr.RAMPolicyNameLength.New()
	}
	if !ramPolicyNameRE.MatchString(v) {
		return apierr.RAMPolicyNameChars.New()
	}
	return nil
}

func ramCheckPolicyType(v string) error {
	if v != kafkaplane.PolicyTypeSystem && v != kafkaplane.PolicyTypeCustom {
		return apierr.RAMPolicyType.Errorf(`The parameter - "PolicyType" is incorrect: %q is not System or Custom.`, v)
	}
	return nil
}

func ramFirstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- rendering ----

func ramUserObject(u *kafkaplane.User) Object {
	return Object{
		{"UserId", u.UserID},
		{"UserName", u.UserName},
		{"DisplayName", u.DisplayName},
		{"MobilePhone", u.MobilePhone},
		{"Email", u.Email},
		{"Comments", u.Comments},
		{"CreateDate", ramTime(u.CreateDate)},
		{"UpdateDate", ramTime(u.UpdateDate)},
	}
}

func ramPolicyObject(p *kafkaplane.Policy) Object {
	return Object{
		{"PolicyName", p.PolicyName},
		{"PolicyType", p.PolicyType},
		{"Description", p.Description},
		{"DefaultVersion", p.DefaultVersion},
		{"CreateDate", ramTime(p.CreateDate)},
		{"UpdateDate", ramTime(p.UpdateDate)},
		{"AttachmentCount", p.AttachmentCount},
	}
}

// ---- paging ----

// ramPaging declares RAM's Marker/MaxItems: a marker is the encoded key of
// an item (at most a policy type and a 128-character name), MaxItems 1–1000.
var ramPaging = []Param{
	{Name: "Marker", MaxLen: 512, OutOfRange: apierr.RAMMarker},
	{Name: "MaxItems", Kind: Integer, Min: 1, Max: 1000, OutOfRange: apierr.RAMMaxItems},
}

// ramPage cuts one page out of keys (in the store's stable order) for RAM's
// Marker/MaxItems paging. The marker is the opaque key of the first item
// of the next page; it stays valid while that item exists.
func ramPage(r *Request, keys []string) (from, to int, next string, err error) {
	max := 100
	if r.Has("MaxItems") {
		max = r.Int("MaxItems", 100)
		if max < 1 || max > 1000 {
			return 0, 0, "", apierr.RAMMaxItems.Errorf(`The parameter - "MaxItems" must be between 1 and 1000.`)
		}
	}
	if m := r.String("Marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		from = -1
		if derr == nil {
			for i, k := range keys {
				if k == string(raw) {
					from = i
					break
				}
			}
		}
		if from < 0 {
			return 0, 0, "", apierr.RAMMarker.Errorf(`The parameter - "Marker" does not name an item of this list; start again without it.`)
		}
	}
	from, to = itemRange(len(keys), from, max)
	if to < len(keys) {
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[to]))
	}
	return from, to, next, nil
}

// ramList answers a list action: one page of items, cut by key as
// ramPage cuts, rendered under outer.inner after IsTruncated and Marker.
func ramList[T any](r *Request, items []T, key func(T) string, render func(T) Object, outer, inner string) (Object, error) {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	from, to, next, err := ramPage(r, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, to-from)
	for _, it := range items[from:to] {
		out = append(out, render(it))
	}
	return append(ramPageFields(next), Field{outer, Object{{inner, out}}}), nil
}

// ramPageFields renders IsTruncated and, when there is more, Marker.
func ramPageFields(next string) Object {
	o := Object{{"IsTruncated", next != ""}}
	if next != "" {
		o = append(o, Field{"Marker", next})
	}
	return o
}

// ---- users ----

func (s *RAM) createUser(ctx context.Context, r *Request) (Object, error) {
	u := &kafkaplane.User{
		AccountID:   r.Caller.AccountID,
		UserName:    r.String("UserName"),
		DisplayName: r.String("DisplayName"),
		MobilePhone: r.String("MobilePhone"),
		Email:       r.String("Email"),
		Comments:    r.String("Comments"),
	}
	if err := ramFirstErr(
		ramCheckUserName(u.UserName, apierr.RAMUserNameChars, apierr.RAMUserNameLength),
		ramCheckLength(u.DisplayName, 128, apierr.RAMDisplayNameLength),
		ramCheckLength(u.Comments, 128, apierr.RAMCommentsLength),
		ramCheckFormat(u.MobilePhone, ramMobileRE, apierr.RAMMobilePhoneFormat),
		ramCheckFormat(u.Email, ramEmailRE, apierr.RAMEmailFormat),
	); err != nil {
		return nil, err
	}
	now := s.now()
	u.CreateDate, u.UpdateDate = now, now
	if err := s.Identities.CreateUser(ctx, u); err != nil {
		return nil, ramTranslate(err, apierr.Def{}, apierr.RAMUserExists)
	}
	return Object{{"User", ramUserObject(u)}}, nil
}

func (s *RAM) findUser(ctx context.Context, r *Request, name string) (*kafkaplane.User, error) {
	if err := ramCheckUserName(name, apierr.RAMUserNameChars, apierr.RAMUserNameLength); err != nil {
		return nil, err
	}
	u, err := s.Identities.FindUser(ctx, r.Caller.AccountID, name)
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMUserNotExist, apierr.Def{})
	}
	return u, nil
}

func (s *RAM) getUser(ctx context.Context, r *Request) (Object, error) {
	u, err := s.findUser(ctx, r, r.String("UserName"))
	if err != nil {
		return nil, err
	}
	return Object{{"User", ramUserObject(u)}}, nil
}

func (s *RAM) updateUser(ctx context.Context, r *Request) (Object, error) {
	u, err := s.findUser(ctx, r, r.String("UserName"))
	if err != nil {
		return nil, err
	}
	// Only the New* parameters that were sent change anything, as in RAM.
	if r.Has("NewUserName") {
		if err := ramCheckUserName(r.String("NewUserName"), apierr.RAMNewUserNameChars, apierr.RAMNewUserNameLength); err != nil {
			return nil, err
		}
		u.UserName = r.String("NewUserName")
	}
	if r.Has("NewDisplayName") {
		if err := ramCheckLength(r.String("NewDisplayName"), 128, apierr.RAMNewDisplayNameLen); err != nil {
			return nil, err
		}
		u.DisplayName = r.String("NewDisplayName")
	}
	if r.Has("NewMobilePhone") {
		if err := ramCheckFormat(r.String("NewMobilePhone"), ramMobileRE, apierr.RAMNewMobilePhoneFmt); err != nil {
			return nil, err
		}
		u.MobilePhone = r.String("NewMobilePhone")
	}
	if r.Has("NewEmail") {
		if err := ramCheckFormat(r.String("NewEmail"), ramEmailRE, apierr.RAMNewEmailFormat); err != nil {
			return nil, err
		}
		u.Email = r.String("NewEmail")
	}
	if r.Has("NewComments") {
		if err := ramCheckLength(r.String("NewComments"), 128, apierr.RAMNewCommentsLength); err != nil {
			return nil, err
		}
		u.Comments = r.String("NewComments")
	}
	u.UpdateDate = s.now()
	if err := s.Identities.UpdateUser(ctx, u); err != nil {
		return nil, ramTranslate(err, apierr.RAMUserNotExist, apierr.RAMUserExists)
	}
	return Object{{"User", ramUserObject(u)}}, nil
}

func (s *RAM) listUsers(ctx context.Context, r *Request) (Object, error) {
	users, err := s.Identities.ListUsers(ctx, r.Caller.AccountID)
	if err != nil {
		return nil, err
	}
	return ramList(r, users, func(u *kafkaplane.User) string { return u.UserName }, ramUserObject, "Users", "User")
}

func (s *RAM) deleteUser(ctx context.Context, r *Request) (Object, error) {
	name := r.String("UserName")
	if err := ramCheckUserName(name, apierr.RAMUserNameChars, apierr.RAMUserNameLength); err != nil {
		return nil, err
	}
	if err := s.Identities.DeleteUser(ctx, r.Caller.AccountID, name); err != nil {
		return nil, wireError(err, ramUserEntity)
	}
	return Object{}, nil
}

// ---- access keys ----

// keyAction makes an AccessKey action authorized on the user it acts on:
// the named user, or the caller itself when UserName is left out (see
// keyOwner), so that a policy about user/NAME governs both spellings.
func keyAction(a *Action) *Action {
	a.Derive = map[string]func(context.Context, *Request) (string, error){
		"UserName": func(_ context.Context, r *Request) (string, error) { return keyUserName(r), nil },
	}
	return a
}

// keyUserName is the user an AccessKey action names: UserName, or the
// caller's own name when it is left out.
func keyUserName(r *Request) string {
	if r.Has("UserName") {
		return r.String("UserName")
	}
	return r.Caller.UserName
}

// keyOwner returns whose keys an AccessKey action manages: the named user,
// or, without UserName, the caller itself (a RAM user its own keys, the
// root key the account's), as RAM documents for CreateAccessKey.
func (s *RAM) keyOwner(ctx context.Context, r *Request) (string, error) {
	if !r.Has("UserName") {
		return keyUserName(r), nil
	}
	u, err := s.findUser(ctx, r, keyUserName(r))
	if err != nil {
		return "", err
	}
	return u.UserName, nil
}

// findKey loads a key of owner; a key of any other principal is reported
// as missing so that its existence does not leak.
func (s *RAM) findKey(ctx context.Context, r *Request, owner string) (*kafkaplane.AccessKey, error) {
	id := r.String("UserAccessKeyId")
	k, err := s.Identities.FindAccessKey(ctx, id)
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMAccessKeyNotExist, apierr.Def{})
	}
	if k.AccountID != r.Caller.AccountID || k.UserName != owner {
		return nil, apierr.RAMAccessKeyNotExist.New()
	}
	return k, nil
}

func (s *RAM) createAccessKey(ctx context.Context, r *Request) (Object, error) {
	owner, err := s.keyOwner(ctx, r)
	if err != nil {
		return nil, err
	}
	k := &kafkaplane.AccessKey{
		AccountID:  r.Caller.AccountID,
		UserName:   owner,
		Status:     kafkaplane.AccessKeyActive,
		CreateDate: s.now(),
	}
	// Ids are random; a collision with an existing key is retried with a
	// fresh id rather than reported.
	for attempt := 0; ; attempt++ {
		k.ID, k.Secret = kafkaplane.NewAccessKeyPair()
		err = s.Identities.CreateAccessKey(ctx, k, maxAccessKeysPerUser)
		if kafkaplane.ErrorCode(err) != kafkaplane.CodeAlreadyExists || attempt == 3 {
			break
		}
	}
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded {
		return nil, apierr.RAMAccessKeyLimit.Errorf("The count of AccessKey of the user beyond the current limits: a principal may have at most %d AccessKeys.", maxAccessKeysPerUser)
	}
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMUserNotExist, apierr.Def{})
	}
	return Object{{"AccessKey", Object{
		{"AccessKeyId", k.ID},
		{"AccessKeySecret", k.Secret},
		{"Status", k.Status},
		{"CreateDate", ramTime(k.CreateDate)},
	}}}, nil
}

func (s *RAM) updateAccessKey(ctx context.Context, r *Request) (Object, error) {
	status := r.String("Status")
	if status != kafkaplane.AccessKeyActive && status != kafkaplane.AccessKeyInactive {
		return nil, apierr.RAMStatus.Errorf(`The parameter - "Status" is incorrect: %q is not Active or Inactive.`, status)
	}
	owner, err := s.keyOwner(ctx, r)
	if err != nil {
		return nil, err
	}
	k, err := s.findKey(ctx, r, owner)
	if err != nil {
		return nil, err
	}
	if k.Status == status {
		return Object{}, nil
	}
	k.Status = status
	if err := s.Identities.UpdateAccessKey(ctx, k); err != nil {
		return nil, ramTranslate(err, apierr.RAMAccessKeyNotExist, apierr.Def{})
	}
	return Object{}, nil
}

func (s *RAM) listAccessKeys(ctx context.Context, r *Request) (Object, error) {
	owner, err := s.keyOwner(ctx, r)
	if err != nil {
		return nil, err
	}
	keys, err := s.Identities.ListAccessKeys(ctx, r.Caller.AccountID, owner)
	if err != nil {
		return nil, err
	}
	// The secret is shown only by CreateAccessKey.
	items := make([]Object, 0, len(keys))
	for _, k := range keys {
		items = append(items, Object{
			{"AccessKeyId", k.ID},
			{"Status", k.Status},
			{"CreateDate", ramTime(k.CreateDate)},
		})
	}
	return Object{{"AccessKeys", Object{{"AccessKey", items}}}}, nil
}

func (s *RAM) deleteAccessKey(ctx context.Context, r *Request) (Object, error) {
	owner, err := s.keyOwner(ctx, r)
	if err != nil {
		return nil, err
	}
	k, err := s.findKey(ctx, r, owner)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.DeleteAccessKey(ctx, r.Caller.AccountID, k.ID); err != nil {
		return nil, ramTranslate(err, apierr.RAMAccessKeyNotExist, apierr.Def{})
	}
	return Object{}, nil
}

// ---- policies ----

func (s *RAM) createPolicy(ctx context.Context, r *Request) (Object, error) {
	name, doc, desc := r.String("PolicyName"), r.String("PolicyDocument"), r.String("Description")
	if err := ramFirstErr(
		ramCheckPolicyName(name),
		ramCheckLength(doc, policy.MaxDocumentLength, apierr.RAMPolicyDocLength),
		ramCheckLength(desc, 1024, apierr.RAMDescriptionLength),
	); err != nil {
		return nil, err
	}
	// The document is checked with the evaluator's own parser, so a stored
	// policy can always be evaluated; the parser's reason names the
	// offending element.
	if _, err := policy.Parse([]byte(doc)); err != nil {
		return nil, apierr.RAMMalformedPolicy.Errorf("The policy document is malformed: %s", err.Error())
	}
	now := s.now()
	p := &kafkaplane.Policy{
		AccountID:      r.Caller.AccountID,
		PolicyName:     name,
		PolicyType:     kafkaplane.PolicyTypeCustom,
		Description:    desc,
		Document:       doc,
		DefaultVersion: "v1",
		CreateDate:     now,
		UpdateDate:     now,
	}
	if err := s.Identities.CreatePolicy(ctx, p); err != nil {
		return nil, ramTranslate(err, apierr.Def{}, apierr.RAMPolicyExists)
	}
	return Object{{"Policy", Object{
		{"PolicyName", p.PolicyName},
		{"PolicyType", p.PolicyType},
		{"Description", p.Description},
		{"DefaultVersion", p.DefaultVersion},
		{"CreateDate", ramTime(p.CreateDate)},
	}}}, nil
}

func (s *RAM) findPolicy(ctx context.Context, r *Request, typ, name string) (*kafkaplane.Policy, error) {
	if err := ramFirstErr(ramCheckPolicyType(typ), ramCheckPolicyName(name)); err != nil {
		return nil, err
	}
	p, err := s.Identities.FindPolicy(ctx, r.Caller.AccountID, typ, name)
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMPolicyNotExist, apierr.Def{})
	}
	return p, nil
}

func (s *RAM) getPolicy(ctx context.Context, r *Request) (Object, error) {
	p, err := s.findPolicy(ctx, r, r.String("PolicyType"), r.String("PolicyName"))
	if err != nil {
		return nil, err
	}
	o := ramPolicyObject(p)
	o = append(o, Field{"PolicyDocument", p.Document})
	return Object{
		{"Policy", o},
		{"DefaultPolicyVersion", Object{
			{"VersionId", p.DefaultVersion},
			{"IsDefaultVersion", true},
			{"PolicyDocument", p.Document},
			{"CreateDate", ramTime(p.UpdateDate)},
		}},
	}, nil
}

func (s *RAM) listPolicies(ctx context.Context, r *Request) (Object, error) {
	typ := r.String("PolicyType")
	if typ != "" {
		if err := ramCheckPolicyType(typ); err != nil {
			return nil, err
		}
	}
	list, err := s.Identities.ListPolicies(ctx, r.Caller.AccountID, typ)
	if err != nil {
		return nil, err
	}
	return ramList(r, list, func(p *kafkaplane.Policy) string { return p.PolicyType + "/" + p.PolicyName }, ramPolicyObject, "Policies", "Policy")
}

func (s *RAM) deletePolicy(ctx context.Context, r *Request) (Object, error) {
	name := r.String("PolicyName")
	if err := ramCheckPolicyName(name); err != nil {
		return nil, err
	}
	if err := s.Identities.DeletePolicy(ctx, r.Caller.AccountID, name); err != nil {
		return nil, wireError(err, ramPolicyEntity)
	}
	return Object{}, nil
}

// ---- attachments ----

// principal finds the user or, with group, the group a policy action
// names, and returns a filter naming it.
func (s *RAM) principal(ctx context.Context, r *Request, group bool) (kafkaplane.AttachmentFilter, error) {
	if group {
		g, err := s.findGroup(ctx, r, r.String("GroupName"))
		if err != nil {
			return kafkaplane.AttachmentFilter{}, err
		}
		return kafkaplane.AttachmentFilter{GroupName: g.GroupName}, nil
	}
	u, err := s.findUser(ctx, r, r.String("UserName"))
	if err != nil {
		return kafkaplane.AttachmentFilter{}, err
	}
	return kafkaplane.AttachmentFilter{UserName: u.UserName}, nil
}

// attachment checks the principal and the policy one by one, so that a
// missing one is reported with its own code, as RAM does.
func (s *RAM) attachment(ctx context.Context, r *Request, group bool) (*kafkaplane.PolicyAttachment, error) {
	typ, name := r.String("PolicyType"), r.String("PolicyName")
	if err := ramFirstErr(ramCheckPolicyType(typ), ramCheckPolicyName(name)); err != nil {
		return nil, err
	}
	who, err := s.principal(ctx, r, group)
	if err != nil {
		return nil, err
	}
	p, err := s.findPolicy(ctx, r, typ, name)
	if err != nil {
		return nil, err
	}
	return &kafkaplane.PolicyAttachment{
		AccountID:  r.Caller.AccountID,
		UserName:   who.UserName,
		GroupName:  who.GroupName,
		PolicyType: p.PolicyType,
		PolicyName: p.PolicyName,
	}, nil
}

// attachPolicy is AttachPolicyToUser, or with group AttachPolicyToGroup;
// exists is the principal's code for a policy it already has.
func (s *RAM) attachPolicy(group bool, exists apierr.Def) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		a, err := s.attachment(ctx, r, group)
		if err != nil {
			return nil, err
		}
		a.AttachDate = s.now()
		if err := s.Identities.AttachPolicy(ctx, a); err != nil {
			// A principal or policy deleted between the checks and the
			// insert is reported as the missing policy: the store
			// cannot say which.
			return nil, ramTranslate(err, apierr.RAMPolicyNotExist, exists)
		}
		return Object{}, nil
	}
}

// detachPolicy is DetachPolicyFromUser, or with group
// DetachPolicyFromGroup; missing is the principal's code for a policy it
// does not have.
func (s *RAM) detachPolicy(group bool, missing apierr.Def) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		a, err := s.attachment(ctx, r, group)
		if err != nil {
			return nil, err
		}
		if err := s.Identities.DetachPolicy(ctx, a); err != nil {
			return nil, ramTranslate(err, missing, apierr.Def{})
		}
		return Object{}, nil
	}
}

// listPoliciesFor is ListPoliciesForUser, or with group ListPoliciesForGroup:
// the policies attached to the principal itself.
func (s *RAM) listPoliciesFor(group bool) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		f, err := s.principal(ctx, r, group)
		if err != nil {
			return nil, err
		}
		atts, err := s.Identities.ListAttachments(ctx, r.Caller.AccountID, f)
		if err != nil {
			return nil, err
		}
		items, err := s.attachedPolicies(ctx, r, atts)
		if err != nil {
			return nil, err
		}
		return Object{{"Policies", Object{{"Policy", items}}}}, nil
	}
}

// attachedPolicies renders the policies of atts as listPoliciesFor answers
// them.
func (s *RAM) attachedPolicies(ctx context.Context, r *Request, atts []*kafkaplane.PolicyAttachment) ([]Object, error) {
	items := make([]Object, 0, len(atts))
	for _, a := range atts {
		p, err := s.Identities.FindPolicy(ctx, r.Caller.AccountID, a.PolicyType, a.PolicyName)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			// Deleted concurrently; the attachment is going with it.
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, Object{
			{"PolicyName", p.PolicyName},
			{"PolicyType", p.PolicyType},
			{"Description", p.Description},
			{"DefaultVersion", p.DefaultVersion},
			{"AttachDate", ramTime(a.AttachDate)},
		})
	}
	return items, nil
}

func (s *RAM) listEntitiesForPolicy(ctx context.Context, r *Request) (Object, error) {
	p, err := s.findPolicy(ctx, r, r.String("PolicyType"), r.String("PolicyName"))
	if err != nil {
		return nil, err
	}
	atts, err := s.Identities.ListAttachments(ctx, r.Caller.AccountID, kafkaplane.AttachmentFilter{PolicyType: p.PolicyType, PolicyName: p.PolicyName})
	if err != nil {
		return nil, err
	}
	users, groups := make([]Object, 0, len(atts)), make([]Object, 0, len(atts))
	for _, a := range atts {
		if a.GroupName != "" {
			g, err := s.Identities.FindGroup(ctx, r.Caller.AccountID, a.GroupName)
			if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			groups = append(groups, Object{
				{"GroupId", g.GroupID},
				{"GroupName", g.GroupName},
				{"Comments", g.Comments},
				{"AttachDate", ramTime(a.AttachDate)},
			})
			continue
		}
		u, err := s.Identities.FindUser(ctx, r.Caller.AccountID, a.UserName)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		users = append(users, Object{
			{"UserId", u.UserID},
			{"UserName", u.UserName},
			{"DisplayName", u.DisplayName},
			{"AttachDate", ramTime(a.AttachDate)},
		})
	}
	// kafkaplane has no roles; the empty list keeps the shape the SDKs
	// decode.
	return Object{
		{"Groups", Object{{"Group", groups}}},
		{"Roles", Object{{"Role", []Object{}}}},
		{"Users", Object{{"User", users}}},
	}, nil
}
