-- 0007_deployment: what StartInstance was told beyond the vSwitch and zone
-- (JSON text of kafkaplane.Deployment), and EnableAutoGroupCreation's
-- switch.

ALTER TABLE instances ADD COLUMN deployment TEXT NOT NULL DEFAULT '{}';
ALTER TABLE instances ADD COLUMN auto_create_group BOOLEAN NOT NULL DEFAULT FALSE;

-- The topic configs CreateTopic was given (JSON text of a string map),
-- which GetTopicList shows as TopicConfig.
ALTER TABLE topics ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
