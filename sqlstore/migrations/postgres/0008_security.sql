-- 0008_security (PostgreSQL): the same schema as migrations/sqlite/0008_security.sql
-- with BIGINT times.
-- the secure endpoints of instances. listener_ports holds
-- the SASL_PLAINTEXT and SASL_SSL ports ({"sasl":[…],"ssl":[…]}); the
-- tables hold SASL users (password sealed, credentials are salted
-- verifiers as JSON text), ACLs and allowlist entries. Rows reference their
-- instance with no cascade, as topics do.

ALTER TABLE instances ADD COLUMN listener_ports TEXT NOT NULL DEFAULT '{}';

CREATE TABLE sasl_users (
	id          TEXT    NOT NULL PRIMARY KEY,
	instance_id TEXT    NOT NULL REFERENCES instances (id),
	username    TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	mechanism   TEXT    NOT NULL DEFAULT '',
	password    TEXT    NOT NULL,
	credentials TEXT    NOT NULL,
	create_time BIGINT  NOT NULL,
	UNIQUE (instance_id, type, username)
);

CREATE TABLE acls (
	instance_id   TEXT    NOT NULL REFERENCES instances (id),
	username      TEXT    NOT NULL,
	resource_type TEXT    NOT NULL,
	resource_name TEXT    NOT NULL,
	pattern_type  TEXT    NOT NULL,
	operation     TEXT    NOT NULL,
	permission    TEXT    NOT NULL,
	host          TEXT    NOT NULL,
	create_time   BIGINT  NOT NULL,
	PRIMARY KEY (instance_id, username, resource_type, resource_name, pattern_type, operation, permission, host)
);

CREATE TABLE allowed_ips (
	instance_id TEXT    NOT NULL REFERENCES instances (id),
	list_type   TEXT    NOT NULL,
	port_range  TEXT    NOT NULL,
	ip          TEXT    NOT NULL,
	description TEXT    NOT NULL DEFAULT '',
	create_time BIGINT  NOT NULL,
	PRIMARY KEY (instance_id, list_type, port_range, ip)
);

-- Instances started before allowlists existed accepted every source on
-- their default endpoint; they keep doing so.
INSERT INTO allowed_ips (instance_id, list_type, port_range, ip, description, create_time)
	SELECT id, 'vpc', '9092/9092', '0.0.0.0/0', '', create_time FROM instances
	WHERE deleted_at IS NULL AND broker_ports <> '[]';
