package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// ramGroupARN names a group the way RAM's group actions are authorized.
const ramGroupARN = "acs:ram:*:{AccountId}:group/{GroupName}"

// registerGroups adds the group actions to g.
func (s *RAM) registerGroups(g *Registry) {
	groupName := Param{Name: "GroupName", Required: true, MaxLen: 64, OutOfRange: apierr.RAMGroupNameLength}
	userName := Param{Name: "UserName", Required: true, MaxLen: 64, OutOfRange: apierr.RAMUserNameLength}
	policyName := Param{Name: "PolicyName", Required: true, MaxLen: 128, OutOfRange: apierr.RAMPolicyNameLength}
	policyType := Param{Name: "PolicyType", Required: true, MaxLen: 16, OutOfRange: apierr.RAMPolicyType}
	paging := ramPaging

	g.Add(ramAction(Action{
		Name: "CreateGroup", RAMAction: "ram:CreateGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName, {Name: "Comments", MaxLen: 128, OutOfRange: apierr.RAMCommentsLength}},
		Handler: s.createGroup,
	}))
	g.Add(ramAction(Action{
		Name: "GetGroup", RAMAction: "ram:GetGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName},
		Handler: s.getGroup,
	}))
	g.Add(ramAction(Action{
		Name: "UpdateGroup", RAMAction: "ram:UpdateGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params: []Param{groupName,
			{Name: "NewGroupName", MaxLen: 64, OutOfRange: apierr.RAMNewGroupNameLength},
			{Name: "NewComments", MaxLen: 128, OutOfRange: apierr.RAMNewCommentsLength},
		},
		Handler: s.updateGroup,
	}))
	g.Add(ramAction(Action{
		Name: "ListGroups", RAMAction: "ram:ListGroups", Resource: ramAccountARN, QPS: ramQPS,
		Params:  paging,
		Handler: s.listGroups,
	}))
	g.Add(ramAction(Action{
		Name: "DeleteGroup", RAMAction: "ram:DeleteGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName},
		Handler: s.deleteGroup,
	}))

	g.Add(ramAction(Action{
		Name: "AddUserToGroup", RAMAction: "ram:AddUserToGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName, userName},
		Handler: s.addUserToGroup,
	}))
	g.Add(ramAction(Action{
		Name: "RemoveUserFromGroup", RAMAction: "ram:RemoveUserFromGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName, userName},
		Handler: s.removeUserFromGroup,
	}))
	g.Add(ramAction(Action{
		Name: "ListGroupsForUser", RAMAction: "ram:ListGroupsForUser", Resource: ramUserARN, QPS: ramQPS,
		Params:  []Param{userName},
		Handler: s.listGroupsForUser,
	}))
	g.Add(ramAction(Action{
		Name: "ListUsersForGroup", RAMAction: "ram:ListUsersForGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  append([]Param{groupName}, paging...),
		Handler: s.listUsersForGroup,
	}))

	g.Add(ramAction(Action{
		Name: "AttachPolicyToGroup", RAMAction: "ram:AttachPolicyToGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName, policyName, policyType},
		Handler: s.attachPolicy(true, apierr.RAMGroupPolicyExists),
	}))
	g.Add(ramAction(Action{
		Name: "DetachPolicyFromGroup", RAMAction: "ram:DetachPolicyFromGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName, policyName, policyType},
		Handler: s.detachPolicy(true, apierr.RAMGroupPolicyMissing),
	}))
	g.Add(ramAction(Action{
		Name: "ListPoliciesForGroup", RAMAction: "ram:ListPoliciesForGroup", Resource: ramGroupARN, QPS: ramQPS,
		Params:  []Param{groupName},
		Handler: s.listPoliciesFor(true),
	}))
}

func (s *RAM) findGroup(ctx context.Context, r *Request, name string) (*kafkaplane.Group, error) {
	if err := ramCheckGroupName(name, apierr.RAMGroupNameChars, apierr.RAMGroupNameLength); err != nil {
		return nil, err
	}
	g, err := s.Identities.FindGroup(ctx, r.Caller.AccountID, name)
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMGroupNotExist, apierr.Def{})
	}
	return g, nil
}

func (s *RAM) createGroup(ctx context.Context, r *Request) (Object, error) {
	g := &kafkaplane.Group{
		AccountID: r.Caller.AccountID,
		GroupName: r.String("GroupName"),
		Comments:  r.String("Comments"),
	}
	if err := ramFirstErr(
		ramCheckGroupName(g.GroupName, apierr.RAMGroupNameChars, apierr.RAMGroupNameLength),
		ramCheckLength(g.Comments, 128, apierr.RAMCommentsLength),
	); err != nil {
		return nil, err
	}
	now := s.now()
	g.CreateDate, g.UpdateDate = now, now
	if err := s.Identities.CreateGroup(ctx, g); err != nil {
		return nil, ramTranslate(err, apierr.Def{}, apierr.RAMGroupExists)
	}
	return Object{{"Group", ramGroupObject(g)}}, nil
}

func (s *RAM) getGroup(ctx context.Context, r *Request) (Object, error) {
	g, err := s.findGroup(ctx, r, r.String("GroupName"))
	if err != nil {
		return nil, err
	}
	return Object{{"Group", ramGroupObject(g)}}, nil
}

