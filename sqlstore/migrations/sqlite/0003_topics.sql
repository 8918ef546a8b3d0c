-- 0003_topics: the topics and consumer groups of instances. Rows reference
-- their instance with no cascade: instances are soft-deleted, so the row
-- an instance id names is never removed from under them. Flags are 0/1
-- integers, which database/sql scans into bool.

CREATE TABLE topics (
	instance_id   TEXT    NOT NULL REFERENCES instances (id),
	name          TEXT    NOT NULL,
	remark        TEXT    NOT NULL DEFAULT '',
	partition_num INTEGER NOT NULL DEFAULT 0,
	compact_topic INTEGER NOT NULL DEFAULT 0 CHECK (compact_topic IN (0, 1)),
	local_topic   INTEGER NOT NULL DEFAULT 0 CHECK (local_topic IN (0, 1)),
	tags          TEXT    NOT NULL DEFAULT '[]',
	create_time   INTEGER NOT NULL,
	modify_index  INTEGER NOT NULL,
	PRIMARY KEY (instance_id, name)
);
-- Serves ListTopics' order without a sort.
CREATE INDEX topics_created ON topics (instance_id, create_time, name);

CREATE TABLE consumer_groups (
	instance_id  TEXT    NOT NULL REFERENCES instances (id),
	consumer_id  TEXT    NOT NULL,
	remark       TEXT    NOT NULL DEFAULT '',
	tags         TEXT    NOT NULL DEFAULT '[]',
	create_time  INTEGER NOT NULL,
	modify_index INTEGER NOT NULL,
	PRIMARY KEY (instance_id, consumer_id)
);
-- Serves ListConsumerGroups' order without a sort.
CREATE INDEX consumer_groups_created ON consumer_groups (instance_id, create_time, consumer_id);
