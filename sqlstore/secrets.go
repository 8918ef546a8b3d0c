package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kafkaplane/kafkaplane/sealer"
)

// Secret columns are stored sealed (package sealer: AES-256-GCM, a random
// nonce per value, the "kps1:" prefix) with the store's key, which is kept
// outside the database. Each value is bound to its table, column and row
// id, so a sealed secret copied to another row does not open there.
// sealedColumns lists every such column; sealSecrets and the
// conformance suite go through it, so a secret column added later (SASL
// passwords) is one more row here.
var sealedColumns = []sealedColumn{
	{table: "access_keys", column: "secret", id: "id"},
	{table: "sasl_users", column: "password", id: "id"},
}

type sealedColumn struct {
	table, column, id string
}

// context is what a value of the column in row id is bound to.
func (c sealedColumn) context(id string) string {
	return c.table + "." + c.column + "/" + id
}

var (
	accessKeySecret  = sealedColumns[0]
	saslUserPassword = sealedColumns[1]
)

// seal returns the stored form of a secret of column c in row id.
func (db *DB) seal(c sealedColumn, id, plaintext string) string {
	return db.sealer.Seal(plaintext, c.context(id))
}

// unseal returns the secret a stored value of column c in row id holds.
func (db *DB) unseal(c sealedColumn, id, stored string) (string, error) {
	v, err := db.sealer.Open(stored, c.context(id))
	if err != nil {
		return "", fmt.Errorf("%s.%s of %s: %w", c.table, c.column, id, err)
	}
	return v, nil
}

// sealSecrets runs at Open, after the schema migrations. It checks that the
// key opens every sealed value, and seals values still in plaintext (from a
// database written before secrets were sealed), in one transaction under
// the migration lock. On SQLite it then truncates the write-ahead log, which
// still holds the pages with the plaintext.
func (db *DB) sealSecrets(ctx context.Context) error {
	sealed := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if db.d.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, db.d.migrationLock); err != nil {
				return err
			}
		}
		for _, c := range sealedColumns {
			type row struct{ id, value string }
			scanRow := func(s scanner) (r row, err error) { return r, s.Scan(&r.id, &r.value) }
			rows, err := scanAll("read "+c.table+" secrets", scanRow)(tx.QueryContext(ctx, `SELECT `+c.id+`, `+c.column+` FROM `+c.table))
			if err != nil {
				return err
			}
			for _, r := range rows {
				if sealer.IsSealed(r.value) {
					if _, err := db.unseal(c, r.id, r.value); err != nil {
						return fmt.Errorf("the secrets key does not open the stored secrets (is it the key this database was written with?): %w", err)
					}
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = $1 WHERE `+c.id+` = $2`,
					db.seal(c, r.id, r.value), r.id); err != nil {
					return err
				}
				sealed++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: seal secrets: %w", err)
	}
	if sealed > 0 && db.d.engine == EngineSQLite {
		if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("sqlstore: seal secrets: checkpoint: %w", err)
		}
	}
	return nil
}
