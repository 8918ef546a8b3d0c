package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kafkaplane/kafkaplane"
)

// encodeTags stores tags in tagJSON's shape, the one format of every
// table's tags column.
func encodeTags(tags []kafkaplane.Tag) (string, error) {
	tj := make([]tagJSON, 0, len(tags))
	for _, t := range tags {
		tj = append(tj, tagJSON{Key: t.Key, Value: t.Value})
	}
	b, err := json.Marshal(tj)
	return string(b), err
}

// decodeTags reads a column written by encodeTags; no tags read as nil.
func decodeTags(s string) ([]kafkaplane.Tag, error) {
	var tj []tagJSON
	if err := json.Unmarshal([]byte(s), &tj); err != nil {
		return nil, err
	}
	var out []kafkaplane.Tag
	for _, t := range tj {
		out = append(out, kafkaplane.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// ---- topics ----

const topicColumns = `instance_id, name, remark, partition_num, compact_topic, local_topic, tags,
	create_time, modify_index, config`

func scanTopic(s scanner) (*kafkaplane.Topic, error) {
	var (
		t       kafkaplane.Topic
		parts   int64
		tags    string
		config  string
		created int64
	)
	if err := s.Scan(&t.InstanceID, &t.Name, &t.Remark, &parts, &t.CompactTopic, &t.LocalTopic, &tags,
		&created, &t.ModifyIndex, &config); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(config), &t.Config); err != nil {
		return nil, fmt.Errorf("topic %s of %s config: %w", t.Name, t.InstanceID, err)
	}
	if len(t.Config) == 0 {
		t.Config = nil
	}
	t.PartitionNum = int32(parts)
	t.CreateTime = fromMicros(created)
	var err error
	if t.Tags, err = decodeTags(tags); err != nil {
		return nil, fmt.Errorf("topic %s of %s tags: %w", t.Name, t.InstanceID, err)
	}
	return &t, nil
}

func topicNotFound(instanceID, name string) error {
	return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The topic %s does not exist in the instance %s.", name, instanceID)
}

// CreateTopic stores a new topic with ModifyIndex 1. A zero CreateTime is
// set from the store clock, and times are truncated in t as they are
// stored. A name the instance already has is CodeAlreadyExists; an
// instance id no row carries is CodeInstanceNotFound. A soft-deleted
// instance still has its row, so callers check that it is live first. A
// limit above zero caps the instance's topics (CodeLimitExceeded), counted
// in the same transaction as the insert.
func (db *DB) CreateTopic(ctx context.Context, t *kafkaplane.Topic, limit int) error {
	tags, err := encodeTags(t.Tags)
	if err != nil {
		return wrap("create topic", err)
	}
	cfg := t.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return wrap("create topic", err)
	}
	created := db.orNow(t.CreateTime)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.withinLimit(ctx, tx, limit, "topics/"+t.InstanceID, "topics on the instance",
			`SELECT count(*) FROM topics WHERE instance_id = $1`, t.InstanceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO topics (`+topicColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)`,
			t.InstanceID, t.Name, t.Remark, t.PartitionNum, t.CompactTopic, t.LocalTopic, tags, toMicros(created), string(config))
		return err
	})
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
		return err
	case isUniqueViolation(err):
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The topic %s already exists in the instance %s.", t.Name, t.InstanceID)
	case isForeignKeyViolation(err):
		return instanceNotFound(t.InstanceID)
	case err != nil:
		return wrap("create topic", err)
	}
	t.CreateTime, t.ModifyIndex = created, 1
	return nil
}

