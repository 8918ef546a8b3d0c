package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

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
