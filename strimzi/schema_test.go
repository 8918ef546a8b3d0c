package strimzi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/strimzi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// field is one property of Strimzi's v1beta2 API as docs/strimzi.md lists
// it: its JSON type and, for enumerations, the values allowed.
type field struct {
	typ  string // string, integer, boolean, object, array
	enum []string
}

// schema holds, per kind, the fields kafkaplane writes or reads (paths
// with [] for array items). It is written from Strimzi's v1beta2 API
// reference (docs/strimzi.md), not derived from the code under test.
var schema = map[string]map[string]field{
	"Kafka": {
		"spec":                                   {typ: "object"},
		"spec.kafka":                             {typ: "object"},
		"spec.kafka.version":                     {typ: "string"},
		"spec.kafka.metadataVersion":             {typ: "string"},
		"spec.kafka.listeners":                   {typ: "array"},
		"spec.kafka.listeners[]":                 {typ: "object"},
		"spec.kafka.listeners[].name":            {typ: "string"},
		"spec.kafka.listeners[].port":            {typ: "integer"},
		"spec.kafka.listeners[].type":            {typ: "string", enum: []string{"internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"}},
		"spec.kafka.listeners[].tls":             {typ: "boolean"},
		"spec.kafka.config":                      {typ: "object"},
		"spec.kafka.config.*":                    {typ: "string"},
		"spec.entityOperator":                    {typ: "object"},
		"spec.entityOperator.topicOperator":      {typ: "object"},
		"spec.entityOperator.userOperator":       {typ: "object"},
		"status":                                 {typ: "object"},
		"status.conditions":                      {typ: "array"},
		"status.conditions[]":                    {typ: "object"},
		"status.conditions[].type":               {typ: "string"},
		"status.conditions[].status":             {typ: "string"},
		"status.conditions[].reason":             {typ: "string"},
		"status.conditions[].message":            {typ: "string"},
		"status.conditions[].lastTransitionTime": {typ: "string"},
		"status.observedGeneration":              {typ: "integer"},
		"status.listeners":                       {typ: "array"},
		"status.listeners[]":                     {typ: "object"},
		"status.listeners[].type":                {typ: "string"},
		"status.listeners[].name":                {typ: "string"},
		"status.listeners[].addresses":           {typ: "array"},
		"status.listeners[].addresses[]":         {typ: "object"},
		"status.listeners[].addresses[].host":    {typ: "string"},
		"status.listeners[].addresses[].port":    {typ: "integer"},
		"status.listeners[].bootstrapServers":    {typ: "string"},
		"status.kafkaNodePools":                  {typ: "array"},
		"status.kafkaNodePools[]":                {typ: "object"},
		"status.kafkaNodePools[].name":           {typ: "string"},
		"status.clusterId":                       {typ: "string"},
		"status.operatorLastSuccessfulVersion":   {typ: "string"},
		"status.kafkaVersion":                    {typ: "string"},
		"status.kafkaMetadataVersion":            {typ: "string"},
		"status.kafkaMetadataState":              {typ: "string", enum: []string{"PreKRaft", "ZooKeeper", "KRaftMigration", "KRaftDualWriting", "KRaftPostMigration", "KRaft"}},
	},
	"KafkaNodePool": {
		"spec":                                 {typ: "object"},
		"spec.replicas":                        {typ: "integer"},
		"spec.roles":                           {typ: "array"},
		"spec.roles[]":                         {typ: "string", enum: []string{"controller", "broker"}},
		"spec.storage":                         {typ: "object"},
		"spec.storage.type":                    {typ: "string", enum: []string{"ephemeral", "persistent-claim", "jbod"}},
		"spec.storage.volumes":                 {typ: "array"},
		"spec.storage.volumes[]":               {typ: "object"},
		"spec.storage.volumes[].id":            {typ: "integer"},
		"spec.storage.volumes[].type":          {typ: "string", enum: []string{"ephemeral", "persistent-claim"}},
		"spec.storage.volumes[].size":          {typ: "string"},
		"spec.storage.volumes[].class":         {typ: "string"},
		"spec.storage.volumes[].deleteClaim":   {typ: "boolean"},
		"spec.storage.volumes[].kraftMetadata": {typ: "string", enum: []string{"shared"}},
		"status":                               {typ: "object"},
		"status.observedGeneration":            {typ: "integer"},
		"status.nodeIds":                       {typ: "array"},
		"status.nodeIds[]":                     {typ: "integer"},
		"status.clusterId":                     {typ: "string"},
		"status.roles":                         {typ: "array"},
		"status.roles[]":                       {typ: "string", enum: []string{"controller", "broker"}},
		"status.replicas":                      {typ: "integer"},
		"status.labelSelector":                 {typ: "string"},
	},
	"KafkaTopic": {
		"spec":                                   {typ: "object"},
		"spec.topicName":                         {typ: "string"},
		"spec.partitions":                        {typ: "integer"},
		"spec.replicas":                          {typ: "integer"},
		"spec.config":                            {typ: "object"},
		"spec.config.*":                          {typ: "string"},
		"status":                                 {typ: "object"},
		"status.conditions":                      {typ: "array"},
		"status.conditions[]":                    {typ: "object"},
		"status.conditions[].type":               {typ: "string"},
		"status.conditions[].status":             {typ: "string"},
		"status.conditions[].reason":             {typ: "string"},
		"status.conditions[].message":            {typ: "string"},
		"status.conditions[].lastTransitionTime": {typ: "string"},
		"status.observedGeneration":              {typ: "integer"},
		"status.topicName":                       {typ: "string"},
		"status.topicId":                         {typ: "string"},
	},
	"KafkaUser": {
		"spec":                                   {typ: "object"},
		"spec.authentication":                    {typ: "object"},
		"spec.authentication.type":               {typ: "string", enum: []string{"tls", "tls-external", "scram-sha-512"}},
		"spec.authentication.password":           {typ: "object"},
		"spec.authentication.password.valueFrom": {typ: "object"},
		"spec.authentication.password.valueFrom.secretKeyRef":      {typ: "object"},
		"spec.authentication.password.valueFrom.secretKeyRef.name": {typ: "string"},
		"spec.authentication.password.valueFrom.secretKeyRef.key":  {typ: "string"},
		"spec.authorization":                             {typ: "object"},
		"spec.authorization.type":                        {typ: "string", enum: []string{"simple"}},
		"spec.authorization.acls":                        {typ: "array"},
		"spec.authorization.acls[]":                      {typ: "object"},
		"spec.authorization.acls[].type":                 {typ: "string", enum: []string{"allow", "deny"}},
		"spec.authorization.acls[].resource":             {typ: "object"},
		"spec.authorization.acls[].resource.type":        {typ: "string", enum: []string{"topic", "group", "cluster", "transactionalId"}},
		"spec.authorization.acls[].resource.name":        {typ: "string"},
		"spec.authorization.acls[].resource.patternType": {typ: "string", enum: []string{"literal", "prefix"}},
		"spec.authorization.acls[].host":                 {typ: "string"},
		"spec.authorization.acls[].operations":           {typ: "array"},
		"spec.authorization.acls[].operations[]":         {typ: "string", enum: []string{"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"}},
		"status":                                         {typ: "object"},
		"status.conditions":                              {typ: "array"},
		"status.conditions[]":                            {typ: "object"},
		"status.conditions[].type":                       {typ: "string"},
		"status.conditions[].status":                     {typ: "string"},
		"status.conditions[].reason":                     {typ: "string"},
		"status.conditions[].message":                    {typ: "string"},
		"status.conditions[].lastTransitionTime":         {typ: "string"},
		"status.observedGeneration":                      {typ: "integer"},
		"status.username":                                {typ: "string"},
		"status.secret":                                  {typ: "string"},
	},
}

