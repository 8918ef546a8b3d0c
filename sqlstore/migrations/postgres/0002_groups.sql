-- 0002_groups (PostgreSQL): the same schema as
-- migrations/sqlite/0002_groups.sql; only the column types differ.
-- RAM user groups, their members and their policy attachments. Memberships
-- and attachments follow a renamed user or group through ON UPDATE CASCADE,
-- as policy_attachments follows a renamed user; deletes are left to
-- NO ACTION so that a principal with members or grants cannot disappear
-- from under them.

CREATE TABLE groups (
	account_id   TEXT    NOT NULL,
	group_name   TEXT    NOT NULL,
	group_id     TEXT    NOT NULL,
	comments     TEXT    NOT NULL DEFAULT '',
	create_date  BIGINT  NOT NULL,
	update_date  BIGINT  NOT NULL,
	modify_index BIGINT  NOT NULL,
	PRIMARY KEY (account_id, group_name)
);
CREATE UNIQUE INDEX groups_group_id ON groups (account_id, group_id);

CREATE TABLE group_members (
	account_id TEXT    NOT NULL,
	group_name TEXT    NOT NULL,
	user_name  TEXT    NOT NULL,
	join_date  BIGINT  NOT NULL,
	PRIMARY KEY (account_id, group_name, user_name),
	FOREIGN KEY (account_id, group_name) REFERENCES groups (account_id, group_name) ON UPDATE CASCADE,
	FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, user_name) ON UPDATE CASCADE
);
-- Serves a user's groups (ListGroupsForUser, the groups in effect for a
-- request) and the foreign key's checks when a user is renamed or deleted.
CREATE INDEX group_members_user ON group_members (account_id, user_name);

CREATE TABLE group_policy_attachments (
	account_id  TEXT    NOT NULL,
	group_name  TEXT    NOT NULL,
	policy_type TEXT    NOT NULL,
	policy_name TEXT    NOT NULL,
	attach_date BIGINT  NOT NULL,
	PRIMARY KEY (account_id, group_name, policy_type, policy_name),
	FOREIGN KEY (account_id, group_name) REFERENCES groups (account_id, group_name) ON UPDATE CASCADE
);
CREATE INDEX group_policy_attachments_policy ON group_policy_attachments (policy_type, policy_name, account_id);
