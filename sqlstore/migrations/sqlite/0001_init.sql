-- 0001_init: instances, operations, identities, nonces, GCRA state.
-- Times are unix microseconds (0 = unset) so that both engines round-trip
-- them exactly; list and map fields are JSON text. Every mutable row has a
-- modify_index that updates compare-and-set on.

CREATE TABLE instances (
	id                TEXT    NOT NULL PRIMARY KEY,
	account_id        TEXT    NOT NULL,
	region_id         TEXT    NOT NULL,
	order_id          TEXT    NOT NULL DEFAULT '',
	name              TEXT    NOT NULL DEFAULT '',
	paid_type         INTEGER NOT NULL DEFAULT 0,
	spec_type         TEXT    NOT NULL DEFAULT '',
	deploy_type       INTEGER NOT NULL DEFAULT 0,
	disk_type         INTEGER NOT NULL DEFAULT 0,
	disk_size         INTEGER NOT NULL DEFAULT 0,
	io_max            INTEGER NOT NULL DEFAULT 0,
	io_max_spec       TEXT    NOT NULL DEFAULT '',
	eip_max           INTEGER NOT NULL DEFAULT 0,
	topic_quota       INTEGER NOT NULL DEFAULT 0,
	partition_num     INTEGER NOT NULL DEFAULT 0,
	resource_group_id TEXT    NOT NULL DEFAULT '',
	tags              TEXT    NOT NULL DEFAULT '[]',
	vpc_id            TEXT    NOT NULL DEFAULT '',
	vswitch_id        TEXT    NOT NULL DEFAULT '',
	zone_id           TEXT    NOT NULL DEFAULT '',
	security_group    TEXT    NOT NULL DEFAULT '',
	service_status    INTEGER NOT NULL DEFAULT 0,
	view_status       INTEGER NOT NULL DEFAULT 0,
	version           TEXT    NOT NULL DEFAULT '',
	minor_version     TEXT    NOT NULL DEFAULT '',
	config            TEXT    NOT NULL DEFAULT '{}',
	broker_ports      TEXT    NOT NULL DEFAULT '[]',
	create_time       INTEGER NOT NULL,
	expired_time      INTEGER NOT NULL DEFAULT 0,
	deleted_at        INTEGER,
	modify_index      INTEGER NOT NULL
);
CREATE INDEX instances_account_region ON instances (account_id, region_id, create_time, id);
CREATE INDEX instances_order ON instances (account_id, order_id);

CREATE TABLE operations (
	id             TEXT    NOT NULL PRIMARY KEY,
	account_id     TEXT    NOT NULL,
	region_id      TEXT    NOT NULL,
	instance_id    TEXT    NOT NULL REFERENCES instances (id),
	type           TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	source_version TEXT    NOT NULL DEFAULT '',
	source_minor   TEXT    NOT NULL DEFAULT '',
	target_version TEXT    NOT NULL DEFAULT '',
	target_minor   TEXT    NOT NULL DEFAULT '',
	steps          TEXT    NOT NULL DEFAULT '[]',
	error_code     TEXT    NOT NULL DEFAULT '',
	error_message  TEXT    NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	lease_owner    TEXT    NOT NULL DEFAULT '',
	lease_until    INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	finished_at    INTEGER NOT NULL DEFAULT 0,
	modify_index   INTEGER NOT NULL
);
-- At most one active operation per instance: the database, not the caller,
-- decides which of many concurrent UpgradeInstanceVersion calls wins.
CREATE UNIQUE INDEX operations_one_active ON operations (instance_id)
	WHERE state IN ('PENDING', 'IN_PROGRESS');
CREATE INDEX operations_claim ON operations (created_at, id)
	WHERE state IN ('PENDING', 'IN_PROGRESS');
CREATE INDEX operations_account ON operations (account_id, created_at);

CREATE TABLE access_keys (
	id           TEXT    NOT NULL PRIMARY KEY,
	secret       TEXT    NOT NULL,
	account_id   TEXT    NOT NULL,
	user_name    TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL,
	create_date  INTEGER NOT NULL,
	modify_index INTEGER NOT NULL
);
CREATE INDEX access_keys_user ON access_keys (account_id, user_name);

CREATE TABLE users (
	account_id   TEXT    NOT NULL,
	user_name    TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	display_name TEXT    NOT NULL DEFAULT '',
	email        TEXT    NOT NULL DEFAULT '',
	mobile_phone TEXT    NOT NULL DEFAULT '',
	comments     TEXT    NOT NULL DEFAULT '',
	create_date  INTEGER NOT NULL,
	update_date  INTEGER NOT NULL,
	modify_index INTEGER NOT NULL,
	PRIMARY KEY (account_id, user_name)
);
CREATE UNIQUE INDEX users_user_id ON users (account_id, user_id);

CREATE TABLE policies (
	account_id      TEXT    NOT NULL,
	policy_type     TEXT    NOT NULL,
	policy_name     TEXT    NOT NULL,
	description     TEXT    NOT NULL DEFAULT '',
	document        TEXT    NOT NULL DEFAULT '',
	default_version TEXT    NOT NULL DEFAULT '',
	create_date     INTEGER NOT NULL,
	update_date     INTEGER NOT NULL,
	modify_index    INTEGER NOT NULL,
	PRIMARY KEY (account_id, policy_type, policy_name)
);

CREATE TABLE policy_attachments (
	account_id  TEXT    NOT NULL,
	user_name   TEXT    NOT NULL,
	policy_type TEXT    NOT NULL,
	policy_name TEXT    NOT NULL,
	attach_date INTEGER NOT NULL,
	PRIMARY KEY (account_id, user_name, policy_type, policy_name),
	FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, user_name) ON UPDATE CASCADE
);
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_type, policy_name, account_id);

CREATE TABLE nonces (
	access_key_id TEXT    NOT NULL,
	nonce         TEXT    NOT NULL,
	seen_at       INTEGER NOT NULL,
	PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces (seen_at);

CREATE TABLE gcra (
	key TEXT    NOT NULL PRIMARY KEY,
	tat INTEGER NOT NULL
);
