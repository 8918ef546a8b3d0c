package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"

	"github.com/kafkaplane/kafkaplane"
)

// ---- access keys ----

const accessKeyColumns = `id, secret, account_id, user_name, status, create_date, modify_index`

// scanAccessKey reads a key row and unseals its secret.
func (db *DB) scanAccessKey(s scanner) (*kafkaplane.AccessKey, error) {
	var (
		k       kafkaplane.AccessKey
		created int64
		secret  string
	)
	if err := s.Scan(&k.ID, &secret, &k.AccountID, &k.UserName, &k.Status, &created, &k.ModifyIndex); err != nil {
		return nil, err
	}
	var err error
	if k.Secret, err = db.unseal(accessKeySecret, k.ID, secret); err != nil {
		return nil, err
	}
	k.CreateDate = fromMicros(created)
	return &k, nil
}

// FindAccessKey returns the key with that id in any account (ids are
// unique across accounts, as a request names only the key), or
// CodeNotFound.
//
// Every signed request looks its key up, so on SQLite, where this process
// is the only writer, keys are cached and every write that touches a key
// (create, update, delete, user rename or delete) drops the cache. On
// PostgreSQL other replicas write too, so every lookup reads the table.
func (db *DB) FindAccessKey(ctx context.Context, id string) (*kafkaplane.AccessKey, error) {
	cache := db.d.engine == EngineSQLite
	if cache {
		if k, ok := db.keys.Load(id); ok {
			c := *k.(*kafkaplane.AccessKey)
			return &c, nil
		}
	}
	gen := db.keysGen.Load()
	k, err := db.scanAccessKey(db.queryRow(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kafkaplane.Errorf(kafkaplane.CodeNotFound, "The AccessKey %s does not exist.", id)
	}
	if err != nil {
		return nil, wrap("find access key", err)
	}
	// A write that ran meanwhile may have changed the row after it was
	// read: only a read from an unchanged generation is cached.
	if cache && db.keysGen.Load() == gen {
		c := *k
		db.keys.Store(id, &c)
	}
	return k, nil
}

// forgetKeys drops the AccessKey cache; writers call it after their change
// is committed (and before, so no read in between caches the old row).
func (db *DB) forgetKeys() {
	db.keysGen.Add(1)
	db.keys.Clear()
}

// CreateAccessKey stores a new key with ModifyIndex 1; a zero CreateDate is
// set from the store clock and an empty Status is Active. A duplicate id is
// CodeAlreadyExists; a UserName that is not a user of the account is
// CodeNotFound. A limit above zero caps the owner's keys (CodeLimitExceeded).
func (db *DB) CreateAccessKey(ctx context.Context, k *kafkaplane.AccessKey, limit int) error {
	db.forgetKeys()
	defer db.forgetKeys()
	created := db.orNow(k.CreateDate)
	status := k.Status
	if status == "" {
		status = kafkaplane.AccessKeyActive
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if k.UserName != "" {
			if err := db.lockUser(ctx, tx, k.AccountID, k.UserName, false); err != nil {
				return err
			}
		}
		if limit > 0 {
			if err := db.underKeyLimit(ctx, tx, k.AccountID, k.UserName, limit); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_keys (`+accessKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, 1)`,
			k.ID, db.seal(accessKeySecret, k.ID, k.Secret), k.AccountID, k.UserName, status, toMicros(created))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The AccessKey %s already exists.", k.ID)
		}
		return err
	})
	if err != nil {
		return wrap("create access key", err)
	}
	k.CreateDate, k.Status, k.ModifyIndex = created, status, 1
	return nil
}

