package apierr

// RAM parameter errors. Codes, statuses and messages are the ones RAM
// publishes for its 2015-05-01 API (docs/ram.md).
var (
	// RAMUserNameChars: UserName has a character outside letters, digits, '.', '_', '-'.
	RAMUserNameChars = def("InvalidParameter.UserName.InvalidChars", 400, `The parameter - "UserName" contains invalid chars.`)
	// RAMUserNameLength: UserName is empty or longer than 64 characters.
	RAMUserNameLength = def("InvalidParameter.UserName.Length", 400, `The parameter - "UserName" beyond the length limit.`)
	// RAMNewUserNameChars: UpdateUser's NewUserName has a character outside the user-name set.
	RAMNewUserNameChars = def("InvalidParameter.NewUserName.InvalidChars", 400, `The parameter - "NewUserName" contains invalid chars.`)
	// RAMNewUserNameLength: UpdateUser's NewUserName is longer than 64 characters.
	RAMNewUserNameLength = def("InvalidParameter.NewUserName.Length", 400, `The parameter - "NewUserName" beyond the length limit.`)
	// RAMDisplayNameLength: DisplayName is longer than 128 characters.
	RAMDisplayNameLength = def("InvalidParameter.DisplayName.Length", 400, `The parameter - "DisplayName" beyond the length limit.`)
	// RAMNewDisplayNameLen: UpdateUser's NewDisplayName is longer than 128 characters.
	RAMNewDisplayNameLen = def("InvalidParameter.NewDisplayName.Length", 400, `The parameter - "NewDisplayName" beyond the length limit.`)
	// RAMCommentsLength: Comments is longer than 128 characters.
	RAMCommentsLength = def("InvalidParameter.Comments.Length", 400, `The parameter - "Comments" beyond the length limit.`)
	// RAMNewCommentsLength: NewComments is longer than 128 characters.
	RAMNewCommentsLength = def("InvalidParameter.NewComments.Length", 400, `The parameter - "NewComments" beyond the length limit.`)
	// RAMMobilePhoneFormat: MobilePhone is not of the form country-number.
	RAMMobilePhoneFormat = def("InvalidParameter.MobilePhone.Format", 400, `The format of the parameter - "MobilePhone" is incorrect.`)
	// RAMNewMobilePhoneFmt: NewMobilePhone is not of the form country-number.
	RAMNewMobilePhoneFmt = def("InvalidParameter.NewMobilePhone.Format", 400, `The format of the parameter - "NewMobilePhone" is incorrect.`)
	// RAMEmailFormat: Email is not an email address.
	RAMEmailFormat = def("InvalidParameter.Email.Format", 400, `The format of the parameter - "Email" is incorrect.`)
	// RAMNewEmailFormat: NewEmail is not an email address.
	RAMNewEmailFormat = def("InvalidParameter.NewEmail.Format", 400, `The format of the parameter - "NewEmail" is incorrect.`)
	// RAMPolicyNameChars: PolicyName has a character outside letters, digits and '-'.
	RAMPolicyNameChars = def("InvalidParameter.PolicyName.InvalidChars", 400, `The parameter - "PolicyName" contains invalid chars.`)
	// RAMPolicyNameLength: PolicyName is empty or longer than 128 characters.
	RAMPolicyNameLength = def("InvalidParameter.PolicyName.Length", 400, `The parameter - "PolicyName" beyond the length limit.`)
	// RAMPolicyDocLength: PolicyDocument is longer than RAM's document limit.
	RAMPolicyDocLength = def("InvalidParameter.PolicyDocument.Length", 400, `The parameter - "PolicyDocument" beyond the length limit.`)
	// RAMDescriptionLength: a policy's Description is longer than 1024 characters.
	RAMDescriptionLength = def("InvalidParameter.Description.Length", 400, `The parameter - "Description" beyond the length limit.`)
	// RAMPolicyType: PolicyType is neither System nor Custom.
	RAMPolicyType = def("InvalidParameter.PolicyType", 400, `The parameter - "PolicyType" is incorrect.`)
	// RAMStatus: an AccessKey Status is neither Active nor Inactive.
	RAMStatus = def("InvalidParameter.Status", 400, `The parameter - "Status" is incorrect.`)
	// RAMMaxItems: MaxItems of a RAM list action is outside 1–1000.
	RAMMaxItems = def("InvalidParameter.MaxItems", 400, `The parameter - "MaxItems" is out of range.`)
	// RAMMarker: Marker is longer than 512 characters or not one a previous page returned.
	RAMMarker = def("InvalidParameter.Marker", 400, `The parameter - "Marker" is incorrect.`)
	// RAMMalformedPolicy: CreatePolicy's PolicyDocument is not a valid policy.
	RAMMalformedPolicy = def("MalformedPolicyDocument", 400, "The policy document is malformed.")
	// RAMGroupNameChars: GroupName has a character outside letters, digits, '.', '_', '-'.
	RAMGroupNameChars = def("InvalidParameter.GroupName.InvalidChars", 400, `The parameter - "GroupName" contains invalid chars.`)
	// RAMGroupNameLength: GroupName is empty or longer than 64 characters.
	RAMGroupNameLength = def("InvalidParameter.GroupName.Length", 400, `The parameter - "GroupName" beyond the length limit.`)
	// RAMNewGroupNameChars: UpdateGroup's NewGroupName has a character outside the group-name set.
	RAMNewGroupNameChars = def("InvalidParameter.NewGroupName.InvalidChars", 400, `The parameter - "NewGroupName" contains invalid chars.`)
	// RAMNewGroupNameLength: UpdateGroup's NewGroupName is longer than 64 characters.
	RAMNewGroupNameLength = def("InvalidParameter.NewGroupName.Length", 400, `The parameter - "NewGroupName" beyond the length limit.`)
)

