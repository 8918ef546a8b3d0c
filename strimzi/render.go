package strimzi

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The resources the runtime reads and writes. Strimzi's are
// kafka.strimzi.io/v1beta2; see docs/strimzi.md for the fields used.
var (
	KafkaGVR     = schema.GroupVersionResource{Group: "kafka.strimzi.io", Version: "v1beta2", Resource: "kafkas"}
	NodePoolGVR  = schema.GroupVersionResource{Group: "kafka.strimzi.io", Version: "v1beta2", Resource: "kafkanodepools"}
	TopicGVR     = schema.GroupVersionResource{Group: "kafka.strimzi.io", Version: "v1beta2", Resource: "kafkatopics"}
	UserGVR      = schema.GroupVersionResource{Group: "kafka.strimzi.io", Version: "v1beta2", Resource: "kafkausers"}
	PodGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	PVCGVR       = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	apiVersionV1 = "kafka.strimzi.io/v1beta2"
)

// Labels and annotations Strimzi defines, and kafkaplane's own.
const (
	labelCluster       = "strimzi.io/cluster"
	labelPoolName      = "strimzi.io/pool-name"
	annoKafkaVersion   = "strimzi.io/kafka-version"
	annoRevision       = "strimzi.io/revision"
	annoNodePools      = "strimzi.io/node-pools"
	annoKRaft          = "strimzi.io/kraft"
	annoSkipScaledown  = "strimzi.io/skip-broker-scaledown-check"
	labelInstance      = "kafkaplane.io/instance"
	annoInstanceID     = "kafkaplane.io/instance-id"
	labelManagedBy     = "app.kubernetes.io/managed-by"
	managedBy          = "kafkaplane"
	listenerName       = "plain"
	listenerPort       = 9092
	defaultPool        = "brokers"
	defaultStorageSize = "100Gi"
)

// ClusterName is the name of the Kafka resource of an instance: its id
// lower-cased with every character a Kubernetes name may not hold turned
// into '-' (alikafka_post-cn-x → alikafka-post-cn-x).
func ClusterName(instanceID string) string {
	return dnsLabel(instanceID)
}

func dnsLabel(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// TopicResourceName is the name of a topic's KafkaTopic resource:
// "<cluster>.<topic>" when the topic name is already a valid name part,
// otherwise its cleaned form with a hash of the real name, so that topics
// that differ only in case or in '_' versus '-' do not collide. The real
// name is always in spec.topicName.
func TopicResourceName(cluster, topic string) string {
	clean := dnsLabel(topic)
	if clean != topic {
		h := sha256.Sum256([]byte(topic))
		clean = strings.Trim(clean+"-"+hex.EncodeToString(h[:4]), "-")
	}
	return cluster + "." + clean
}

// validUserName reports whether a SASL user name can be a KafkaUser's
// name. Strimzi takes the user name from the resource's name, so it cannot
// be rewritten as topic names are, and it is unique in the namespace, not
// per cluster.
func validUserName(n string) bool {
	return n != "" && len(n) <= 253 && dnsLabel(strings.ReplaceAll(n, ".", "x")) == strings.ReplaceAll(n, ".", "x")
}

func commonLabels(instanceID string) map[string]any {
	return map[string]any{
		labelCluster:   ClusterName(instanceID),
		labelInstance:  ClusterName(instanceID),
		labelManagedBy: managedBy,
	}
}

// KafkaSettings are what the Kafka resource of an instance is rendered
// from.
type KafkaSettings struct {
	InstanceID      string
	KafkaVersion    string // spec.kafka.version
	MetadataVersion string // spec.kafka.metadataVersion
	// Config is the instance's AllConfig; its kafka.* keys become broker
	// configs (kafka.log.retention.hours → log.retention.hours).
	Config map[string]string
}

// RenderKafka renders the Kafka resource of an instance: KRaft with node
// pools, one plain internal listener, the entity operator (topic and user
// operators) watching the namespace.
func RenderKafka(s KafkaSettings) *unstructured.Unstructured {
	name := ClusterName(s.InstanceID)
	kafka := map[string]any{
		"version":         s.KafkaVersion,
		"metadataVersion": s.MetadataVersion,
		"listeners": []any{map[string]any{
			"name": listenerName, "port": int64(listenerPort), "type": "internal", "tls": false,
		}},
	}
	if cfg := brokerConfig(s.Config); len(cfg) > 0 {
		kafka["config"] = cfg
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersionV1,
		"kind":       "Kafka",
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]any{labelInstance: name, labelManagedBy: managedBy},
			"annotations": map[string]any{
				annoNodePools:  "enabled",
				annoKRaft:      "enabled",
				annoInstanceID: s.InstanceID,
			},
		},
		"spec": map[string]any{
			"kafka": kafka,
			"entityOperator": map[string]any{
				"topicOperator": map[string]any{},
				"userOperator":  map[string]any{},
			},
		},
	}}
}

// brokerConfig maps AllConfig's kafka.* keys to broker configs.
func brokerConfig(all map[string]string) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if rest, ok := strings.CutPrefix(k, "kafka."); ok && rest != "" {
			out[rest] = all[k]
		}
	}
	return out
}

