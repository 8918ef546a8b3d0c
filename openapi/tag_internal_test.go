package openapi

import "testing"

func TestParseResourceID(t *testing.T) {
	for _, tc := range []struct {
		typ, id        string
		ok             bool
		instance, name string
	}{
		{"instance", "alikafka_post-cn-abc", true, "alikafka_post-cn-abc", ""},
		{"INSTANCE", "alikafka_pre-cn-abc", true, "alikafka_pre-cn-abc", ""},
		{"TOPIC", "Kafka_alikafka_post-cn-abc_orders", true, "alikafka_post-cn-abc", "orders"},
		{"topic", "Kafka_alikafka_post-cn-abc_orders_dlq", true, "alikafka_post-cn-abc", "orders_dlq"},
		{"CONSUMERGROUP", "Kafka_alikafka_post-cn-abc_CID_a", true, "alikafka_post-cn-abc", "CID_a"},
		{"TOPIC", "Kafka_other-id_orders", true, "other-id", "orders"},
		{"TOPIC", "orders", false, "", ""},
		{"TOPIC", "Kafka_alikafka_post-cn-abc", false, "", ""},
		{"TOPIC", "Kafka_alikafka_post-cn-abc_", false, "", ""},
		{"TOPIC", "Kafka_alikafka_", false, "", ""},
		{"TOPIC", "Kafka__orders", false, "", ""},
		{"instance", "", false, "", ""},
	} {
		got, ok := parseResourceID(tc.typ, tc.id)
		if ok != tc.ok || (ok && (got.instanceID != tc.instance || got.name != tc.name)) {
			t.Errorf("parseResourceID(%s, %q) = %+v, %v; want %s %s %v", tc.typ, tc.id, got, ok, tc.instance, tc.name, tc.ok)
		}
	}
}