// metadataFields are the ObjectMeta fields kafkaplane writes.
var metadataFields = map[string]field{
	"metadata":               {typ: "object"},
	"metadata.name":          {typ: "string"},
	"metadata.labels":        {typ: "object"},
	"metadata.labels.*":      {typ: "string"},
	"metadata.annotations":   {typ: "object"},
	"metadata.annotations.*": {typ: "string"},
}

// checkSchema walks obj and reports every field that the schema of its
// kind does not have, or has with another type or outside its enum.
// Server-set metadata (uid, resourceVersion, …) is skipped when server is
// true.
func checkSchema(t *testing.T, obj map[string]any, server bool) {
	t.Helper()
	kind, _ := obj["kind"].(string)
	fields, ok := schema[kind]
	if !ok {
		t.Fatalf("no schema for kind %q", kind)
	}
	if obj["apiVersion"] != "kafka.strimzi.io/v1beta2" {
		t.Errorf("%s apiVersion = %v", kind, obj["apiVersion"])
	}
	lookup := func(path string) (field, bool) {
		if f, ok := fields[path]; ok {
			return f, true
		}
		if f, ok := metadataFields[path]; ok {
			return f, true
		}
		return field{}, false
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if server && strings.HasPrefix(path, "metadata.") && !strings.HasPrefix(path, "metadata.labels") && !strings.HasPrefix(path, "metadata.annotations") && path != "metadata.name" {
			return
		}
		f, ok := lookup(path)
		if !ok {
			t.Errorf("%s: field %s is not in Strimzi's v1beta2 API as docs/strimzi.md lists it", kind, path)
			return
		}
		if got := jsonType(v); got != f.typ {
			t.Errorf("%s: %s is %s, the API says %s", kind, path, got, f.typ)
		}
		if len(f.enum) > 0 && !slices.Contains(f.enum, fmt.Sprint(v)) {
			t.Errorf("%s: %s = %v, not one of %v", kind, path, v, f.enum)
		}
		switch x := v.(type) {
		case map[string]any:
			// Free-form maps (configs, labels, annotations) have keys
			// with dots of their own; their values share one type.
			if each, ok := lookup(path + ".*"); ok {
				for k, c := range x {
					if got := jsonType(c); got != each.typ {
						t.Errorf("%s: %s[%q] is %s, the API says %s", kind, path, k, got, each.typ)
					}
				}
				return
			}
			for k, c := range x {
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path+"[]", c)
			}
		}
	}
	for k, v := range obj {
		if k == "apiVersion" || k == "kind" {
			continue
		}
		walk(k, v)
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, int:
		return "integer"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// rendered returns the resources kafkaplane writes for a sample instance.
func rendered() map[string]*unstructured.Unstructured {
	id := "alikafka_post-cn-golden01"
	return map[string]*unstructured.Unstructured{
		"kafka": strimzi.RenderKafka(strimzi.KafkaSettings{InstanceID: id, KafkaVersion: "4.0.0", MetadataVersion: "4.0",
			Config: map[string]string{"kafka.log.retention.hours": "72", "kafka.message.max.bytes": "1048576", "enable.vpc_sasl_ssl": "false"}}),
		"kafkanodepool": strimzi.RenderNodePool(strimzi.NodePoolSettings{InstanceID: id, Replicas: 3, StorageSize: "500Gi", StorageClass: "standard"}),
		"kafkatopic":    strimzi.RenderTopic(id, "Orders_v2", 12, 3, map[string]string{"cleanup.policy": "compact"}),
		"kafkauser": strimzi.RenderUser(id, strimzi.UserSpec{Name: "alice", PasswordSecret: "alice-password", ACLs: []strimzi.ACL{
			{ResourceType: "topic", Name: "orders", Operations: []string{"Read", "Describe"}},
			{ResourceType: "group", Name: "app-", PatternType: "prefix", Operations: []string{"Read"}},
			{ResourceType: "cluster", Operations: []string{"IdempotentWrite"}, Deny: true},
		}}),
	}
}

// TestRenderedResourcesGolden pins the rendered resources byte for byte.
func TestRenderedResourcesGolden(t *testing.T) {
	names := make([]string, 0)
	objs := rendered()
	for n := range objs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		got, err := json.MarshalIndent(objs[n].Object, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", n+".golden.json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", n, path, got)
		}
	}
}