// NodePoolSettings are what an instance's KafkaNodePool is rendered from.
type NodePoolSettings struct {
	InstanceID  string
	Replicas    int
	StorageSize string // e.g. "100Gi"
	// StorageClass is the PersistentVolumeClaims' class ("" for the
	// cluster's default).
	StorageClass string
}

// RenderNodePool renders the instance's node pool: Replicas nodes that are
// both KRaft controllers and brokers, each with one persistent volume that
// also holds the KRaft metadata log. Claims are kept when the pool is
// scaled down (Stop keeps data) and removed by Destroy.
func RenderNodePool(s NodePoolSettings) *unstructured.Unstructured {
	size := s.StorageSize
	if size == "" {
		size = defaultStorageSize
	}
	vol := map[string]any{
		"id": int64(0), "type": "persistent-claim", "size": size,
		"deleteClaim": false, "kraftMetadata": "shared",
	}
	if s.StorageClass != "" {
		vol["class"] = s.StorageClass
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersionV1,
		"kind":       "KafkaNodePool",
		"metadata": map[string]any{
			"name":   ClusterName(s.InstanceID) + "-" + defaultPool,
			"labels": commonLabels(s.InstanceID),
		},
		"spec": map[string]any{
			"replicas": int64(s.Replicas),
			"roles":    []any{"controller", "broker"},
			"storage":  map[string]any{"type": "jbod", "volumes": []any{vol}},
		},
	}}
}

// poolName is the node pool's name. Node pools share the namespace with
// other clusters' pools, so it starts with the cluster's name.
func poolName(instanceID string) string { return ClusterName(instanceID) + "-" + defaultPool }

// PodName is the name of broker id's pod: Strimzi names a node pool's pods
// "<cluster>-<pool>-<node id>".
func PodName(instanceID string, id int32) string {
	return podPrefix(instanceID) + strconv.Itoa(int(id))
}

func podPrefix(instanceID string) string {
	return ClusterName(instanceID) + "-" + poolName(instanceID) + "-"
}

// RenderTopic renders a KafkaTopic for the topic operator of the
// instance's cluster.
func RenderTopic(instanceID, topic string, partitions, replicas int32, configs map[string]string) *unstructured.Unstructured {
	cluster := ClusterName(instanceID)
	spec := map[string]any{
		"topicName":  topic,
		"partitions": int64(partitions),
		"replicas":   int64(replicas),
	}
	if len(configs) > 0 {
		cfg := map[string]any{}
		for k, v := range configs {
			cfg[k] = v
		}
		spec["config"] = cfg
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersionV1,
		"kind":       "KafkaTopic",
		"metadata": map[string]any{
			"name":   TopicResourceName(cluster, topic),
			"labels": commonLabels(instanceID),
		},
		"spec": spec,
	}}
}

// ACL is one rule of a SASL user: Strimzi's simple authorization.
type ACL struct {
	ResourceType string   // topic, group, cluster, transactionalId
	Name         string   // resource name or prefix
	PatternType  string   // literal or prefix
	Operations   []string // Read, Write, Describe, …
	Host         string   // "*" for any
	Deny         bool
}

// UserSpec is a SASL user of an instance.
type UserSpec struct {
	Name string
	// PasswordSecret names a Secret in the namespace whose key "password"
	// holds the SCRAM password; empty lets Strimzi generate one.
	PasswordSecret string
	ACLs           []ACL
}

// RenderUser renders a KafkaUser with SCRAM-SHA-512 authentication and,
// when it has ACLs, simple authorization.
func RenderUser(instanceID string, u UserSpec) *unstructured.Unstructured {
	auth := map[string]any{"type": "scram-sha-512"}
	if u.PasswordSecret != "" {
		auth["password"] = map[string]any{"valueFrom": map[string]any{
			"secretKeyRef": map[string]any{"name": u.PasswordSecret, "key": "password"},
		}}
	}
	spec := map[string]any{"authentication": auth}
	if len(u.ACLs) > 0 {
		var acls []any
		for _, a := range u.ACLs {
			typ := "allow"
			if a.Deny {
				typ = "deny"
			}
			host := a.Host
			if host == "" {
				host = "*"
			}
			pattern := a.PatternType
			if pattern == "" {
				pattern = "literal"
			}
			res := map[string]any{"type": a.ResourceType, "patternType": pattern}
			if a.ResourceType != "cluster" {
				res["name"] = a.Name
			}
			ops := make([]any, 0, len(a.Operations))
			for _, o := range a.Operations {
				ops = append(ops, o)
			}
			acls = append(acls, map[string]any{"type": typ, "resource": res, "operations": ops, "host": host})
		}
		spec["authorization"] = map[string]any{"type": "simple", "acls": acls}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersionV1,
		"kind":       "KafkaUser",
		"metadata": map[string]any{
			"name":   u.Name,
			"labels": commonLabels(instanceID),
		},
		"spec": spec,
	}}
}
