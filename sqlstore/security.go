package sqlstore

import (
	"context"
	"database/sql"

	"github.com/kafkaplane/kafkaplane"
)

// ---- SASL users ----

// saslUserID is a user's row id, which its sealed password is bound to.
func saslUserID(instanceID, typ, username string) string {
	return instanceID + "/" + typ + "/" + username
}

// PutSaslUser creates the user or, when the instance has one of that type
// and name, replaces its mechanism, password and credentials (CreateSaslUser
// of an existing user changes its password). Only a new user counts
// against limit. The password is sealed; a zero CreateTime is set from the
// store clock, and a replaced user keeps its creation time.
func (db *DB) PutSaslUser(ctx context.Context, u *kafkaplane.SaslUserRecord, limit int) error {
	id := saslUserID(u.InstanceID, u.Type, u.Username)
	created := db.orNow(u.CreateTime)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sasl_users WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if found {
			_, err = tx.ExecContext(ctx, `UPDATE sasl_users SET mechanism = $2, password = $3, credentials = $4 WHERE id = $1`,
				id, u.Mechanism, db.seal(saslUserPassword, id, u.Password), u.Credentials)
			return err
		}
		if err := db.withinLimit(ctx, tx, limit, "sasl_users/"+u.InstanceID, "SASL users on the instance",
			`SELECT count(*) FROM sasl_users WHERE instance_id = $1`, u.InstanceID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sasl_users (id, instance_id, username, type, mechanism, password, credentials, create_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, u.InstanceID, u.Username, u.Type, u.Mechanism, db.seal(saslUserPassword, id, u.Password), u.Credentials, toMicros(created))
		return err
	})
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
		return err
	case isForeignKeyViolation(err):
		return instanceNotFound(u.InstanceID)
	case err != nil:
		return wrap("put SASL user", err)
	}
	u.CreateTime = created
	return nil
}

// DeleteSaslUser removes a user, or returns CodeNotFound.
func (db *DB) DeleteSaslUser(ctx context.Context, instanceID, typ, username string) error {
	res, err := db.exec(ctx, `DELETE FROM sasl_users WHERE id = $1`, saslUserID(instanceID, typ, username))
	if err != nil {
		return wrap("delete SASL user", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("delete SASL user", err)
	}
	if !ok {
		return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The SASL user %s does not exist in the instance %s.", username, instanceID)
	}
	return nil
}

// ListSaslUsers lists an instance's users ordered by name and type, with
// their passwords unsealed.
func (db *DB) ListSaslUsers(ctx context.Context, instanceID string) ([]*kafkaplane.SaslUserRecord, error) {
	scan := func(s scanner) (*kafkaplane.SaslUserRecord, error) {
		var (
			u           kafkaplane.SaslUserRecord
			id, sealed  string
			createdTime int64
		)
		if err := s.Scan(&id, &u.InstanceID, &u.Username, &u.Type, &u.Mechanism, &sealed, &u.Credentials, &createdTime); err != nil {
			return nil, err
		}
		var err error
		if u.Password, err = db.unseal(saslUserPassword, id, sealed); err != nil {
			return nil, err
		}
		u.CreateTime = fromMicros(createdTime)
		return &u, nil
	}
	return scanAll("list SASL users", scan)(db.query(ctx, `SELECT id, instance_id, username, type, mechanism, password, credentials, create_time
		FROM sasl_users WHERE instance_id = $1 ORDER BY username, type`, instanceID))
}

// ---- ACLs ----

const aclKey = `instance_id = $1 AND username = $2 AND resource_type = $3 AND resource_name = $4
	AND pattern_type = $5 AND operation = $6 AND permission = $7 AND host = $8`

func aclArgs(a *kafkaplane.ACLRecord) []any {
	return []any{a.InstanceID, a.Username, a.ResourceType, a.ResourceName, a.PatternType, a.Operation, a.Permission, a.Host}
}

// CreateACL stores an ACL; the same ACL twice is CodeAlreadyExists.
func (db *DB) CreateACL(ctx context.Context, a *kafkaplane.ACLRecord, limit int) error {
	created := db.orNow(a.CreateTime)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.withinLimit(ctx, tx, limit, "acls/"+a.InstanceID, "ACLs on the instance",
			`SELECT count(*) FROM acls WHERE instance_id = $1`, a.InstanceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO acls (instance_id, username, resource_type, resource_name,
			pattern_type, operation, permission, host, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			append(aclArgs(a), toMicros(created))...)
		return err
	})
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
		return err
	case isUniqueViolation(err):
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The ACL already exists in the instance %s.", a.InstanceID)
	case isForeignKeyViolation(err):
		return instanceNotFound(a.InstanceID)
	case err != nil:
		return wrap("create ACL", err)
	}
	a.CreateTime = created
	return nil
}