// FindTopic returns a topic of the instance, or CodeNotFound.
func (db *DB) FindTopic(ctx context.Context, instanceID, name string) (*kafkaplane.Topic, error) {
	t, err := scanTopic(db.queryRow(ctx, `SELECT `+topicColumns+` FROM topics
		WHERE instance_id = $1 AND name = $2`, instanceID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, topicNotFound(instanceID, name)
	}
	return t, wrap("find topic", err)
}

// ListTopics lists the instance's topics, oldest first; topics created in
// the same microsecond are ordered by name, so that pages are stable.
func (db *DB) ListTopics(ctx context.Context, instanceID string) ([]*kafkaplane.Topic, error) {
	return scanAll("list topics", scanTopic)(db.query(ctx, `SELECT `+topicColumns+` FROM topics
		WHERE instance_id = $1 ORDER BY create_time, name`, instanceID))
}

// UpdateTopic writes t's Remark, PartitionNum, Tags and Config if the stored
// ModifyIndex still equals t.ModifyIndex, then advances t.ModifyIndex. A
// stale index is CodeConflict; a topic that is gone is CodeNotFound. The
// flags and CreateTime are fixed at creation, as alikafka has no call
// that changes them.
func (db *DB) UpdateTopic(ctx context.Context, t *kafkaplane.Topic) error {
	tags, err := encodeTags(t.Tags)
	if err != nil {
		return wrap("update topic", err)
	}
	cfg := t.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return wrap("update topic", err)
	}
	res, err := db.exec(ctx, `UPDATE topics SET remark = $4, partition_num = $5, tags = $6,
		config = $7, modify_index = modify_index + 1
		WHERE instance_id = $1 AND name = $2 AND modify_index = $3`,
		t.InstanceID, t.Name, t.ModifyIndex, t.Remark, t.PartitionNum, tags, string(config))
	if err != nil {
		return wrap("update topic", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("update topic", err)
	}
	if !ok {
		found, err := exists(ctx, db.db, `SELECT 1 FROM topics WHERE instance_id = $1 AND name = $2`, t.InstanceID, t.Name)
		if err != nil {
			return wrap("update topic", err)
		}
		if !found {
			return topicNotFound(t.InstanceID, t.Name)
		}
		return kafkaplane.Errorf(kafkaplane.CodeConflict, "The topic %s of the instance %s was changed concurrently; retry.", t.Name, t.InstanceID)
	}
	t.ModifyIndex++
	return nil
}

// DeleteTopic removes a topic of the instance, or returns CodeNotFound.
func (db *DB) DeleteTopic(ctx context.Context, instanceID, name string) error {
	res, err := db.exec(ctx, `DELETE FROM topics WHERE instance_id = $1 AND name = $2`, instanceID, name)
	if err != nil {
		return wrap("delete topic", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("delete topic", err)
	}
	if !ok {
		return topicNotFound(instanceID, name)
	}
	return nil
}

// ---- consumer groups ----

const consumerGroupColumns = `instance_id, consumer_id, remark, tags, create_time, modify_index`

func scanConsumerGroup(s scanner) (*kafkaplane.ConsumerGroup, error) {
	var (
		g       kafkaplane.ConsumerGroup
		tags    string
		created int64
	)
	if err := s.Scan(&g.InstanceID, &g.ConsumerID, &g.Remark, &tags, &created, &g.ModifyIndex); err != nil {
		return nil, err
	}
	g.CreateTime = fromMicros(created)
	var err error
	if g.Tags, err = decodeTags(tags); err != nil {
		return nil, fmt.Errorf("consumer group %s of %s tags: %w", g.ConsumerID, g.InstanceID, err)
	}
	return &g, nil
}

func consumerGroupNotFound(instanceID, consumerID string) error {
	return kafkaplane.Errorf(kafkaplane.CodeNotFound, "The consumer group %s does not exist in the instance %s.", consumerID, instanceID)
}

// CreateConsumerGroup stores a new group with ModifyIndex 1. A zero
// CreateTime is set from the store clock, and times are truncated in g as
// they are stored. An id the instance already has is CodeAlreadyExists;
// an instance id no row carries is CodeInstanceNotFound. A soft-deleted
// instance still has its row, so callers check that it is live first. A
// limit above zero caps the instance's groups (CodeLimitExceeded), counted
// in the same transaction as the insert.
func (db *DB) CreateConsumerGroup(ctx context.Context, g *kafkaplane.ConsumerGroup, limit int) error {
	tags, err := encodeTags(g.Tags)
	if err != nil {
		return wrap("create consumer group", err)
	}
	created := db.orNow(g.CreateTime)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.withinLimit(ctx, tx, limit, "consumer_groups/"+g.InstanceID, "consumer groups on the instance",
			`SELECT count(*) FROM consumer_groups WHERE instance_id = $1`, g.InstanceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO consumer_groups (`+consumerGroupColumns+`) VALUES ($1, $2, $3, $4, $5, 1)`,
			g.InstanceID, g.ConsumerID, g.Remark, tags, toMicros(created))
		return err
	})
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
		return err
	case isUniqueViolation(err):
		return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The consumer group %s already exists in the instance %s.", g.ConsumerID, g.InstanceID)
	case isForeignKeyViolation(err):
		return instanceNotFound(g.InstanceID)
	case err != nil:
		return wrap("create consumer group", err)
	}
	g.CreateTime, g.ModifyIndex = created, 1
	return nil
}

// FindConsumerGroup returns a group of the instance, or CodeNotFound.
func (db *DB) FindConsumerGroup(ctx context.Context, instanceID, consumerID string) (*kafkaplane.ConsumerGroup, error) {
	g, err := scanConsumerGroup(db.queryRow(ctx, `SELECT `+consumerGroupColumns+` FROM consumer_groups
		WHERE instance_id = $1 AND consumer_id = $2`, instanceID, consumerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, consumerGroupNotFound(instanceID, consumerID)
	}
	return g, wrap("find consumer group", err)
}

// ListConsumerGroups lists the instance's groups, oldest first; groups
// created in the same microsecond are ordered by id, so that pages are
// stable.
func (db *DB) ListConsumerGroups(ctx context.Context, instanceID string) ([]*kafkaplane.ConsumerGroup, error) {
	return scanAll("list consumer groups", scanConsumerGroup)(db.query(ctx, `SELECT `+consumerGroupColumns+` FROM consumer_groups
		WHERE instance_id = $1 ORDER BY create_time, consumer_id`, instanceID))
}

// UpdateConsumerGroup writes g's Remark and Tags if the stored ModifyIndex
// still equals g.ModifyIndex, then advances g.ModifyIndex. A stale index
// is CodeConflict; a group that is gone is CodeNotFound.
func (db *DB) UpdateConsumerGroup(ctx context.Context, g *kafkaplane.ConsumerGroup) error {
	tags, err := encodeTags(g.Tags)
	if err != nil {
		return wrap("update consumer group", err)
	}
	res, err := db.exec(ctx, `UPDATE consumer_groups SET remark = $4, tags = $5, modify_index = modify_index + 1
		WHERE instance_id = $1 AND consumer_id = $2 AND modify_index = $3`,
		g.InstanceID, g.ConsumerID, g.ModifyIndex, g.Remark, tags)
	if err != nil {
		return wrap("update consumer group", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("update consumer group", err)
	}
	if !ok {
		found, err := exists(ctx, db.db, `SELECT 1 FROM consumer_groups WHERE instance_id = $1 AND consumer_id = $2`, g.InstanceID, g.ConsumerID)
		if err != nil {
			return wrap("update consumer group", err)
		}
		if !found {
			return consumerGroupNotFound(g.InstanceID, g.ConsumerID)
		}
		return kafkaplane.Errorf(kafkaplane.CodeConflict, "The consumer group %s of the instance %s was changed concurrently; retry.", g.ConsumerID, g.InstanceID)
	}
	g.ModifyIndex++
	return nil
}

// DeleteConsumerGroup removes a group of the instance, or returns
// CodeNotFound.
func (db *DB) DeleteConsumerGroup(ctx context.Context, instanceID, consumerID string) error {
	res, err := db.exec(ctx, `DELETE FROM consumer_groups WHERE instance_id = $1 AND consumer_id = $2`, instanceID, consumerID)
	if err != nil {
		return wrap("delete consumer group", err)
	}
	ok, err := oneRow(res)
	if err != nil {
		return wrap("delete consumer group", err)
	}
	if !ok {
		return consumerGroupNotFound(instanceID, consumerID)
	}
	return nil
}