// TestRenderedResourcesMatchStrimziAPI checks every field kafkaplane
// writes against the v1beta2 API's names, types and enums.
func TestRenderedResourcesMatchStrimziAPI(t *testing.T) {
	for n, obj := range rendered() {
		t.Run(n, func(t *testing.T) {
			var decoded map[string]any
			b, _ := json.Marshal(obj.Object)
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatal(err)
			}
			checkSchema(t, decoded, false)
		})
	}
}

// TestDoubleStatusMatchesStrimziAPI checks that the API double's status
// fields, which the runtime reads, are the API's: a double that invented
// fields would let the runtime read what no Strimzi writes.
func TestDoubleStatusMatchesStrimziAPI(t *testing.T) {
	rt, srv := newRuntime(t)
	ctx := ctxT(t)
	start(t, rt, "0.10.2")
	if err := rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "orders", Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	if err := rt.EnsureUser(ctx, inst, strimzi.UserSpec{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	for _, res := range []string{"kafkas", "kafkanodepools", "kafkatopics", "kafkausers"} {
		objs := srv.List(res, ns)
		if len(objs) == 0 {
			t.Fatalf("no %s", res)
		}
		for _, o := range objs {
			if o["status"] == nil {
				t.Errorf("%s %v has no status", res, o["metadata"])
			}
			checkSchema(t, o, true)
		}
	}
}