// underKeyLimit fails with CodeLimitExceeded when the owner already holds
// limit keys. On SQLite the transaction already holds the database's write
// lock; on PostgreSQL a transaction-scoped advisory lock on the owner keeps
// two transactions from both counting before either inserts, which READ
// COMMITTED alone would allow.
func (db *DB) underKeyLimit(ctx context.Context, tx *sql.Tx, accountID, userName string, limit int) error {
	if err := db.lockKeyOwner(ctx, tx, accountID, userName); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_keys WHERE account_id = $1 AND user_name = $2`, accountID, userName).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return kafkaplane.Errorf(kafkaplane.CodeLimitExceeded, "The owner already holds %d AccessKeys, the most allowed.", n)
	}
	return nil
}

// lockKeyOwner serialises the transactions that count one owner's keys
// before changing them. On SQLite the transaction already holds the
// database's write lock; on PostgreSQL it takes a transaction-scoped
// advisory lock on the owner.
func (db *DB) lockKeyOwner(ctx context.Context, tx *sql.Tx, accountID, userName string) error {
	if db.d.engine != EnginePostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('access_keys/' || $1 || '/' || $2))`, accountID, userName)
	return err
}

// keepRootKey fails with CodeLastRootKey when key id is the account's
// only active root key, which is about to be deleted or deactivated: an
// account without one can no longer be administered. Keys of users pass.
func (db *DB) keepRootKey(ctx context.Context, tx *sql.Tx, accountID, id string) error {
	var userName string
	err := tx.QueryRowContext(ctx, `SELECT user_name FROM access_keys WHERE id = $1 AND account_id = $2`, id, accountID).Scan(&userName)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && userName != "") {
		return nil
	}
	if err != nil {
		return err
	}
	if err := db.lockKeyOwner(ctx, tx, accountID, ""); err != nil {
		return err
	}
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_keys
		WHERE account_id = $1 AND user_name = '' AND status = $2 AND id <> $3`, accountID, kafkaplane.AccessKeyActive, id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM access_keys WHERE id = $1`, id).Scan(&status); err != nil {
			return err
		}
		if status == kafkaplane.AccessKeyActive {
			return kafkaplane.Errorf(kafkaplane.CodeLastRootKey, "The AccessKey %s is the account's last active root AccessKey.", id)
		}
	}
	return nil
}

// ReplaceRootAccessKeys makes k the account's only root key, in one
// transaction: k is stored Active with its secret (created, or its secret
// and status overwritten), and every other root key of the account is
// deleted. It is how a root key fixed by configuration is rotated. A k.ID
// that belongs to a user or another account is CodeAlreadyExists.
func (db *DB) ReplaceRootAccessKeys(ctx context.Context, k *kafkaplane.AccessKey) error {
	db.forgetKeys()
	defer db.forgetKeys()
	created := db.orNow(k.CreateDate)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockKeyOwner(ctx, tx, k.AccountID, ""); err != nil {
			return err
		}
		var accountID, userName string
		err := tx.QueryRowContext(ctx, `SELECT account_id, user_name FROM access_keys WHERE id = $1`, k.ID).Scan(&accountID, &userName)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO access_keys (`+accessKeyColumns+`) VALUES ($1, $2, $3, '', $4, $5, 1)`,
				k.ID, db.seal(accessKeySecret, k.ID, k.Secret), k.AccountID, kafkaplane.AccessKeyActive, toMicros(created))
		case err != nil:
		case accountID != k.AccountID || userName != "":
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The AccessKey %s belongs to another principal.", k.ID)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE access_keys SET secret = $2, status = $3, modify_index = modify_index + 1 WHERE id = $1`,
				k.ID, db.seal(accessKeySecret, k.ID, k.Secret), kafkaplane.AccessKeyActive)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM access_keys WHERE account_id = $1 AND user_name = '' AND id <> $2`, k.AccountID, k.ID)
		return err
	})
	if err != nil {
		return wrap("replace root access keys", err)
	}
	stored, err := db.FindAccessKey(ctx, k.ID)
	if err != nil {
		return err
	}
	*k = *stored
	return nil
}

// UpdateAccessKey writes k's Status with compare-and-set on ModifyIndex and
// advances it; CodeConflict when the key changed since it was read,
// CodeNotFound when it is gone. Deactivating the account's last active
// root key is refused with CodeLastRootKey.
func (db *DB) UpdateAccessKey(ctx context.Context, k *kafkaplane.AccessKey) error {
	db.forgetKeys()
	defer db.forgetKeys()
	var ok bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if k.Status != kafkaplane.AccessKeyActive {
			if err := db.keepRootKey(ctx, tx, k.AccountID, k.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE access_keys SET status = $4, modify_index = modify_index + 1
			WHERE id = $1 AND account_id = $2 AND modify_index = $3`, k.ID, k.AccountID, k.ModifyIndex, k.Status)
		if err != nil {
			return err
		}
		ok, err = oneRow(res)
		return err
	})
	if err != nil {
		return wrap("update access key", err)
	}
	if !ok {
		found, err := exists(ctx, db.db, `SELECT 1 FROM access_keys WHERE id = $1 AND account_id = $2`, k.ID, k.AccountID)
		if err != nil {
			return wrap("update access key", err)
		}
		if !found {
			return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The AccessKey %s does not exist.", k.ID)
		}
		return kafkaplane.Errorf(kafkaplane.CodeConflict, "The AccessKey %s was changed concurrently; retry.", k.ID)
	}
	k.ModifyIndex++
	return nil
}

