package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kafkaplane/kafkaplane"
)

const groupColumns = `account_id, group_name, group_id, comments, create_date, update_date, modify_index`

func scanGroup(s scanner) (*kafkaplane.Group, error) {
	var (
		g                kafkaplane.Group
		created, updated int64
	)
	if err := s.Scan(&g.AccountID, &g.GroupName, &g.GroupID, &g.Comments, &created, &updated, &g.ModifyIndex); err != nil {
		return nil, err
	}
	g.CreateDate, g.UpdateDate = fromMicros(created), fromMicros(updated)
	return &g, nil
}

func groupNotFound(name string) error {
	return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The group %s does not exist.", name)
}

func groupExists(ctx context.Context, q querier, accountID, groupName string) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM groups WHERE account_id = $1 AND group_name = $2`, accountID, groupName)
	if err == nil && !ok {
		return groupNotFound(groupName)
	}
	return err
}

// CreateGroup stores a new group with ModifyIndex 1. Names are unique per
// account (CodeAlreadyExists). An empty GroupID is generated; zero dates
// are set from the store clock.
func (db *DB) CreateGroup(ctx context.Context, g *kafkaplane.Group) error {
	id := g.GroupID
	if id == "" {
		id = newUserID()
	}
	created := db.orNow(g.CreateDate)
	updated := created
	if !g.UpdateDate.IsZero() {
		updated = norm(g.UpdateDate)
	}
	_, err := db.exec(ctx, `INSERT INTO groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5, $6, 1)`,
		g.AccountID, g.GroupName, id, g.Comments, toMicros(created), toMicros(updated))
	if isUniqueViolation(err) {
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The group %s already exists.", g.GroupName)
	}
	if err != nil {
		return wrap("create group", err)
	}
	g.GroupID, g.CreateDate, g.UpdateDate, g.ModifyIndex = id, created, updated, 1
	return nil
}

// FindGroup returns a group of the account by name, or CodeNotFound.
func (db *DB) FindGroup(ctx context.Context, accountID, groupName string) (*kafkaplane.Group, error) {
	g, err := scanGroup(db.queryRow(ctx, `SELECT `+groupColumns+` FROM groups
		WHERE account_id = $1 AND group_name = $2`, accountID, groupName))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, groupNotFound(groupName)
	}
	return g, wrap("find group", err)
}

// ListGroups lists the account's groups ordered by name.
func (db *DB) ListGroups(ctx context.Context, accountID string) ([]*kafkaplane.Group, error) {
	return scanAll("list groups", scanGroup)(db.query(ctx, `SELECT `+groupColumns+` FROM groups
		WHERE account_id = $1 ORDER BY group_name`, accountID))
}

// UpdateGroup writes g with compare-and-set on ModifyIndex and advances it.
// The group is identified by its immutable GroupID, so that RAM's
// UpdateGroup can rename it (NewGroupName): the rename carries over to the
// group's memberships and policy attachments through the foreign keys' ON
// UPDATE CASCADE. Renaming onto an existing name is CodeAlreadyExists; a
// zero UpdateDate is set from the store clock.
func (db *DB) UpdateGroup(ctx context.Context, g *kafkaplane.Group) error {
	updated := db.orNow(g.UpdateDate)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var oldName string
		var index int64
		err := tx.QueryRowContext(ctx, `SELECT group_name, modify_index FROM groups WHERE account_id = $1 AND group_id = $2`,
			g.AccountID, g.GroupID).Scan(&oldName, &index)
		if errors.Is(err, sql.ErrNoRows) {
			return groupNotFound(g.GroupName)
		}
		if err != nil {
			return err
		}
		if index != g.ModifyIndex {
			return kafkaplane.Errorf(kafkaplane.CodeConflict, "The group %s was changed concurrently; retry.", oldName)
		}
		res, err := tx.ExecContext(ctx, `UPDATE groups SET group_name = $4, comments = $5, update_date = $6,
			modify_index = modify_index + 1
			WHERE account_id = $1 AND group_id = $2 AND modify_index = $3`,
			g.AccountID, g.GroupID, g.ModifyIndex, g.GroupName, g.Comments, toMicros(updated))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The group %s already exists.", g.GroupName)
		}
		if err != nil {
			return err
		}
		if ok, err := oneRow(res); err != nil || !ok {
			if err == nil {
				err = kafkaplane.Errorf(kafkaplane.CodeConflict, "The group %s was changed concurrently; retry.", oldName)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return wrap("update group", err)
	}
	g.UpdateDate = updated
	g.ModifyIndex++
	return nil
}

// DeleteGroup removes a group of the account. As in RAM, its members and
// policy attachments must be removed first: remaining members are
// CodeHasUsers, remaining attachments CodeHasPolicies; a missing group is CodeNotFound.
func (db *DB) DeleteGroup(ctx context.Context, accountID, groupName string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := groupExists(ctx, tx, accountID, groupName); err != nil {
			return err
		}
		members, err := exists(ctx, tx, `SELECT 1 FROM group_members WHERE account_id = $1 AND group_name = $2 LIMIT 1`,
			accountID, groupName)
		if err != nil {
			return err
		}
		if members {
			return kafkaplane.Errorf(kafkaplane.CodeHasUsers, "The group CAN NOT has any user member while deleting the group.")
		}
		attached, err := exists(ctx, tx, `SELECT 1 FROM group_policy_attachments WHERE account_id = $1 AND group_name = $2 LIMIT 1`,
			accountID, groupName)
		if err != nil {
			return err
		}
		if attached {
			return kafkaplane.Errorf(kafkaplane.CodeHasPolicies, "The entity CAN NOT has any attached policy while deleting the group.")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM groups WHERE account_id = $1 AND group_name = $2`, accountID, groupName)
		if isForeignKeyViolation(err) {
			// On PostgreSQL a member or attachment committed after the
			// checks above still holds the row.
			return kafkaplane.Errorf(kafkaplane.CodeConflict, "The group %s was changed concurrently; retry.", groupName)
		}
		return err
	})
	return wrap("delete group", err)
}

