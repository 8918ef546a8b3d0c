package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kafkaplane/kafkaplane"
)

const userColumns = `account_id, user_name, user_id, display_name, email, mobile_phone, comments,
	create_date, update_date, modify_index`

func scanUser(s scanner) (*kafkaplane.User, error) {
	var (
		u                kafkaplane.User
		created, updated int64
	)
	if err := s.Scan(&u.AccountID, &u.UserName, &u.UserID, &u.DisplayName, &u.Email, &u.MobilePhone, &u.Comments,
		&created, &updated, &u.ModifyIndex); err != nil {
		return nil, err
	}
	u.CreateDate, u.UpdateDate = fromMicros(created), fromMicros(updated)
	return &u, nil
}

func userNotFound(name string) error {
	return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The user %s does not exist.", name)
}

func userExists(ctx context.Context, q querier, accountID, userName string) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM users WHERE account_id = $1 AND user_name = $2`, accountID, userName)
	if err == nil && !ok {
		return userNotFound(userName)
	}
	return err
}

// lockUser is userExists that, on PostgreSQL, also locks the user's row
// until the transaction ends: shared for a new AccessKey, which no foreign
// key ties to its user, and exclusive for DeleteUser. The two then run one
// after the other, so DeleteUser either sees the new key and refuses, or
// the key's insert finds the user gone; without the locks, both could
// pass their checks and leave a key whose user no longer exists. SQLite's
// transactions hold the database's write lock from their first statement.
func (db *DB) lockUser(ctx context.Context, tx *sql.Tx, accountID, userName string, exclusive bool) error {
	if db.d.engine != EnginePostgres {
		return userExists(ctx, tx, accountID, userName)
	}
	query := `SELECT 1 FROM users WHERE account_id = $1 AND user_name = $2 FOR SHARE`
	if exclusive {
		query = `SELECT 1 FROM users WHERE account_id = $1 AND user_name = $2 FOR UPDATE`
	}
	ok, err := exists(ctx, tx, query, accountID, userName)
	if err == nil && !ok {
		return userNotFound(userName)
	}
	return err
}

// newUserID returns a 16-digit id in the style of RAM user ids. Groups
// draw theirs the same way: ids only need to be unique per account, which
// the unique indexes check.
func newUserID() string {
	return kafkaplane.RandomString(kafkaplane.NonZeroDigits, 1) + kafkaplane.RandomString(kafkaplane.Digits, 15)
}

// CreateUser stores a new user with ModifyIndex 1. Names are unique per
// account (CodeAlreadyExists). An empty UserID is generated; zero dates are
// set from the store clock.
func (db *DB) CreateUser(ctx context.Context, u *kafkaplane.User) error {
	id := u.UserID
	if id == "" {
		id = newUserID()
	}
	created := db.orNow(u.CreateDate)
	updated := created
	if !u.UpdateDate.IsZero() {
		updated = norm(u.UpdateDate)
	}
	_, err := db.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)`,
		u.AccountID, u.UserName, id, u.DisplayName, u.Email, u.MobilePhone, u.Comments, toMicros(created), toMicros(updated))
	if isUniqueViolation(err) {
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The user %s already exists.", u.UserName)
	}
	if err != nil {
		return wrap("create user", err)
	}
	u.UserID, u.CreateDate, u.UpdateDate, u.ModifyIndex = id, created, updated, 1
	return nil
}

