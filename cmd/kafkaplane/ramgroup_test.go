package main

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// TestRAMGroups manages a group with the legacy SDK's typed RAM client
// (every response must decode into its structs) and checks that a policy
// attached to a group governs its members' alikafka calls, and only
// theirs, for as long as they belong to it.
func TestRAMGroups(t *testing.T) {
	w := newWorld(t)
	root, err := ram.NewClientWithAccessKey(testRegion, testKeyID, testKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	sdk := ramSDK{t: t, addr: w.m.ListenAddr()}
	at, wantErr, must := sdk.at, sdk.wantErr, sdk.must

	// A group, its validation and its uniqueness.
	cg := ram.CreateCreateGroupRequest()
	at(cg.RpcRequest)
	cg.GroupName, cg.Comments = "kafka-ops", "runs the brokers"
	created, err := root.CreateGroup(cg)
	must("CreateGroup", err)
	if g := created.Group; g.GroupName != "kafka-ops" || g.Comments != "runs the brokers" || g.GroupId == "" {
		t.Errorf("CreateGroup: %+v", g)
	}
	wantRAMTime(t, "Group.CreateDate", created.Group.CreateDate)
	_, err = root.CreateGroup(cg)
	wantErr("CreateGroup again", err, 409, "EntityAlreadyExists.Group")
	cg.GroupName = "no spaces allowed"
	_, err = root.CreateGroup(cg)
	wantErr("CreateGroup bad name", err, 400, "InvalidParameter.GroupName.InvalidChars")

	gg := ram.CreateGetGroupRequest()
	at(gg.RpcRequest)
	gg.GroupName = "nobody-here"
	_, err = root.GetGroup(gg)
	wantErr("GetGroup missing", err, 404, "EntityNotExist.Group")

	// Members: the group's policy reaches bob once he joins.
	bob := w.user("bob")
	w.ram("CreateUser", map[string]string{"UserName": "carol"})
	wantDenied(t, "bob before joining", bob.tea(t, false, alikafkaVersion, "GetInstanceList", nil),
		"alikafka:ListInstance", "bob", "ImplicitDeny")

	ap := ram.CreateAttachPolicyToGroupRequest()
	at(ap.RpcRequest)
	ap.GroupName, ap.PolicyType, ap.PolicyName = "kafka-ops", "System", "AliyunKafkaReadOnlyAccess"
	_, err = root.AttachPolicyToGroup(ap)
	must("AttachPolicyToGroup", err)
	_, err = root.AttachPolicyToGroup(ap)
	wantErr("AttachPolicyToGroup again", err, 409, "EntityAlreadyExists.Group.Policy")

	au := ram.CreateAddUserToGroupRequest()
	at(au.RpcRequest)
	au.GroupName, au.UserName = "kafka-ops", "bob"
	_, err = root.AddUserToGroup(au)
	must("AddUserToGroup", err)
	_, err = root.AddUserToGroup(au)
	wantErr("AddUserToGroup again", err, 409, "EntityAlreadyExists.User.Group")
	au.UserName = "nobody"
	_, err = root.AddUserToGroup(au)
	wantErr("AddUserToGroup missing user", err, 404, "EntityNotExist.User")
	au.GroupName, au.UserName = "no-such-group", "bob"
	_, err = root.AddUserToGroup(au)
	wantErr("AddUserToGroup missing group", err, 404, "EntityNotExist.Group")
	au.GroupName, au.UserName = "kafka-ops", "carol"
	_, err = root.AddUserToGroup(au)
	must("AddUserToGroup carol", err)

	ok(t, "bob as a member", bob.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
	ok(t, "bob as a member, legacy SDK", bob.legacy(t, alikafkaVersion, "GetInstanceList", nil))
	// Read-only access does not grant writes.
	wantDenied(t, "bob orders an instance", bob.tea(t, false, alikafkaVersion, "CreatePostPayOrder", map[string]string{
		"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge", "SpecType": "normal",
	}), "alikafka:CreatePostPayOrder", "bob", "ImplicitDeny")

	// The listings, decoded by the SDK.
	lg := ram.CreateListGroupsForUserRequest()
	at(lg.RpcRequest)
	lg.UserName = "bob"
	groups, err := root.ListGroupsForUser(lg)
	must("ListGroupsForUser", err)
	if len(groups.Groups.Group) != 1 || groups.Groups.Group[0].GroupName != "kafka-ops" || groups.Groups.Group[0].Comments != "runs the brokers" {
		t.Errorf("ListGroupsForUser: %+v", groups.Groups)
	} else {
		wantRAMTime(t, "Group.JoinDate", groups.Groups.Group[0].JoinDate)
	}
	lu := ram.CreateListUsersForGroupRequest()
	at(lu.RpcRequest)
	lu.GroupName, lu.MaxItems = "kafka-ops", requests.NewInteger(1)
	page, err := root.ListUsersForGroup(lu)
	must("ListUsersForGroup", err)
	if !page.IsTruncated || page.Marker == "" || len(page.Users.User) != 1 || page.Users.User[0].UserName != "bob" {
		t.Errorf("ListUsersForGroup first page: %+v", page)
	}
	lu.Marker = page.Marker
	page, err = root.ListUsersForGroup(lu)
	must("ListUsersForGroup second page", err)
	if page.IsTruncated || len(page.Users.User) != 1 || page.Users.User[0].UserName != "carol" {
		t.Errorf("ListUsersForGroup second page: %+v", page)
	}
	lp := ram.CreateListPoliciesForGroupRequest()
	at(lp.RpcRequest)
	lp.GroupName = "kafka-ops"
	pols, err := root.ListPoliciesForGroup(lp)
	must("ListPoliciesForGroup", err)
	if len(pols.Policies.Policy) != 1 || pols.Policies.Policy[0].PolicyName != "AliyunKafkaReadOnlyAccess" || pols.Policies.Policy[0].PolicyType != "System" {
		t.Errorf("ListPoliciesForGroup: %+v", pols.Policies)
	}
	le := ram.CreateListEntitiesForPolicyRequest()
	at(le.RpcRequest)
	le.PolicyType, le.PolicyName = "System", "AliyunKafkaReadOnlyAccess"
	ents, err := root.ListEntitiesForPolicy(le)
	must("ListEntitiesForPolicy", err)
	if len(ents.Groups.Group) != 1 || ents.Groups.Group[0].GroupName != "kafka-ops" || len(ents.Users.User) != 0 {
		t.Errorf("ListEntitiesForPolicy: groups %+v users %+v", ents.Groups, ents.Users)
	}

	// A renamed group keeps its members and its policies.
	ug := ram.CreateUpdateGroupRequest()
	at(ug.RpcRequest)
	ug.GroupName, ug.NewGroupName = "kafka-ops", "kafka-platform"
	renamed, err := root.UpdateGroup(ug)
	must("UpdateGroup", err)
	if renamed.Group.GroupName != "kafka-platform" || renamed.Group.Comments != "runs the brokers" || renamed.Group.GroupId != created.Group.GroupId {
		t.Errorf("UpdateGroup: %+v", renamed.Group)
	}
	ok(t, "bob after the rename", bob.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
	all, err := root.ListGroups(func() *ram.ListGroupsRequest { r := ram.CreateListGroupsRequest(); at(r.RpcRequest); return r }())
	must("ListGroups", err)
	if all.IsTruncated || len(all.Groups.Group) != 1 || all.Groups.Group[0].GroupName != "kafka-platform" {
		t.Errorf("ListGroups: %+v", all)
	}

	// Nothing in use can be deleted.
	dg := ram.CreateDeleteGroupRequest()
	at(dg.RpcRequest)
	dg.GroupName = "kafka-platform"
	_, err = root.DeleteGroup(dg)
	wantErr("DeleteGroup with members", err, 409, "DeleteConflict.Group.User")
	du := ram.CreateDeleteUserRequest()
	at(du.RpcRequest)
	du.UserName = "carol"
	_, err = root.DeleteUser(du)
	wantErr("DeleteUser in a group", err, 409, "DeleteConflict.User.Group")
	w.ram("CreatePolicy", map[string]string{"PolicyName": "kafka-list", "PolicyDocument": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:ListInstance","Resource":"*"}]}`})
	w.ram("AttachPolicyToGroup", map[string]string{"GroupName": "kafka-platform", "PolicyType": "Custom", "PolicyName": "kafka-list"})
	dp := ram.CreateDeletePolicyRequest()
	at(dp.RpcRequest)
	dp.PolicyName = "kafka-list"
	_, err = root.DeletePolicy(dp)
	wantErr("DeletePolicy attached to a group", err, 409, "DeleteConflict.Policy.Group")

	// Leaving the group takes its grants away.
	rm := ram.CreateRemoveUserFromGroupRequest()
	at(rm.RpcRequest)
	rm.GroupName, rm.UserName = "kafka-platform", "bob"
	_, err = root.RemoveUserFromGroup(rm)
	must("RemoveUserFromGroup", err)
	_, err = root.RemoveUserFromGroup(rm)
	wantErr("RemoveUserFromGroup again", err, 404, "EntityNotExist.User.Group")
	wantDenied(t, "bob after leaving", bob.tea(t, false, alikafkaVersion, "GetInstanceList", nil),
		"alikafka:ListInstance", "bob", "ImplicitDeny")

	// Emptied, the group can go.
	rm.UserName = "carol"
	_, err = root.RemoveUserFromGroup(rm)
	must("RemoveUserFromGroup carol", err)
	_, err = root.DeleteGroup(dg)
	wantErr("DeleteGroup with policies", err, 409, "DeleteConflict.Group.Policy")
	dpg := ram.CreateDetachPolicyFromGroupRequest()
	at(dpg.RpcRequest)
	dpg.GroupName = "kafka-platform"
	for _, p := range [][2]string{{"System", "AliyunKafkaReadOnlyAccess"}, {"Custom", "kafka-list"}} {
		dpg.PolicyType, dpg.PolicyName = p[0], p[1]
		_, err = root.DetachPolicyFromGroup(dpg)
		must("DetachPolicyFromGroup "+p[1], err)
	}
	_, err = root.DetachPolicyFromGroup(dpg)
	wantErr("DetachPolicyFromGroup again", err, 404, "EntityNotExist.Group.Policy")
	_, err = root.DeleteGroup(dg)
	must("DeleteGroup", err)
	gg.GroupName = "kafka-platform"
	_, err = root.GetGroup(gg)
	wantErr("GetGroup after delete", err, 404, "EntityNotExist.Group")
	_, err = root.DeleteUser(du)
	must("DeleteUser carol", err)
	_, err = root.DeletePolicy(dp)
	must("DeletePolicy", err)
}
