package openapi

import (
	"maps"
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

func TestTopicConfigs(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want map[string]string
		code string
	}{
		{"", map[string]string{}, ""},
		{`{"retention.ms": 86400000, "cleanup.policy": "delete", "preallocate": false}`,
			map[string]string{"retention.ms": "86400000", "cleanup.policy": "delete", "preallocate": "false"}, ""},
		{`{"max.message.bytes": 1.5}`, map[string]string{"max.message.bytes": "1.5"}, ""},
		{`[1,2]`, nil, "InvalidConfig"},
		{`{"a": {"b": 1}}`, nil, "InvalidConfig"},
		{`{"a": null}`, nil, "InvalidConfig"},
	} {
		got, err := topicConfigs(c.doc)
		if code := kafkaplane.ErrorCode(err); code != c.code || (c.code == "" && !maps.Equal(got, c.want)) {
			t.Errorf("topicConfigs(%s) = %v, %v; want %v, code %q", c.doc, got, err, c.want, c.code)
		}
	}
}
