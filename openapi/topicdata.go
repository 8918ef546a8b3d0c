package openapi

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Limits of the topic data actions (docs/alikafka-actions.md):
// QueryMessage answers at most queryMaxRecords records per partition and
// shows at most queryMaxBytes bytes of each key and value;
// BatchDeleteTopics takes at most MaxListItems topics.
const (
	queryMaxRecords  = 10
	queryMaxBytes    = 1024
	maxConfigNameLen = 128
	maxConfigValLen  = 1024
	maxBatchTopics   = MaxListItems
	maxTopicsDocLen  = maxBatchTopics * 70
)

// Query types of QueryMessage.
const (
	queryByOffset    = "byOffset"
	queryByTimestamp = "byTimestamp"
)

func (s *Instances) registerTopicData(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	topic := Param{Name: "Topic", Required: true, Validate: validName}
	g.Add(kafkaAction(Action{
		Name: "UpdateTopicConfig", RAMAction: "alikafka:UpdateTopic", Resource: instanceARN, QPS: 20,
		Params: []Param{instanceID, topic,
			{Name: "Config", Required: true, MaxLen: maxConfigNameLen},
			{Name: "Value", Required: true, MaxLen: maxConfigValLen},
		},
		Handler: s.updateTopicConfig,
	}))
	g.Add(kafkaAction(Action{
		Name: "BatchDeleteTopics", RAMAction: "alikafka:DeleteTopic", Resource: instanceARN, QPS: 20,
		Params: []Param{instanceID,
			{Name: "Topics", Kind: JSON, Required: true, MaxLen: maxTopicsDocLen},
		},
		Handler: s.batchDeleteTopics,
	}))
	g.Add(kafkaAction(Action{
		Name: "QueryMessage", RAMAction: "alikafka:QueryMessage", Resource: instanceARN, QPS: 10,
		Params: []Param{instanceID, topic,
			{Name: "QueryType", Required: true, Enum: []string{queryByOffset, queryByTimestamp}},
			{Name: "Partition", Kind: Integer, Min: 0, Max: math.MaxInt32},
			{Name: "Offset", Kind: Integer, Min: 0, Max: math.MaxInt64},
			{Name: "BeginTime", Kind: Integer, Min: 0, Max: math.MaxInt64},
		},
		Handler: s.queryMessage,
	}))
}

// serving loads the caller's instance and requires its brokers to serve
// reads: Running, or Upgrading (the roll keeps them serving).
func (s *Instances) serving(ctx context.Context, r *Request) (*kafkaplane.Instance, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if inst.ServiceStatus != kafkaplane.ServiceStatusRunning && inst.ServiceStatus != kafkaplane.ServiceStatusUpgrading {
		return nil, statusError(inst, r.Action.Name)
	}
	return inst, nil
}