// RAM entity errors. A RAM handler answers them for the store's domain
// codes (not found, already exists, still in use, over a limit).
var (
	// RAMUserNotExist: the named user does not exist in the account.
	RAMUserNotExist = def("EntityNotExist.User", 404, "The user does not exist.")
	// RAMUserExists: CreateUser or UpdateUser names a user that exists.
	RAMUserExists = def("EntityAlreadyExists.User", 409, "The user does already exist.")
	// RAMPolicyNotExist: the named policy does not exist.
	RAMPolicyNotExist = def("EntityNotExist.Policy", 404, "The policy does not exist.")
	// RAMPolicyExists: CreatePolicy names a custom policy that exists.
	RAMPolicyExists = def("EntityAlreadyExists.Policy", 409, "The policy does already exist.")
	// RAMUserPolicyNotExist: DetachPolicyFromUser names a policy the user does not have.
	RAMUserPolicyNotExist = def("EntityNotExist.User.Policy", 404, "The indicate policy of the user does not exist.")
	// RAMUserPolicyExists: AttachPolicyToUser names a policy the user already has.
	RAMUserPolicyExists = def("EntityAlreadyExists.User.Policy", 409, "The policy has already been attached to the user.")
	// RAMAccessKeyNotExist: the AccessKey does not exist or belongs to another user.
	RAMAccessKeyNotExist = def("EntityNotExist.User.AccessKey", 404, "The AccessKey of the user does not exist.")
	// RAMAccessKeyLimit: CreateAccessKey for a principal that already holds two keys.
	RAMAccessKeyLimit = def("LimitExceeded.User.AccessKey", 409, "The count of AccessKey of the user beyond the current limits.")
	// RAMLastRootKey: deleting or disabling the account's last active root AccessKey.
	RAMLastRootKey = def("DeleteConflict.Account.AccessKey", 409, "The AccessKey is the account's last active root AccessKey: it cannot be deleted or disabled. Create another one first.")
	// RAMDeleteUserAccessKey: DeleteUser of a user that still has AccessKeys.
	RAMDeleteUserAccessKey = def("DeleteConflict.User.AccessKey", 409, "The user still has AccessKeys; delete them first.")
	// RAMDeleteUserPolicy: DeleteUser of a user that still has policies attached.
	RAMDeleteUserPolicy = def("DeleteConflict.User.Policy", 409, "The user still has policies attached; detach them first.")
	// RAMDeleteUserGroup: DeleteUser of a user that is still a member of a group.
	RAMDeleteUserGroup = def("DeleteConflict.User.Group", 409, "The user CAN NOT be in any group while deleting the user.")
	// RAMDeletePolicyUser: DeletePolicy of a policy still attached to a user.
	RAMDeletePolicyUser = def("DeleteConflict.Policy.User", 409, "The policy is still attached to users; detach it first.")
	// RAMDeletePolicyGroup: DeletePolicy of a policy still attached to a group.
	RAMDeletePolicyGroup = def("DeleteConflict.Policy.Group", 409, "The policy CAN NOT been attached to any group while deleting the policy.")
	// RAMDeleteGroupUser: DeleteGroup of a group that still has members.
	RAMDeleteGroupUser = def("DeleteConflict.Group.User", 409, "The group CAN NOT has any user member while deleting the group.")
	// RAMDeleteGroupPolicy: DeleteGroup of a group that still has policies attached.
	RAMDeleteGroupPolicy = def("DeleteConflict.Group.Policy", 409, "The entity CAN NOT has any attached policy while deleting the group.")
	// RAMGroupNotExist: the named group does not exist.
	RAMGroupNotExist = def("EntityNotExist.Group", 404, "The group does not exist.")
	// RAMGroupExists: CreateGroup or UpdateGroup names a group that exists.
	RAMGroupExists = def("EntityAlreadyExists.Group", 409, "The group does already EXIST.")
	// RAMUserGroupNotExist: RemoveUserFromGroup of a user that is not a member.
	RAMUserGroupNotExist = def("EntityNotExist.User.Group", 404, "The user has not joined the group.")
	// RAMUserGroupExists: AddUserToGroup of a user that is already a member.
	RAMUserGroupExists = def("EntityAlreadyExists.User.Group", 409, "The user has already joined the group.")
	// RAMGroupPolicyMissing: DetachPolicyFromGroup names a policy the group does not have.
	RAMGroupPolicyMissing = def("EntityNotExist.Group.Policy", 404, "The indicate policy attached to the group does not exist.")
	// RAMGroupPolicyExists: AttachPolicyToGroup names a policy the group already has.
	RAMGroupPolicyExists = def("EntityAlreadyExists.Group.Policy", 409, "The group has already been attached this policy.")
)