// DeleteACL removes the ACL equal to a, or returns CodeNotFound.
func (db *DB) DeleteACL(ctx context.Context, a *kafkaplane.ACLRecord) error {
	res, err := db.exec(ctx, `DELETE FROM acls WHERE `+aclKey, aclArgs(a)...)
	if err != nil {
		return wrap("delete ACL", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("delete ACL", err)
	}
	if !ok {
		return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The ACL does not exist in the instance %s.", a.InstanceID)
	}
	return nil
}

func scanACL(s scanner) (*kafkaplane.ACLRecord, error) {
	var (
		a       kafkaplane.ACLRecord
		created int64
	)
	if err := s.Scan(&a.InstanceID, &a.Username, &a.ResourceType, &a.ResourceName, &a.PatternType,
		&a.Operation, &a.Permission, &a.Host, &created); err != nil {
		return nil, err
	}
	a.CreateTime = fromMicros(created)
	return &a, nil
}

// ListACLs lists an instance's ACLs, oldest first.
func (db *DB) ListACLs(ctx context.Context, instanceID string) ([]*kafkaplane.ACLRecord, error) {
	return scanAll("list ACLs", scanACL)(db.query(ctx, `SELECT instance_id, username, resource_type, resource_name, pattern_type,
		operation, permission, host, create_time FROM acls WHERE instance_id = $1
		ORDER BY create_time, username, resource_type, resource_name, pattern_type, operation, permission, host`, instanceID))
}

// ---- allowlists ----

// AddAllowedIPs adds entries to one list of one instance in a transaction;
// an entry already there is left as it is. limit caps the list's entries
// after the addition.
func (db *DB) AddAllowedIPs(ctx context.Context, entries []kafkaplane.AllowedIP, limit int) error {
	if len(entries) == 0 {
		return nil
	}
	first := entries[0]
	created := db.orNow(first.CreateTime)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if db.d.engine == EnginePostgres && limit > 0 {
			// Serialises additions to one list, so that two of them cannot
			// both count before either inserts.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "allowed_ips/"+first.InstanceID); err != nil {
				return err
			}
		}
		for _, e := range entries {
			_, err := tx.ExecContext(ctx, `INSERT INTO allowed_ips (instance_id, list_type, port_range, ip, description, create_time)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (instance_id, list_type, port_range, ip) DO NOTHING`,
				e.InstanceID, e.ListType, e.PortRange, e.IP, e.Description, toMicros(created))
			if err != nil {
				return err
			}
		}
		// Counted after the inserts, in the same transaction: more than
		// limit rolls all of them back.
		if limit <= 0 {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM allowed_ips
			WHERE instance_id = $1 AND list_type = $2 AND port_range = $3`,
			first.InstanceID, first.ListType, first.PortRange).Scan(&n); err != nil {
			return err
		}
		if n > limit {
			return kafkaplane.Errorf(kafkaplane.CodeLimitExceeded, "The allowlist would hold %d entries; at most %d are allowed.", n, limit)
		}
		return nil
	})
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
		return err
	case isForeignKeyViolation(err):
		return instanceNotFound(first.InstanceID)
	}
	return wrap("add allowed IPs", err)
}

// DeleteAllowedIPs removes entries of one list; absent ones are ignored.
func (db *DB) DeleteAllowedIPs(ctx context.Context, instanceID, listType, portRange string, ips []string) error {
	return wrap("delete allowed IPs", db.inTx(ctx, func(tx *sql.Tx) error {
		for _, ip := range ips {
			if _, err := tx.ExecContext(ctx, `DELETE FROM allowed_ips
				WHERE instance_id = $1 AND list_type = $2 AND port_range = $3 AND ip = $4`,
				instanceID, listType, portRange, ip); err != nil {
				return err
			}
		}
		return nil
	}))
}

func scanAllowedIP(s scanner) (*kafkaplane.AllowedIP, error) {
	var (
		e       kafkaplane.AllowedIP
		created int64
	)
	if err := s.Scan(&e.InstanceID, &e.ListType, &e.PortRange, &e.IP, &e.Description, &created); err != nil {
		return nil, err
	}
	e.CreateTime = fromMicros(created)
	return &e, nil
}

// ListAllowedIPs lists an instance's allowlist entries, oldest first.
func (db *DB) ListAllowedIPs(ctx context.Context, instanceID string) ([]*kafkaplane.AllowedIP, error) {
	return scanAll("list allowed IPs", scanAllowedIP)(db.query(ctx, `SELECT instance_id, list_type, port_range, ip, description, create_time
		FROM allowed_ips WHERE instance_id = $1 ORDER BY create_time, list_type, port_range, ip`, instanceID))
}

var _ kafkaplane.SecurityService = (*DB)(nil)
