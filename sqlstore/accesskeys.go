package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kafkaplane/kafkaplane"
)

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
	return scanAll("list access keys", db.scanAccessKey)(db.query(ctx, `SELECT `+accessKeyColumns+` FROM access_keys
		WHERE account_id = $1 AND user_name = $2 ORDER BY create_date, id`, accountID, userName))
}
