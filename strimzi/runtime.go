package strimzi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/jobs"
)

// KafkaVersion is what an alikafka version runs as on Strimzi: the Kafka
// version (spec.kafka.version) and the KRaft metadata version
// (spec.kafka.metadataVersion) it ends on.
type KafkaVersion struct {
	Kafka    string `json:"kafka"`
	Metadata string `json:"metadataVersion"`
}

// DefaultVersions maps the catalogue's versions onto Kafka versions that
// Strimzi 0.48 supports (docs/strimzi.md): older alikafka versions onto
// older Kafka versions, so that an upgrade is a Kafka upgrade as well.
func DefaultVersions() map[string]KafkaVersion {
	return map[string]KafkaVersion{
		"0.10.2": {Kafka: "4.0.0", Metadata: "4.0"},
		"2.2.0":  {Kafka: "4.1.0", Metadata: "4.1"},
	}
}

// ParseVersions parses a version map written as
// "0.10.2=4.0.0/4.0,2.2.0=4.1.0/4.1".
func ParseVersions(s string) (map[string]KafkaVersion, error) {
	out := map[string]KafkaVersion{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ali, rest, ok := strings.Cut(item, "=")
		kafka, meta, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || ali == "" || kafka == "" || meta == "" {
			return nil, fmt.Errorf("%q: want ALIKAFKA_VERSION=KAFKA_VERSION/METADATA_VERSION", item)
		}
		if _, dup := out[ali]; dup {
			return nil, fmt.Errorf("%q: version %s mapped twice", item, ali)
		}
		out[ali] = KafkaVersion{Kafka: kafka, Metadata: meta}
	}
	if len(out) == 0 {
		return nil, errors.New("no versions")
	}
	return out, nil
}

// Config configures a Runtime.
type Config struct {
	// Client talks to the Kubernetes API (in-cluster or kubeconfig).
	Client dynamic.Interface
	// Namespace holds every instance's resources.
	Namespace string
	// Versions maps alikafka versions to Kafka versions (DefaultVersions
	// when nil).
	Versions map[string]KafkaVersion
	// StorageSize and StorageClass of each broker's volume.
	StorageSize, StorageClass string
	// PollInterval is how often a waiting call reads the resources again
	// (default 2s).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Runtime runs every instance as a Strimzi Kafka cluster: kafkaplane
// writes resources and observes their status, Strimzi's cluster, topic
// and user operators do the work.
type Runtime struct {
	cfg       Config
	ns        string
	mu        sync.Mutex
	endpoints map[string]string // instance id → bootstrap servers, as last read
}

var (
	_ broker.Runtime          = (*Runtime)(nil)
	_ broker.UpgradeFinalizer = (*Runtime)(nil)
	_ broker.EndpointReporter = (*Runtime)(nil)
)

// New returns a Runtime.
func New(cfg Config) (*Runtime, error) {
	if cfg.Client == nil {
		return nil, errors.New("strimzi: no Kubernetes client")
	}
	if cfg.Namespace == "" {
		return nil, errors.New("strimzi: no namespace")
	}
	if cfg.Versions == nil {
		cfg.Versions = DefaultVersions()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runtime{cfg: cfg, ns: cfg.Namespace, endpoints: map[string]string{}}, nil
}

// kafkaVersion maps an alikafka version; an unmapped one can never be
// deployed, so the error is permanent.
func (r *Runtime) kafkaVersion(v string) (KafkaVersion, error) {
	kv, ok := r.cfg.Versions[v]
	if !ok {
		return KafkaVersion{}, jobs.Permanent(fmt.Errorf("version %s has no Kafka version in the Strimzi version map", v))
	}
	return kv, nil
}

// aliVersion maps a Kafka version back to the alikafka version.
func (r *Runtime) aliVersion(kafka string) string {
	for _, k := range slices.Sorted(maps.Keys(r.cfg.Versions)) {
		if r.cfg.Versions[k].Kafka == kafka {
			return k
		}
	}
	return ""
}

// ---- observation ----

// view is one reading of an instance's cluster.
type view struct {
	kafka, pool *unstructured.Unstructured // nil when absent
	pods        map[int32]podView
	generation  int64
	observed    int64
	ready       bool
	// failure is Strimzi's error for the current generation, if any.
	failure string
}

type podView struct {
	name, version, revision string
	ready                   bool
}

func (v *view) specVersion() string {
	s, _, _ := unstructured.NestedString(v.kafka.Object, "spec", "kafka", "version")
	return s
}

func (v *view) specMetadata() string {
	s, _, _ := unstructured.NestedString(v.kafka.Object, "spec", "kafka", "metadataVersion")
	return s
}

func (v *view) statusString(field string) string {
	s, _, _ := unstructured.NestedString(v.kafka.Object, "status", field)
	return s
}

func (v *view) replicas() int64 {
	if v.pool == nil {
		return 0
	}
	n, _, _ := unstructured.NestedInt64(v.pool.Object, "spec", "replicas")
	return n
}

// reconciled reports whether Strimzi has finished with the current
// generation and found it Ready.
func (v *view) reconciled() bool {
	return v.ready && v.observed == v.generation
}

// err is the Strimzi error of the current generation as a permanent
// error: retrying the observation cannot cure it.
func (v *view) err() error {
	if v.failure == "" {
		return nil
	}
	return jobs.Permanent(errors.New(v.failure))
}

func (r *Runtime) kafkas() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(KafkaGVR).Namespace(r.ns)
}

func (r *Runtime) pools() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(NodePoolGVR).Namespace(r.ns)
}

