package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

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