// updateTopicConfig sets one topic config on the brokers, which check the
// name and value, and records it with the configs CreateTopic was given,
// so GetTopicList's TopicConfig shows it. Data is the value the brokers
// hold afterwards.
func (s *Instances) updateTopicConfig(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	name, key, value := r.String("Topic"), r.String("Config"), r.String("Value")
	now, err := s.Runtime.SetTopicConfig(ctx, inst.ID, name, key, value)
	if errors.Is(err, kafkaplane.ErrInvalidConfig) {
		return nil, apierr.Invalid("Config", "The brokers do not accept "+key+"="+value+" as a topic config.")
	}
	if err != nil {
		return nil, brokerError(inst, name, err)
	}
	err = s.changeTopic(ctx, inst, name, func(t *kafkaplane.Topic) error {
		if t.Config == nil {
			t.Config = map[string]string{}
		}
		t.Config[key] = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return Object{{"Data", now}}, nil
}

// removeTopic deletes a topic from the store and the brokers. Either side
// may hold the topic alone: a record whose broker topic a Kafka client
// deleted, or a broker topic no record was made for.
func (s *Instances) removeTopic(ctx context.Context, inst *kafkaplane.Instance, name string) error {
	recErr := s.Topics.DeleteTopic(ctx, inst.ID, name)
	if recErr != nil && kafkaplane.ErrorCode(recErr) != kafkaplane.CodeNotFound {
		return recErr
	}
	brErr := s.Runtime.DeleteTopic(ctx, inst.ID, name)
	if brErr != nil && !errors.Is(brErr, kafkaplane.ErrTopicNotFound) {
		return brokerError(inst, name, brErr)
	}
	if recErr != nil && brErr != nil {
		return apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", name, inst.ID)
	}
	return nil
}

// batchDeleteTopics deletes each topic of Topics (a JSON list of names) as
// DeleteTopic does and reports each one's outcome; the call succeeds when
// the list was valid, whatever the outcomes.
func (s *Instances) batchDeleteTopics(ctx context.Context, r *Request) (Object, error) {
	var names []string
	if err := json.Unmarshal([]byte(r.String("Topics")), &names); err != nil {
		return nil, apierr.Invalid("Topics", "It must be a JSON list of topic names.")
	}
	if len(names) == 0 || len(names) > maxBatchTopics {
		return nil, apierr.Invalid("Topics", "It must name 1 to "+strconv.Itoa(maxBatchTopics)+" topics.")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if why := validName(n); why != "" {
			return nil, apierr.Invalid("Topics", "The topic name "+strconv.Quote(n)+" is not valid. "+why)
		}
		if seen[n] {
			return nil, apierr.Invalid("Topics", "The topic "+n+" is named twice.")
		}
		seen[n] = true
	}
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	items := make([]Object, 0, len(names))
	ok := 0
	for _, n := range names {
		err := s.removeTopic(ctx, inst, n)
		var ke *kafkaplane.Error
		switch {
		case err == nil:
			ok++
			items = append(items, Object{
				{"Topic", n}, {"Success", true}, {"Code", 200}, {"Status", "Deleted"},
				{"Message", "The topic was deleted."}, {"DynamicCode", ""}, {"DynamicMessage", ""},
			})
		case errors.As(err, &ke):
			status := 400
			if d, found := apierr.Lookup(ke.Code); found {
				status = d.HTTPStatus
			}
			items = append(items, Object{
				{"Topic", n}, {"Success", false}, {"Code", status}, {"Status", "Failed"},
				{"Message", ke.Message}, {"DynamicCode", ke.Code}, {"DynamicMessage", ke.Message},
			})
		default:
			return nil, err
		}
	}
	return Object{{"Data", Object{
		{"Total", len(names)},
		{"SuccessCount", ok},
		{"FailedCount", len(names) - ok},
		{"Results", Object{{"TopicDeleteResultItemVO", items}}},
	}}}, nil
}

// queryMessage reads records as a consumer would. byOffset reads up to
// queryMaxRecords records of Partition from Offset; byTimestamp reads, from
// every partition, up to queryMaxRecords records from the first written at
// or after BeginTime. The parameters of the other query type are refused
// rather than ignored.
func (s *Instances) queryMessage(ctx context.Context, r *Request) (Object, error) {
	q := kafkaplane.RecordQuery{Topic: r.String("Topic"), Max: queryMaxRecords}
	switch r.String("QueryType") {
	case queryByOffset:
		for _, p := range []string{"Partition", "Offset"} {
			if !r.Has(p) {
				return nil, apierr.Missing(p)
			}
		}
		if r.Has("BeginTime") {
			return nil, apierr.Invalid("BeginTime", "It applies only to QueryType byTimestamp.")
		}
		q.Partition, q.Offset = int32(r.Int("Partition", 0)), int64Param(r, "Offset")
	case queryByTimestamp:
		if !r.Has("BeginTime") {
			return nil, apierr.Missing("BeginTime")
		}
		for _, p := range []string{"Partition", "Offset"} {
			if r.Has(p) {
				return nil, apierr.Invalid(p, "It applies only to QueryType byOffset.")
			}
		}
		q.ByTime, q.At = true, int64Param(r, "BeginTime")
	}
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	recs, err := s.Runtime.ReadRecords(ctx, inst.ID, q)
	if err != nil {
		return nil, brokerError(inst, q.Topic, err)
	}
	msgs := make([]Object, 0, len(recs))
	for _, rec := range recs {
		key, keyCut := clip(rec.Key)
		val, valCut := clip(rec.Value)
		tsType := "CreateTime"
		if rec.LogAppendTime {
			tsType = "LogAppendTime"
		}
		msgs = append(msgs, Object{
			{"Topic", rec.Topic},
			{"Partition", rec.Partition},
			{"Offset", rec.Offset},
			{"Timestamp", rec.Timestamp.UnixMilli()},
			{"TimestampType", tsType},
			{"Checksum", recordChecksum(rec)},
			{"Key", key},
			{"KeyTruncated", keyCut},
			{"SerializedKeySize", serializedSize(rec.Key)},
			{"TruncatedKeySize", len(key)},
			{"Value", val},
			{"ValueTruncated", valCut},
			{"SerializedValueSize", serializedSize(rec.Value)},
			{"TruncatedValueSize", len(val)},
		})
	}
	return Object{{"MessageList", msgs}}, nil
}

// int64Param reads an Integer parameter that validation bounded.
func int64Param(r *Request, name string) int64 {
	n, _ := strconv.ParseInt(r.String(name), 10, 64)
	return n
}

// clip is a key or value as QueryMessage shows it: at most queryMaxBytes
// bytes, cut at a character boundary, and whether it was cut.
func clip(b []byte) (string, bool) {
	if len(b) <= queryMaxBytes {
		return string(b), false
	}
	cut := queryMaxBytes
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]), true
}

// serializedSize is Kafka's size of a key or value: -1 for none.
func serializedSize(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordChecksum is the checksum Kafka's Java consumer reports for a record
// of the v2 format, which has no checksum of its own: CRC-32C of the
// timestamp and the serialized key and value sizes.
func recordChecksum(rec kafkaplane.Record) uint32 {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:], uint64(rec.Timestamp.UnixMilli()))
	binary.BigEndian.PutUint32(b[8:], uint32(int32(serializedSize(rec.Key))))
	binary.BigEndian.PutUint32(b[12:], uint32(int32(serializedSize(rec.Value))))
	return crc32.Checksum(b[:], castagnoli)
}