func (s *RAM) updateGroup(ctx context.Context, r *Request) (Object, error) {
	g, err := s.findGroup(ctx, r, r.String("GroupName"))
	if err != nil {
		return nil, err
	}
	// As with users, only the New* parameters that were sent change.
	if r.Has("NewGroupName") {
		if err := ramCheckGroupName(r.String("NewGroupName"), apierr.RAMNewGroupNameChars, apierr.RAMNewGroupNameLength); err != nil {
			return nil, err
		}
		g.GroupName = r.String("NewGroupName")
	}
	if r.Has("NewComments") {
		if err := ramCheckLength(r.String("NewComments"), 128, apierr.RAMNewCommentsLength); err != nil {
			return nil, err
		}
		g.Comments = r.String("NewComments")
	}
	g.UpdateDate = s.now()
	if err := s.Identities.UpdateGroup(ctx, g); err != nil {
		return nil, ramTranslate(err, apierr.RAMGroupNotExist, apierr.RAMGroupExists)
	}
	return Object{{"Group", ramGroupObject(g)}}, nil
}

func (s *RAM) listGroups(ctx context.Context, r *Request) (Object, error) {
	groups, err := s.Identities.ListGroups(ctx, r.Caller.AccountID)
	if err != nil {
		return nil, err
	}
	return ramList(r, groups, func(g *kafkaplane.Group) string { return g.GroupName }, ramGroupObject, "Groups", "Group")
}

func (s *RAM) deleteGroup(ctx context.Context, r *Request) (Object, error) {
	name := r.String("GroupName")
	if err := ramCheckGroupName(name, apierr.RAMGroupNameChars, apierr.RAMGroupNameLength); err != nil {
		return nil, err
	}
	if err := s.Identities.DeleteGroup(ctx, r.Caller.AccountID, name); err != nil {
		return nil, wireError(err, ramGroupEntity)
	}
	return Object{}, nil
}

// membership checks the user and the group one by one, so that a missing
// one is reported with its own code, as RAM does.
func (s *RAM) membership(ctx context.Context, r *Request) (*kafkaplane.GroupMembership, error) {
	g, err := s.findGroup(ctx, r, r.String("GroupName"))
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, r, r.String("UserName"))
	if err != nil {
		return nil, err
	}
	return &kafkaplane.GroupMembership{AccountID: r.Caller.AccountID, GroupName: g.GroupName, UserName: u.UserName}, nil
}

func (s *RAM) addUserToGroup(ctx context.Context, r *Request) (Object, error) {
	m, err := s.membership(ctx, r)
	if err != nil {
		return nil, err
	}
	m.JoinDate = s.now()
	if err := s.Identities.AddUserToGroup(ctx, m); err != nil {
		// A user or group deleted between the checks and the insert is
		// reported as the missing group: the store cannot say which.
		return nil, ramTranslate(err, apierr.RAMGroupNotExist, apierr.RAMUserGroupExists)
	}
	return Object{}, nil
}

func (s *RAM) removeUserFromGroup(ctx context.Context, r *Request) (Object, error) {
	m, err := s.membership(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.RemoveUserFromGroup(ctx, m.AccountID, m.GroupName, m.UserName); err != nil {
		return nil, ramTranslate(err, apierr.RAMUserGroupNotExist, apierr.Def{})
	}
	return Object{}, nil
}

func (s *RAM) listGroupsForUser(ctx context.Context, r *Request) (Object, error) {
	u, err := s.findUser(ctx, r, r.String("UserName"))
	if err != nil {
		return nil, err
	}
	ms, err := s.Identities.ListGroupMemberships(ctx, r.Caller.AccountID, "", u.UserName)
	if err != nil {
		return nil, err
	}
	items := make([]Object, 0, len(ms))
	for _, m := range ms {
		g, err := s.Identities.FindGroup(ctx, r.Caller.AccountID, m.GroupName)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			continue // renamed or deleted concurrently
		}
		if err != nil {
			return nil, err
		}
		items = append(items, Object{
			{"GroupId", g.GroupID},
			{"GroupName", g.GroupName},
			{"Comments", g.Comments},
			{"JoinDate", ramTime(m.JoinDate)},
		})
	}
	return Object{{"Groups", Object{{"Group", items}}}}, nil
}

func (s *RAM) listUsersForGroup(ctx context.Context, r *Request) (Object, error) {
	g, err := s.findGroup(ctx, r, r.String("GroupName"))
	if err != nil {
		return nil, err
	}
	ms, err := s.Identities.ListGroupMemberships(ctx, r.Caller.AccountID, g.GroupName, "")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.UserName
	}
	from, to, next, err := ramPage(r, keys)
	if err != nil {
		return nil, err
	}
	items := make([]Object, 0, to-from)
	for _, m := range ms[from:to] {
		u, err := s.Identities.FindUser(ctx, r.Caller.AccountID, m.UserName)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, Object{
			{"UserId", u.UserID},
			{"UserName", u.UserName},
			{"DisplayName", u.DisplayName},
			{"JoinDate", ramTime(m.JoinDate)},
		})
	}
	return append(ramPageFields(next), Field{"Users", Object{{"User", items}}}), nil
}