// DeleteAccessKey removes a key of the account, or returns CodeNotFound;
// the account's last active root key is kept (CodeLastRootKey).
func (db *DB) DeleteAccessKey(ctx context.Context, accountID, id string) error {
	db.forgetKeys()
	defer db.forgetKeys()
	var ok bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.keepRootKey(ctx, tx, accountID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = $1 AND account_id = $2`, id, accountID)
		if err != nil {
			return err
		}
		ok, err = oneRow(res)
		return err
	})
	if err != nil {
		return wrap("delete access key", err)
	}
	if !ok {
		return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The AccessKey %s does not exist.", id)
	}
	return nil
}

// ListAccessKeys lists the keys of one user of the account ("" for the
// account's root keys), oldest first.
func (db *DB) ListAccessKeys(ctx context.Context, accountID, userName string) ([]*kafkaplane.AccessKey, error) {
	rows, err := db.query(ctx, `SELECT `+accessKeyColumns+` FROM access_keys
		WHERE account_id = $1 AND user_name = $2 ORDER BY create_date, id`, accountID, userName)
	if err != nil {
		return nil, wrap("list access keys", err)
	}
	defer rows.Close()
	var out []*kafkaplane.AccessKey
	for rows.Next() {
		k, err := db.scanAccessKey(rows)
		if err != nil {
			return nil, wrap("list access keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("list access keys", rows.Err())
}

// ---- users ----

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
func newUserID() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(9e15))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d", n.Int64()+1e15), nil
}

// CreateUser stores a new user with ModifyIndex 1. Names are unique per
// account (CodeAlreadyExists). An empty UserID is generated; zero dates are
// set from the store clock.
func (db *DB) CreateUser(ctx context.Context, u *kafkaplane.User) error {
	id := u.UserID
	if id == "" {
		var err error
		if id, err = newUserID(); err != nil {
			return wrap("create user", err)
		}
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
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users
		WHERE account_id = $1 ORDER BY create_date, user_name`, accountID)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var out []*kafkaplane.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
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

// ---- groups ----

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
		var err error
		if id, err = newUserID(); err != nil {
			return wrap("create group", err)
		}
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
	rows, err := db.query(ctx, `SELECT `+groupColumns+` FROM groups
		WHERE account_id = $1 ORDER BY group_name`, accountID)
	if err != nil {
		return nil, wrap("list groups", err)
	}
	defer rows.Close()
	var out []*kafkaplane.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, wrap("list groups", err)
		}
		out = append(out, g)
	}
	return out, wrap("list groups", rows.Err())
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
	rows, err := db.query(ctx, `SELECT account_id, group_name, user_name, join_date FROM group_members
		WHERE account_id = $1 AND ($2 = '' OR group_name = $2) AND ($3 = '' OR user_name = $3)
		ORDER BY join_date, group_name, user_name`, accountID, groupName, userName)
	if err != nil {
		return nil, wrap("list group memberships", err)
	}
	defer rows.Close()
	var out []*kafkaplane.GroupMembership
	for rows.Next() {
		var (
			m    kafkaplane.GroupMembership
			date int64
		)
		if err := rows.Scan(&m.AccountID, &m.GroupName, &m.UserName, &date); err != nil {
			return nil, wrap("list group memberships", err)
		}
		m.JoinDate = fromMicros(date)
		out = append(out, &m)
	}
	return out, wrap("list group memberships", rows.Err())
}