func (r *Runtime) topics() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(TopicGVR).Namespace(r.ns)
}

func (r *Runtime) users() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(UserGVR).Namespace(r.ns)
}

func (r *Runtime) pods() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(PodGVR).Namespace(r.ns)
}

// observe reads the Kafka, its node pool and its pods.
func (r *Runtime) observe(ctx context.Context, instanceID string) (*view, error) {
	name := ClusterName(instanceID)
	v := &view{pods: map[int32]podView{}}
	k, err := r.kafkas().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return v, nil
	case err != nil:
		return nil, fmt.Errorf("read Kafka %s/%s: %w", r.ns, name, err)
	}
	v.kafka = k
	v.generation = k.GetGeneration()
	v.observed, _, _ = unstructured.NestedInt64(k.Object, "status", "observedGeneration")
	conds, _, _ := unstructured.NestedSlice(k.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		typ, _ := cm["type"].(string)
		st, _ := cm["status"].(string)
		switch {
		case typ == "Ready" && st == "True":
			v.ready = true
		case typ == "NotReady" && st == "True" && v.observed == v.generation:
			reason, _ := cm["reason"].(string)
			msg, _ := cm["message"].(string)
			v.failure = fmt.Sprintf("Strimzi reports Kafka %s/%s NotReady (%s): %s", r.ns, name, reason, msg)
		}
	}
	if bs := bootstrap(k); bs != "" {
		r.mu.Lock()
		r.endpoints[instanceID] = bs
		r.mu.Unlock()
	}
	p, err := r.pools().Get(ctx, poolName(instanceID), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read KafkaNodePool %s/%s: %w", r.ns, poolName(instanceID), err)
	default:
		v.pool = p
	}
	pods, err := r.pods().List(ctx, metav1.ListOptions{LabelSelector: labelCluster + "=" + name + "," + labelPoolName + "=" + poolName(instanceID)})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s/%s: %w", r.ns, name, err)
	}
	prefix := podPrefix(instanceID)
	for _, p := range pods.Items {
		id, err := strconv.ParseInt(strings.TrimPrefix(p.GetName(), prefix), 10, 32)
		if err != nil || !strings.HasPrefix(p.GetName(), prefix) {
			continue
		}
		pv := podView{name: p.GetName(), version: p.GetAnnotations()[annoKafkaVersion], revision: p.GetAnnotations()[annoRevision]}
		conds, _, _ := unstructured.NestedSlice(p.Object, "status", "conditions")
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			if cm["type"] == "Ready" && cm["status"] == "True" {
				pv.ready = true
			}
		}
		v.pods[int32(id)] = pv
	}
	return v, nil
}

