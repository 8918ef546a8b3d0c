package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metadataFor asks the fronts about one topic, allowing automatic
// creation, and returns the topic's error code and partition count.
func metadataFor(t *testing.T, cl *kgo.Client, topic string) (int16, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	for _, rt := range resp.Topics {
		if rt.Topic != nil && *rt.Topic == topic {
			return rt.ErrorCode, len(rt.Partitions)
		}
	}
	t.Fatalf("metadata answer lacks %s", topic)
	return 0, 0
}

// TestAutoCreateTopicsFollowsConfig: AllConfig's auto.create.topics.enable
// and num.partitions decide, without a restart, whether a client's
// Metadata request creates an unknown topic and with how many partitions,
// on both versions (0.10.2's Metadata always allows creation).
func TestAutoCreateTopicsFollowsConfig(t *testing.T) {
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			k := newRuntime(t, t.TempDir())
			t.Cleanup(func() { k.Close() })
			id := "auto-" + version
			addrs := startInstance(t, k, id, version, freePorts(t, 3))
			cl := newClient(t, addrs, kgo.MaxVersions(versionOf(version)))

			if code, _ := metadataFor(t, cl, "off-topic"); code != kerr.UnknownTopicOrPartition.Code {
				t.Fatalf("auto-creation off: error %d, want UNKNOWN_TOPIC_OR_PARTITION", code)
			}
			ctx := context.Background()
			if err := k.ApplyConfig(ctx, id, map[string]string{"auto.create.topics.enable": "true", "num.partitions": "3"}); err != nil {
				t.Fatal(err)
			}
			if code, n := metadataFor(t, cl, "on-topic"); code != 0 || n != 3 {
				t.Fatalf("auto-creation on: error %d, %d partitions; want 0 and 3", code, n)
			}
			if _, ok := findTopic(listTopics(t, k, id), "on-topic"); !ok {
				t.Fatal("the created topic is not in storage")
			}
			if err := k.ApplyConfig(ctx, id, map[string]string{"auto.create.topics.enable": "false"}); err != nil {
				t.Fatal(err)
			}
			if code, _ := metadataFor(t, cl, "off-again"); code != kerr.UnknownTopicOrPartition.Code {
				t.Fatalf("auto-creation off again: error %d", code)
			}
		})
	}
}
