-- 0003_topics (PostgreSQL): the same schema as
-- migrations/sqlite/0003_topics.sql; only the column types differ. Flags
-- are BOOLEAN here: pgx binds a Go bool only to a boolean column.
-- The topics and consumer groups of instances. Rows reference their
-- instance with no cascade: instances are soft-deleted, so the row an
-- instance id names is never removed from under them.

CREATE TABLE topics (
	instance_id   TEXT    NOT NULL REFERENCES instances (id),
	name          TEXT    NOT NULL,
	remark        TEXT    NOT NULL DEFAULT '',
	partition_num BIGINT  NOT NULL DEFAULT 0,
	compact_topic BOOLEAN NOT NULL DEFAULT FALSE,
	local_topic   BOOLEAN NOT NULL DEFAULT FALSE,
	tags          TEXT    NOT NULL DEFAULT '[]',
	create_time   BIGINT  NOT NULL,
	modify_index  BIGINT  NOT NULL,
	PRIMARY KEY (instance_id, name)
);
-- Serves ListTopics' order without a sort.
CREATE INDEX topics_created ON topics (instance_id, create_time, name);

CREATE TABLE consumer_groups (
	instance_id  TEXT    NOT NULL REFERENCES instances (id),
	consumer_id  TEXT    NOT NULL,
	remark       TEXT    NOT NULL DEFAULT '',
	tags         TEXT    NOT NULL DEFAULT '[]',
	create_time  BIGINT  NOT NULL,
	modify_index BIGINT  NOT NULL,
	PRIMARY KEY (instance_id, consumer_id)
);
-- Serves ListConsumerGroups' order without a sort.
CREATE INDEX consumer_groups_created ON consumer_groups (instance_id, create_time, consumer_id);