// bootstrap returns the bootstrap servers of the Kafka's plain listener.
func bootstrap(k *unstructured.Unstructured) string {
	ls, _, _ := unstructured.NestedSlice(k.Object, "status", "listeners")
	for _, l := range ls {
		lm, _ := l.(map[string]any)
		if lm["name"] == listenerName {
			bs, _ := lm["bootstrapServers"].(string)
			return bs
		}
	}
	return ""
}

// waitFor reads the cluster every PollInterval until cond reports done,
// cond or the reading fails, or ctx ends; what is awaited is named in the
// error then.
func (r *Runtime) waitFor(ctx context.Context, instanceID, what string, cond func(*view) (bool, error)) (*view, error) {
	for {
		v, err := r.observe(ctx, instanceID)
		if err == nil {
			var done bool
			done, err = cond(v)
			if done || err != nil {
				return v, err
			}
		} else if ctx.Err() == nil {
			r.cfg.Logger.Warn("reading the cluster failed; trying again", "instance", instanceID, "err", err)
		}
		t := time.NewTimer(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

func (r *Runtime) started(ctx context.Context, instanceID string) (*view, error) {
	v, err := r.observe(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	if v.kafka == nil || v.replicas() == 0 {
		return nil, broker.ErrNotStarted
	}
	return v, nil
}

// ---- lifecycle ----

// Start creates the instance's KafkaNodePool and Kafka, or scales a
// stopped pool back up, and then waits until Strimzi reports the cluster
// Ready with every pod Ready. It never changes the version of a cluster
// that exists: during an upgrade the resource is the record of it.
//
// When the resources already exist as wanted and Strimzi has reconciled
// their current generation, Start returns at once with the pods as they
// are: restarting a pod that is down is Strimzi's work, and the data-plane
// check that calls Start for such an instance must not wait on it.
func (r *Runtime) Start(ctx context.Context, spec broker.Spec) ([]broker.BrokerStatus, error) {
	kv, err := r.kafkaVersion(spec.Version)
	if err != nil {
		return nil, err
	}
	replicas := int64(len(spec.Ports))
	if replicas == 0 {
		replicas = 3
	}
	pool := RenderNodePool(NodePoolSettings{InstanceID: spec.InstanceID, Replicas: int(replicas), StorageSize: r.cfg.StorageSize, StorageClass: r.cfg.StorageClass})
	changed := false
	cur, err := r.pools().Get(ctx, pool.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		changed = true
		if _, err := r.pools().Create(ctx, pool, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create KafkaNodePool: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("read KafkaNodePool: %w", err)
	default:
		if n, _, _ := unstructured.NestedInt64(cur.Object, "spec", "replicas"); n != replicas {
			changed = true
			if err := r.mergePatch(ctx, r.pools(), pool.GetName(), map[string]any{"spec": map[string]any{"replicas": replicas}}); err != nil {
				return nil, fmt.Errorf("scale KafkaNodePool: %w", err)
			}
		}
	}
	kafka := RenderKafka(KafkaSettings{InstanceID: spec.InstanceID, KafkaVersion: kv.Kafka, MetadataVersion: kv.Metadata, Config: spec.Config})
	switch _, err := r.kafkas().Create(ctx, kafka, metav1.CreateOptions{}); {
	case err == nil:
		changed = true
	case !apierrors.IsAlreadyExists(err):
		return nil, fmt.Errorf("create Kafka: %w", err)
	}
	if !changed {
		v, err := r.observe(ctx, spec.InstanceID)
		if err != nil {
			return nil, err
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		if v.kafka != nil && v.observed == v.generation && len(v.pods) > 0 {
			return r.statuses(spec.InstanceID, v), nil
		}
	}
	v, err := r.waitFor(ctx, spec.InstanceID, "the cluster to be Ready", func(v *view) (bool, error) {
		if v.kafka == nil {
			return false, errors.New("the Kafka resource is gone")
		}
		if err := v.err(); err != nil {
			return false, err
		}
		return v.reconciled() && allReady(v, replicas), nil
	})
	if err != nil {
		return nil, err
	}
	return r.statuses(spec.InstanceID, v), nil
}

func allReady(v *view, n int64) bool {
	if int64(len(v.pods)) != n {
		return false
	}
	for _, p := range v.pods {
		if !p.ready {
			return false
		}
	}
	return true
}

// Stop scales the node pool to zero, which stops every broker and keeps
// the volumes (deleteClaim is false). Strimzi refuses to scale down
// brokers that hold partition replicas unless told to skip that check,
// so the Kafka is annotated first.
func (r *Runtime) Stop(ctx context.Context, instanceID string) error {
	name := ClusterName(instanceID)
	err := r.mergePatch(ctx, r.kafkas(), name, map[string]any{"metadata": map[string]any{"annotations": map[string]any{annoSkipScaledown: "true"}}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("annotate Kafka: %w", err)
	}
	err = r.mergePatch(ctx, r.pools(), poolName(instanceID), map[string]any{"spec": map[string]any{"replicas": 0}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("scale KafkaNodePool to 0: %w", err)
	}
	r.forget(instanceID)
	return nil
}

// Destroy deletes the instance's topics, users, node pool and Kafka, and
// then its volume claims, which Strimzi keeps.
func (r *Runtime) Destroy(ctx context.Context, instanceID string) error {
	name := ClusterName(instanceID)
	sel := metav1.ListOptions{LabelSelector: labelInstance + "=" + name}
	for what, ri := range map[string]dynamic.ResourceInterface{"KafkaTopics": r.topics(), "KafkaUsers": r.users()} {
		if err := ri.DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", what, err)
		}
	}
	if err := r.pools().Delete(ctx, poolName(instanceID), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete KafkaNodePool: %w", err)
	}
	if err := r.kafkas().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Kafka: %w", err)
	}
	pvcs := r.cfg.Client.Resource(PVCGVR).Namespace(r.ns)
	if err := pvcs.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: labelCluster + "=" + name}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete PersistentVolumeClaims: %w", err)
	}
	r.forget(instanceID)
	return nil
}

func (r *Runtime) forget(instanceID string) {
	r.mu.Lock()
	delete(r.endpoints, instanceID)
	r.mu.Unlock()
}

// Status reports the pods of a started instance: Up when Ready, on the
// alikafka version their Kafka version maps back to.
func (r *Runtime) Status(ctx context.Context, instanceID string) ([]broker.BrokerStatus, error) {
	v, err := r.observe(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	if v.kafka == nil || v.replicas() == 0 {
		return nil, nil
	}
	return r.statuses(instanceID, v), nil
}

func (r *Runtime) statuses(instanceID string, v *view) []broker.BrokerStatus {
	var out []broker.BrokerStatus
	for _, id := range slices.Sorted(maps.Keys(v.pods)) {
		p := v.pods[id]
		out = append(out, broker.BrokerStatus{
			ID:      id,
			Addr:    fmt.Sprintf("%s.%s-kafka-brokers.%s.svc:%d", p.name, ClusterName(instanceID), r.ns, listenerPort),
			Version: r.aliVersion(p.version),
			Up:      p.ready,
		})
	}
	return out
}

// Endpoint returns the bootstrap servers Strimzi last reported for the
// instance's listener, without asking the API server.
func (r *Runtime) Endpoint(instanceID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs, ok := r.endpoints[instanceID]
	return bs, ok
}

// ---- upgrade ----

// ApplyConfig sets spec.kafka.config to AllConfig's broker configs;
// Strimzi applies them, dynamically or with a roll.
func (r *Runtime) ApplyConfig(ctx context.Context, instanceID string, config map[string]string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		k, err := r.kafkas().Get(ctx, ClusterName(instanceID), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return broker.ErrNotStarted
		}
		if err != nil {
			return err
		}
		cfg := brokerConfig(config)
		if len(cfg) == 0 {
			unstructured.RemoveNestedField(k.Object, "spec", "kafka", "config")
		} else if err := unstructured.SetNestedField(k.Object, cfg, "spec", "kafka", "config"); err != nil {
			return err
		}
		_, err = r.kafkas().Update(ctx, k, metav1.UpdateOptions{})
		return err
	})
}

// ---- topics ----

func (r *Runtime) mergePatch(ctx context.Context, ri dynamic.ResourceInterface, name string, patch map[string]any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, name, types.MergePatchType, b, metav1.PatchOptions{})
	return err
}

// Close has nothing to release: the clusters run on without kafkaplane.
func (r *Runtime) Close() error { return nil }