// FindUser returns a user of the account by name, or CodeNotFound.
func (db *DB) FindUser(ctx context.Context, accountID, userName string) (*kafkaplane.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users
		WHERE account_id = $1 AND user_name = $2`, accountID, userName))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(userName)
	}
	return u, wrap("find user", err)
}

// ListUsers lists the account's users, oldest first.
func (db *DB) ListUsers(ctx context.Context, accountID string) ([]*kafkaplane.User, error) {
	return scanAll("list users", scanUser)(db.query(ctx, `SELECT `+userColumns+` FROM users
		WHERE account_id = $1 ORDER BY create_date, user_name`, accountID))
}

// UpdateUser writes u with compare-and-set on ModifyIndex and advances it.
// The user is identified by its immutable UserID, so that RAM's UpdateUser
// can rename it (NewUserName): the rename carries over to the user's access
// keys in the same transaction, and to its policy attachments and group
// memberships through the foreign keys' ON UPDATE CASCADE. Renaming onto an
// existing name is CodeAlreadyExists; a zero UpdateDate is set from the
// store clock.
func (db *DB) UpdateUser(ctx context.Context, u *kafkaplane.User) error {
	db.forgetKeys()
	defer db.forgetKeys()
	updated := db.orNow(u.UpdateDate)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var oldName string
		var index int64
		err := tx.QueryRowContext(ctx, `SELECT user_name, modify_index FROM users WHERE account_id = $1 AND user_id = $2`,
			u.AccountID, u.UserID).Scan(&oldName, &index)
		if errors.Is(err, sql.ErrNoRows) {
			return userNotFound(u.UserName)
		}
		if err != nil {
			return err
		}
		if index != u.ModifyIndex {
			return kafkaplane.Errorf(kafkaplane.CodeConflict, "The user %s was changed concurrently; retry.", oldName)
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET user_name = $4, display_name = $5, email = $6,
			mobile_phone = $7, comments = $8, update_date = $9, modify_index = modify_index + 1
			WHERE account_id = $1 AND user_id = $2 AND modify_index = $3`,
			u.AccountID, u.UserID, u.ModifyIndex, u.UserName, u.DisplayName, u.Email, u.MobilePhone, u.Comments, toMicros(updated))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The user %s already exists.", u.UserName)
		}
		if err != nil {
			return err
		}
		if ok, err := oneRow(res); err != nil || !ok {
			if err == nil {
				err = kafkaplane.Errorf(kafkaplane.CodeConflict, "The user %s was changed concurrently; retry.", oldName)
			}
			return err
		}
		if oldName != u.UserName {
			_, err = tx.ExecContext(ctx, `UPDATE access_keys SET user_name = $3 WHERE account_id = $1 AND user_name = $2`,
				u.AccountID, oldName, u.UserName)
		}
		return err
	})
	if err != nil {
		return wrap("update user", err)
	}
	u.UpdateDate = updated
	u.ModifyIndex++
	return nil
}

// DeleteUser removes a user of the account. As in RAM, the user's access
// keys, policy attachments and group memberships must be removed first:
// remaining keys are CodeHasAccessKeys, remaining attachments
// CodeHasPolicies, remaining memberships CodeHasGroups. The checks and the delete share one
// transaction, so a key created concurrently cannot be orphaned.
func (db *DB) DeleteUser(ctx context.Context, accountID, userName string) error {
	db.forgetKeys()
	defer db.forgetKeys()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockUser(ctx, tx, accountID, userName, true); err != nil {
			return err
		}
		keys, err := exists(ctx, tx, `SELECT 1 FROM access_keys WHERE account_id = $1 AND user_name = $2 LIMIT 1`, accountID, userName)
		if err != nil {
			return err
		}
		if keys {
			return kafkaplane.Errorf(kafkaplane.CodeHasAccessKeys, "The user %s still has AccessKeys; delete them first.", userName)
		}
		attached, err := exists(ctx, tx, `SELECT 1 FROM policy_attachments WHERE account_id = $1 AND user_name = $2 LIMIT 1`, accountID, userName)
		if err != nil {
			return err
		}
		if attached {
			return kafkaplane.Errorf(kafkaplane.CodeHasPolicies, "The user %s still has policies attached; detach them first.", userName)
		}
		member, err := exists(ctx, tx, `SELECT 1 FROM group_members WHERE account_id = $1 AND user_name = $2 LIMIT 1`, accountID, userName)
		if err != nil {
			return err
		}
		if member {
			return kafkaplane.Errorf(kafkaplane.CodeHasGroups, "The user CAN NOT be in any group while deleting the user.")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE account_id = $1 AND user_name = $2`, accountID, userName)
		if isForeignKeyViolation(err) {
			// On PostgreSQL an attachment or membership committed after
			// the checks above still holds the row.
			return kafkaplane.Errorf(kafkaplane.CodeConflict, "The user %s was changed concurrently; retry.", userName)
		}
		return err
	})
	return wrap("delete user", err)
}
