package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kafkaplane/kafkaplane"
)

// checkPrincipal rejects an attachment that names both a user and a group.
// Every RAM action names one principal, so such an attachment is a
// caller's bug rather than a client's error, and gets no wire code.
func checkPrincipal(a *kafkaplane.PolicyAttachment) error {
	if a.UserName != "" && a.GroupName != "" {
		return fmt.Errorf("an attachment names the user %s and the group %s; it must name one", a.UserName, a.GroupName)
	}
	return nil
}

// AttachPolicy attaches a policy the account sees to one of its users or,
// when a.GroupName is set, to one of its groups. A missing principal or
// policy is CodeNotFound, an existing attachment CodeAlreadyExists. The
// policy check and the insert share a transaction so that a concurrent
// DeletePolicy cannot leave a dangling attachment.
func (db *DB) AttachPolicy(ctx context.Context, a *kafkaplane.PolicyAttachment) error {
	if err := checkPrincipal(a); err != nil {
		return wrap("attach policy", err)
	}
	date := db.orNow(a.AttachDate)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if a.PolicyType == "" {
			return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The policy %s does not exist: a policy type is required.", a.PolicyName)
		}
		if _, err := findPolicy(ctx, tx, a.AccountID, a.PolicyType, a.PolicyName); err != nil {
			return err
		}
		if a.GroupName != "" {
			if err := groupExists(ctx, tx, a.AccountID, a.GroupName); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO group_policy_attachments (account_id, group_name, policy_type, policy_name, attach_date)
				VALUES ($1, $2, $3, $4, $5)`, a.AccountID, a.GroupName, a.PolicyType, a.PolicyName, toMicros(date))
			if isUniqueViolation(err) {
				return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The policy %s is already attached to the group %s.", a.PolicyName, a.GroupName)
			}
			if isForeignKeyViolation(err) {
				// On PostgreSQL a delete or rename committed after the check.
				return groupNotFound(a.GroupName)
			}
			return err
		}
		if err := userExists(ctx, tx, a.AccountID, a.UserName); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO policy_attachments (account_id, user_name, policy_type, policy_name, attach_date)
			VALUES ($1, $2, $3, $4, $5)`, a.AccountID, a.UserName, a.PolicyType, a.PolicyName, toMicros(date))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The policy %s is already attached to the user %s.", a.PolicyName, a.UserName)
		}
		return err
	})
	if err != nil {
		return wrap("attach policy", err)
	}
	a.AttachDate = date
	return nil
}

// DetachPolicy removes an attachment to a user or (a.GroupName set) to a
// group, or returns CodeNotFound.
func (db *DB) DetachPolicy(ctx context.Context, a *kafkaplane.PolicyAttachment) error {
	if err := checkPrincipal(a); err != nil {
		return wrap("detach policy", err)
	}
	query, principal, kind := `DELETE FROM policy_attachments
		WHERE account_id = $1 AND user_name = $2 AND policy_type = $3 AND policy_name = $4`, a.UserName, "user"
	if a.GroupName != "" {
		query, principal, kind = `DELETE FROM group_policy_attachments
		WHERE account_id = $1 AND group_name = $2 AND policy_type = $3 AND policy_name = $4`, a.GroupName, "group"
	}
	res, err := db.exec(ctx, query, a.AccountID, principal, a.PolicyType, a.PolicyName)
	if err != nil {
		return wrap("detach policy", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("detach policy", err)
	}
	if !ok {
		return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The policy %s is not attached to the %s %s.", a.PolicyName, kind, principal)
	}
	return nil
}

// attachmentSelect and attachmentOrder enclose a union of user and group
// attachments. The union is a derived table because neither engine accepts
// an expression in a compound SELECT's own ORDER BY, and the order is by
// date, then by the principal's name (one of the two names is empty), then
// by policy.
const (
	attachmentSelect = `SELECT account_id, user_name, group_name, policy_type, policy_name, attach_date FROM (`
	attachmentOrder  = `) a ORDER BY attach_date, user_name || group_name, user_name, policy_type, policy_name`
)

// ListAttachments lists the account's attachments that f selects, oldest
// first. f.UserName selects that user's own attachments
// (ListPoliciesForUser) and f.GroupName that group's
// (ListPoliciesForGroup); with neither, users' and groups' attachments are
// listed together (ListEntitiesForPolicy). f.PolicyType and f.PolicyName
// narrow any of these.
func (db *DB) ListAttachments(ctx context.Context, accountID string, f kafkaplane.AttachmentFilter) ([]*kafkaplane.PolicyAttachment, error) {
	// Each half of the union is switched off by the other half's filter:
	// naming a user excludes every group attachment, and the reverse.
	return scanAll("list attachments", scanAttachment)(db.query(ctx, attachmentSelect+`
		SELECT account_id, user_name, '' AS group_name, policy_type, policy_name, attach_date
		FROM policy_attachments
		WHERE account_id = $1 AND $3 = '' AND ($2 = '' OR user_name = $2)
		AND ($4 = '' OR policy_type = $4) AND ($5 = '' OR policy_name = $5)
		UNION ALL
		SELECT account_id, '' AS user_name, group_name, policy_type, policy_name, attach_date
		FROM group_policy_attachments
		WHERE account_id = $1 AND $2 = '' AND ($3 = '' OR group_name = $3)
		AND ($4 = '' OR policy_type = $4) AND ($5 = '' OR policy_name = $5)
		`+attachmentOrder, accountID, f.UserName, f.GroupName, f.PolicyType, f.PolicyName))
}

// ListAttachmentsInEffect lists the attachments that govern a user's
// requests, oldest first: its own, and those of every group it belongs to.
// A group's attachment is returned with GroupName set and UserName empty,
// so that callers can tell where a grant comes from; a policy granted
// twice (to the user and a group, or to two groups) is listed each time.
func (db *DB) ListAttachmentsInEffect(ctx context.Context, accountID, userName string) ([]*kafkaplane.PolicyAttachment, error) {
	return scanAll("list attachments in effect", scanAttachment)(db.query(ctx, attachmentSelect+`
		SELECT account_id, user_name, '' AS group_name, policy_type, policy_name, attach_date
		FROM policy_attachments
		WHERE account_id = $1 AND user_name = $2
		UNION ALL
		SELECT g.account_id, '' AS user_name, g.group_name, g.policy_type, g.policy_name, g.attach_date
		FROM group_members m
		JOIN group_policy_attachments g ON g.account_id = m.account_id AND g.group_name = m.group_name
		WHERE m.account_id = $1 AND m.user_name = $2
		`+attachmentOrder, accountID, userName))
}

// scanAttachment reads a row of (account_id, user_name, group_name,
// policy_type, policy_name, attach_date).
func scanAttachment(s scanner) (*kafkaplane.PolicyAttachment, error) {
	var (
		a    kafkaplane.PolicyAttachment
		date int64
	)
	if err := s.Scan(&a.AccountID, &a.UserName, &a.GroupName, &a.PolicyType, &a.PolicyName, &date); err != nil {
		return nil, err
	}
	a.AttachDate = fromMicros(date)
	return &a, nil
}
