package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

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
