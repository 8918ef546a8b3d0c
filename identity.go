package kafkaplane

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// Account is the Alibaba Cloud account (the parent UID) that owns
// instances, RAM users and policies.
type Account struct {
	ID string // 16 digits, like an Alibaba Cloud UID
}

// AccessKey statuses, as RAM spells them.
const (
	AccessKeyActive   = "Active"
	AccessKeyInactive = "Inactive"
)

// AccessKey is a credential pair. A key with an empty UserName is the
// account's root key, which may call every action.
type AccessKey struct {
	ID          string
	Secret      string
	AccountID   string
	UserName    string
	Status      string
	CreateDate  time.Time
	ModifyIndex int64
}

// NewAccessKeyPair returns a fresh AccessKey id and secret in Alibaba's
// shapes: "LTAI" and 20 letters or digits, and a 30-character secret.
func NewAccessKeyPair() (id, secret string) {
	return "LTAI" + RandomString(AlphaNum, 20), RandomString(AlphaNum, 30)
}

// Alphabets of the random ids the service hands out.
const (
	AlphaNum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	LowerAlnum    = "abcdefghijklmnopqrstuvwxyz0123456789"
	Digits        = "0123456789"
	NonZeroDigits = "123456789"
)

// RandomString draws n characters of alphabet from crypto/rand. It is the
// one source of the random ids the service hands out (AccessKeys, user
// and group ids, worker ids).
func RandomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		x, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			// crypto/rand does not fail on supported platforms; a key
			// from a broken source must never be handed out.
			panic("kafkaplane: crypto/rand: " + err.Error())
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// Root reports whether the key belongs to the account itself.
func (k *AccessKey) Root() bool { return k.UserName == "" }

// User is a RAM user of an account.
type User struct {
	AccountID   string
	UserID      string
	UserName    string
	DisplayName string
	Email       string
	MobilePhone string
	Comments    string
	CreateDate  time.Time
	UpdateDate  time.Time
	ModifyIndex int64
}

// Policy types, as RAM spells them.
const (
	PolicyTypeSystem = "System"
	PolicyTypeCustom = "Custom"
)

// Policy is a RAM policy: a system policy shared by every account or a
// custom policy of one account.
type Policy struct {
	AccountID      string // empty for system policies
	PolicyName     string
	PolicyType     string
	Description    string
	Document       string
	DefaultVersion string
	CreateDate     time.Time
	UpdateDate     time.Time
	// AttachmentCount is filled by reads; it is not stored.
	AttachmentCount int
	ModifyIndex     int64
}

// Group is a RAM user group of an account: the policies attached to it
// apply to every member.
type Group struct {
	AccountID   string
	GroupID     string
	GroupName   string
	Comments    string
	CreateDate  time.Time
	UpdateDate  time.Time
	ModifyIndex int64
}

// GroupMembership records that a user belongs to a group.
type GroupMembership struct {
	AccountID string
	GroupName string
	UserName  string
	JoinDate  time.Time
}

// PolicyAttachment records that a policy applies to a user or a group:
// exactly one of UserName and GroupName is set.
type PolicyAttachment struct {
	AccountID  string
	UserName   string
	GroupName  string
	PolicyType string
	PolicyName string
	AttachDate time.Time
}

// AttachmentFilter selects attachments; an empty field matches anything.
// UserName selects one user's own attachments and GroupName one group's;
// with neither, the attachments of users and groups alike are listed.
type AttachmentFilter struct {
	UserName   string
	GroupName  string
	PolicyType string
	PolicyName string
}