// ---- policies ----

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
	rows, err := db.query(ctx, policySelect+`
		WHERE ($2 = '' OR p.policy_type = $2)
		AND ((p.policy_type = 'System' AND p.account_id = '') OR (p.policy_type <> 'System' AND p.account_id = $1))
		ORDER BY p.policy_type, p.policy_name`, accountID, policyType)
	if err != nil {
		return nil, wrap("list policies", err)
	}
	defer rows.Close()
	var out []*kafkaplane.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, wrap("list policies", err)
		}
		out = append(out, p)
	}
	return out, wrap("list policies", rows.Err())
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

// ---- attachments ----

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
	rows, err := db.query(ctx, attachmentSelect+`
		SELECT account_id, user_name, '' AS group_name, policy_type, policy_name, attach_date
		FROM policy_attachments
		WHERE account_id = $1 AND $3 = '' AND ($2 = '' OR user_name = $2)
		AND ($4 = '' OR policy_type = $4) AND ($5 = '' OR policy_name = $5)
		UNION ALL
		SELECT account_id, '' AS user_name, group_name, policy_type, policy_name, attach_date
		FROM group_policy_attachments
		WHERE account_id = $1 AND $2 = '' AND ($3 = '' OR group_name = $3)
		AND ($4 = '' OR policy_type = $4) AND ($5 = '' OR policy_name = $5)
		`+attachmentOrder, accountID, f.UserName, f.GroupName, f.PolicyType, f.PolicyName)
	if err != nil {
		return nil, wrap("list attachments", err)
	}
	return scanAttachments("list attachments", rows)
}

// ListAttachmentsInEffect lists the attachments that govern a user's
// requests, oldest first: its own, and those of every group it belongs to.
// A group's attachment is returned with GroupName set and UserName empty,
// so that callers can tell where a grant comes from; a policy granted
// twice (to the user and a group, or to two groups) is listed each time.
func (db *DB) ListAttachmentsInEffect(ctx context.Context, accountID, userName string) ([]*kafkaplane.PolicyAttachment, error) {
	rows, err := db.query(ctx, attachmentSelect+`
		SELECT account_id, user_name, '' AS group_name, policy_type, policy_name, attach_date
		FROM policy_attachments
		WHERE account_id = $1 AND user_name = $2
		UNION ALL
		SELECT g.account_id, '' AS user_name, g.group_name, g.policy_type, g.policy_name, g.attach_date
		FROM group_members m
		JOIN group_policy_attachments g ON g.account_id = m.account_id AND g.group_name = m.group_name
		WHERE m.account_id = $1 AND m.user_name = $2
		`+attachmentOrder, accountID, userName)
	if err != nil {
		return nil, wrap("list attachments in effect", err)
	}
	return scanAttachments("list attachments in effect", rows)
}

// scanAttachments reads and closes rows of (account_id, user_name,
// group_name, policy_type, policy_name, attach_date).
func scanAttachments(op string, rows *sql.Rows) ([]*kafkaplane.PolicyAttachment, error) {
	defer rows.Close()
	var out []*kafkaplane.PolicyAttachment
	for rows.Next() {
		var (
			a    kafkaplane.PolicyAttachment
			date int64
		)
		if err := rows.Scan(&a.AccountID, &a.UserName, &a.GroupName, &a.PolicyType, &a.PolicyName, &date); err != nil {
			return nil, wrap(op, err)
		}
		a.AttachDate = fromMicros(date)
		out = append(out, &a)
	}
	return out, wrap(op, rows.Err())
}
