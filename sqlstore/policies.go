package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kafkaplane/kafkaplane"
)

// policySelect selects policies with their attachment count in the
// account given as $1, to users and groups alike: a system policy is
// shared, but each account sees only its own attachments of it.
const policySelect = `SELECT p.account_id, p.policy_name, p.policy_type, p.description, p.document,
	p.default_version, p.create_date, p.update_date, p.modify_index,
	(SELECT count(*) FROM policy_attachments a
	 WHERE a.account_id = $1 AND a.policy_type = p.policy_type AND a.policy_name = p.policy_name)
	+ (SELECT count(*) FROM group_policy_attachments g
	 WHERE g.account_id = $1 AND g.policy_type = p.policy_type AND g.policy_name = p.policy_name)
	FROM policies p`

func scanPolicy(s scanner) (*kafkaplane.Policy, error) {
	var (
		p                       kafkaplane.Policy
		created, updated, count int64
	)
	if err := s.Scan(&p.AccountID, &p.PolicyName, &p.PolicyType, &p.Description, &p.Document,
		&p.DefaultVersion, &created, &updated, &p.ModifyIndex, &count); err != nil {
		return nil, err
	}
	p.CreateDate, p.UpdateDate, p.AttachmentCount = fromMicros(created), fromMicros(updated), int(count)
	return &p, nil
}

// policyAccount returns the account a policy of that type is stored under:
// system policies belong to no account ("") and are visible to all.
func policyAccount(accountID, policyType string) string {
	if policyType == kafkaplane.PolicyTypeSystem {
		return ""
	}
	return accountID
}

// CreatePolicy stores a policy with ModifyIndex 1. An empty PolicyType is
// Custom; a System policy is stored with AccountID "" whatever p says, so
// that every account finds it. A duplicate (account, type, name) is
// CodeAlreadyExists. Zero dates are set from the store clock and an empty
// DefaultVersion is "1".
func (db *DB) CreatePolicy(ctx context.Context, p *kafkaplane.Policy) error {
	typ := p.PolicyType
	if typ == "" {
		typ = kafkaplane.PolicyTypeCustom
	}
	account := policyAccount(p.AccountID, typ)
	version := p.DefaultVersion
	if version == "" {
		version = "1"
	}
	created := db.orNow(p.CreateDate)
	updated := created
	if !p.UpdateDate.IsZero() {
		updated = norm(p.UpdateDate)
	}
	_, err := db.exec(ctx, `INSERT INTO policies (account_id, policy_type, policy_name, description,
		document, default_version, create_date, update_date, modify_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)`,
		account, typ, p.PolicyName, p.Description, p.Document, version, toMicros(created), toMicros(updated))
	if isUniqueViolation(err) {
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The policy %s already exists.", p.PolicyName)
	}
	if err != nil {
		return wrap("create policy", err)
	}
	p.AccountID, p.PolicyType, p.DefaultVersion = account, typ, version
	p.CreateDate, p.UpdateDate, p.ModifyIndex = created, updated, 1
	return nil
}

// FindPolicy returns a policy by type and name as the account sees it:
// its own custom policies and every system policy. An empty policyType
// finds either, preferring the custom one. Missing is CodeNotFound.
func (db *DB) FindPolicy(ctx context.Context, accountID, policyType, name string) (*kafkaplane.Policy, error) {
	return findPolicy(ctx, db.db, accountID, policyType, name)
}

func findPolicy(ctx context.Context, q querier, accountID, policyType, name string) (*kafkaplane.Policy, error) {
	p, err := scanPolicy(q.QueryRowContext(ctx, policySelect+`
		WHERE p.policy_name = $2 AND ($3 = '' OR p.policy_type = $3)
		AND ((p.policy_type = 'System' AND p.account_id = '') OR (p.policy_type <> 'System' AND p.account_id = $1))
		ORDER BY p.policy_type LIMIT 1`, accountID, name, policyType))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kafkaplane.Errorf(kafkaplane.CodeNotFound, "The policy %s does not exist.", name)
	}
	return p, wrap("find policy", err)
}

// ListPolicies lists the policies the account sees, of one type or ("")
// of both, ordered by type and name.
func (db *DB) ListPolicies(ctx context.Context, accountID, policyType string) ([]*kafkaplane.Policy, error) {
	return scanAll("list policies", scanPolicy)(db.query(ctx, policySelect+`
		WHERE ($2 = '' OR p.policy_type = $2)
		AND ((p.policy_type = 'System' AND p.account_id = '') OR (p.policy_type <> 'System' AND p.account_id = $1))
		ORDER BY p.policy_type, p.policy_name`, accountID, policyType))
}

// DeletePolicy removes a custom policy of the account (system policies
// cannot be deleted through it, as in RAM). A policy still attached to a
// user is CodeHasUsers, to a group CodeHasGroups; a missing one CodeNotFound.
func (db *DB) DeletePolicy(ctx context.Context, accountID, name string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM policies WHERE account_id = $1 AND policy_type = 'Custom' AND policy_name = $2`,
			accountID, name)
		if err != nil {
			return err
		}
		if !found {
			return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The policy %s does not exist.", name)
		}
		attached, err := exists(ctx, tx, `SELECT 1 FROM policy_attachments
			WHERE account_id = $1 AND policy_type = 'Custom' AND policy_name = $2 LIMIT 1`, accountID, name)
		if err != nil {
			return err
		}
		if attached {
			return kafkaplane.Errorf(kafkaplane.CodeHasUsers, "The policy %s is still attached to users; detach it first.", name)
		}
		attached, err = exists(ctx, tx, `SELECT 1 FROM group_policy_attachments
			WHERE account_id = $1 AND policy_type = 'Custom' AND policy_name = $2 LIMIT 1`, accountID, name)
		if err != nil {
			return err
		}
		if attached {
			return kafkaplane.Errorf(kafkaplane.CodeHasGroups, "The policy CAN NOT been attached to any group while deleting the policy.")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM policies WHERE account_id = $1 AND policy_type = 'Custom' AND policy_name = $2`,
			accountID, name)
		return err
	})
	return wrap("delete policy", err)
}