// AddUserToGroup makes a user of the account a member of one of its
// groups. A missing user or group is CodeNotFound, an existing membership
// CodeAlreadyExists; a zero JoinDate is set from the store clock.
func (db *DB) AddUserToGroup(ctx context.Context, m *kafkaplane.GroupMembership) error {
	date := db.orNow(m.JoinDate)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, m.AccountID, m.UserName); err != nil {
			return err
		}
		if err := groupExists(ctx, tx, m.AccountID, m.GroupName); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (account_id, group_name, user_name, join_date)
			VALUES ($1, $2, $3, $4)`, m.AccountID, m.GroupName, m.UserName, toMicros(date))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The user %s is already a member of the group %s.", m.UserName, m.GroupName)
		}
		if isForeignKeyViolation(err) {
			// On PostgreSQL a delete or rename committed after the checks.
			return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The user %s or the group %s no longer exists.", m.UserName, m.GroupName)
		}
		return err
	})
	if err != nil {
		return wrap("add user to group", err)
	}
	m.JoinDate = date
	return nil
}

// RemoveUserFromGroup ends a membership, or returns CodeNotFound.
func (db *DB) RemoveUserFromGroup(ctx context.Context, accountID, groupName, userName string) error {
	res, err := db.exec(ctx, `DELETE FROM group_members WHERE account_id = $1 AND group_name = $2 AND user_name = $3`,
		accountID, groupName, userName)
	if err != nil {
		return wrap("remove user from group", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("remove user from group", err)
	}
	if !ok {
		return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The user %s is not a member of the group %s.", userName, groupName)
	}
	return nil
}

// ListGroupMemberships lists the account's memberships, oldest first: a
// non-empty groupName selects that group's members (ListUsersForGroup), a
// non-empty userName that user's groups (ListGroupsForUser); both empty
// list every membership of the account.
func (db *DB) ListGroupMemberships(ctx context.Context, accountID, groupName, userName string) ([]*kafkaplane.GroupMembership, error) {
	return scanAll("list group memberships", scanMembership)(db.query(ctx, `SELECT account_id, group_name, user_name, join_date FROM group_members
		WHERE account_id = $1 AND ($2 = '' OR group_name = $2) AND ($3 = '' OR user_name = $3)
		ORDER BY join_date, group_name, user_name`, accountID, groupName, userName))
}

func scanMembership(s scanner) (*kafkaplane.GroupMembership, error) {
	var (
		m    kafkaplane.GroupMembership
		date int64
	)
	if err := s.Scan(&m.AccountID, &m.GroupName, &m.UserName, &date); err != nil {
		return nil, err
	}
	m.JoinDate = fromMicros(date)
	return &m, nil
}