// IdentityService stores accounts' credentials, users and policies.
type IdentityService interface {
	// FindAccessKey returns the key with that id in any account, or an
	// error with CodeNotFound.
	FindAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// CreateAccessKey stores a new key; CodeAlreadyExists on a duplicate id.
	// A limit above zero is how many keys its owner (the user, or the
	// account's root) may hold: one more is refused with
	// CodeLimitExceeded, counted in the same transaction as the insert so
	// that concurrent creates, from any process, cannot pass it together.
	CreateAccessKey(ctx context.Context, k *AccessKey, limit int) error
	// UpdateAccessKey writes k (its Status) with compare-and-set.
	// Deactivating the account's last active root key is CodeLastRootKey.
	UpdateAccessKey(ctx context.Context, k *AccessKey) error
	// DeleteAccessKey removes a key of the account; the account's last
	// active root key is kept (CodeLastRootKey).
	DeleteAccessKey(ctx context.Context, accountID, id string) error
	// ListAccessKeys lists the keys of one user ("" for the root keys).
	ListAccessKeys(ctx context.Context, accountID, userName string) ([]*AccessKey, error)

	CreateUser(ctx context.Context, u *User) error
	// FindUser returns a user by name, or CodeNotFound.
	FindUser(ctx context.Context, accountID, userName string) (*User, error)
	ListUsers(ctx context.Context, accountID string) ([]*User, error)
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes a user; its keys, attachments and group
	// memberships must be gone.
	DeleteUser(ctx context.Context, accountID, userName string) error

	// CreateGroup stores a new group; CodeAlreadyExists on a taken name.
	CreateGroup(ctx context.Context, g *Group) error
	// FindGroup returns a group by name, or CodeNotFound.
	FindGroup(ctx context.Context, accountID, groupName string) (*Group, error)
	// ListGroups lists the account's groups by name.
	ListGroups(ctx context.Context, accountID string) ([]*Group, error)
	// UpdateGroup writes g (found by GroupID) with compare-and-set; a new
	// GroupName carries its memberships and attachments along.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup removes a group; its members and attachments must be
	// gone.
	DeleteGroup(ctx context.Context, accountID, groupName string) error
	// AddUserToGroup stores a membership; CodeNotFound when the user or
	// the group is missing, CodeAlreadyExists when it is a member.
	AddUserToGroup(ctx context.Context, m *GroupMembership) error
	// RemoveUserFromGroup removes a membership, or returns CodeNotFound.
	RemoveUserFromGroup(ctx context.Context, accountID, groupName, userName string) error
	// ListGroupMemberships lists the memberships of a group (groupName
	// non-empty) or of a user (userName non-empty), oldest first.
	ListGroupMemberships(ctx context.Context, accountID, groupName, userName string) ([]*GroupMembership, error)

	CreatePolicy(ctx context.Context, p *Policy) error
	// FindPolicy returns a policy by type and name; system policies are
	// found from every account.
	FindPolicy(ctx context.Context, accountID, policyType, name string) (*Policy, error)
	ListPolicies(ctx context.Context, accountID, policyType string) ([]*Policy, error)
	DeletePolicy(ctx context.Context, accountID, name string) error

	// AttachPolicy attaches a policy to a user or a group; CodeNotFound
	// when either is missing, CodeAlreadyExists when already attached.
	AttachPolicy(ctx context.Context, a *PolicyAttachment) error
	// DetachPolicy removes an attachment, or returns CodeNotFound.
	DetachPolicy(ctx context.Context, a *PolicyAttachment) error
	// ListAttachments lists the account's attachments that f selects,
	// oldest first.
	ListAttachments(ctx context.Context, accountID string, f AttachmentFilter) ([]*PolicyAttachment, error)
	// ListAttachmentsInEffect lists every attachment that governs a
	// user's requests: its own and those of the groups it belongs to.
	ListAttachmentsInEffect(ctx context.Context, accountID, userName string) ([]*PolicyAttachment, error)
}

// NonceService remembers the signature nonces each AccessKey used, so that
// a replayed request is refused even after a restart.
type NonceService interface {
	// UseNonce records nonce for the key until expires and reports whether
	// it was fresh: not recorded before with an expiry after now. A nonce
	// may be forgotten once its expiry has passed, never before.
	//
	// A key holds at most limit unexpired nonces. When it already holds
	// that many, UseNonce records nothing and returns a *NonceLimitError
	// (a replay of a remembered nonce is still reported as not fresh).
	// Concurrent replicas may overshoot the limit by the number of
	// requests in flight.
	UseNonce(ctx context.Context, accessKeyID, nonce string, now, expires time.Time, limit int) (fresh bool, err error)
}

// NonceLimitError is UseNonce's refusal of a key that holds its limit of
// unexpired nonces. Forgetting nonces early would let their requests be
// replayed, so the key waits instead: RetryAfter is how long until one of
// its nonces expires (an estimate; zero when unknown).
type NonceLimitError struct {
	Limit      int
	RetryAfter time.Duration
}

func (e *NonceLimitError) Error() string {
	return fmt.Sprintf("the AccessKey holds %d unexpired signature nonces, its limit", e.Limit)
}
