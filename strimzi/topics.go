package strimzi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/kafkaplane/kafkaplane/broker"
)

// Topics as KafkaTopic resources (docs/strimzi.md).

// CreateTopic creates the topic's KafkaTopic and waits until the topic
// operator reports it Ready.
func (r *Runtime) CreateTopic(ctx context.Context, instanceID string, t broker.TopicSpec) error {
	v, err := r.started(ctx, instanceID)
	if err != nil {
		return err
	}
	replicas := int32(min(3, max(1, v.replicas())))
	obj := RenderTopic(instanceID, t.Name, t.Partitions, replicas, t.Configs)
	if _, err := r.topics().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return broker.ErrTopicExists
		}
		return fmt.Errorf("create KafkaTopic: %w", err)
	}
	return r.waitTopic(ctx, obj.GetName())
}

// waitTopic waits until the topic operator has reconciled the KafkaTopic's
// current generation; its error condition is returned as an error.
func (r *Runtime) waitTopic(ctx context.Context, name string) error {
	for {
		t, err := r.topics().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		obs, _, _ := unstructured.NestedInt64(t.Object, "status", "observedGeneration")
		if obs == t.GetGeneration() {
			conds, _, _ := unstructured.NestedSlice(t.Object, "status", "conditions")
			for _, c := range conds {
				cm, _ := c.(map[string]any)
				switch {
				case cm["type"] == "Ready" && cm["status"] == "True":
					return nil
				case cm["type"] == "NotReady" && cm["status"] == "True":
					return fmt.Errorf("Strimzi reports KafkaTopic %s NotReady (%v): %v", name, cm["reason"], cm["message"])
				}
			}
		}
		tm := time.NewTimer(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
			tm.Stop()
			return fmt.Errorf("waiting for KafkaTopic %s: %w", name, ctx.Err())
		case <-tm.C:
		}
	}
}

// DeleteTopic deletes the topic's KafkaTopic; the topic operator deletes
// the topic.
func (r *Runtime) DeleteTopic(ctx context.Context, instanceID, topic string) error {
	if _, err := r.started(ctx, instanceID); err != nil {
		return err
	}
	err := r.topics().Delete(ctx, TopicResourceName(ClusterName(instanceID), topic), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return broker.ErrTopicNotFound
	}
	return err
}

// CreatePartitions grows the KafkaTopic's spec.partitions to total.
func (r *Runtime) CreatePartitions(ctx context.Context, instanceID, topic string, total int32) error {
	_, err := r.changePartitions(ctx, instanceID, topic, func(cur int64) (int64, error) { return max(cur, int64(total)), nil })
	return err
}

// AddPartitions adds add partitions to the KafkaTopic. The read and the
// write are one compare-and-set on the resourceVersion, retried on
// conflict, so concurrent additions all count.
func (r *Runtime) AddPartitions(ctx context.Context, instanceID, topic string, add, most int32) (int32, error) {
	return r.changePartitions(ctx, instanceID, topic, func(cur int64) (int64, error) {
		if cur+int64(add) > int64(most) {
			return 0, broker.ErrPartitionLimit
		}
		return cur + int64(add), nil
	})
}

func (r *Runtime) changePartitions(ctx context.Context, instanceID, topic string, next func(int64) (int64, error)) (int32, error) {
	if _, err := r.started(ctx, instanceID); err != nil {
		return 0, err
	}
	name := TopicResourceName(ClusterName(instanceID), topic)
	var total int64
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		t, err := r.topics().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return broker.ErrTopicNotFound
		}
		if err != nil {
			return err
		}
		cur, _, _ := unstructured.NestedInt64(t.Object, "spec", "partitions")
		n, err := next(cur)
		if err != nil {
			return err
		}
		total = n
		if n == cur {
			return nil
		}
		if err := unstructured.SetNestedField(t.Object, n, "spec", "partitions"); err != nil {
			return err
		}
		_, err = r.topics().Update(ctx, t, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return 0, err
	}
	return int32(total), r.waitTopic(ctx, name)
}

// Topics lists the instance's KafkaTopics. Offsets are not read from the
// brokers: every partition reports zero offsets.
func (r *Runtime) Topics(ctx context.Context, instanceID string) ([]broker.TopicState, error) {
	if _, err := r.started(ctx, instanceID); err != nil {
		return nil, err
	}
	list, err := r.topics().List(ctx, metav1.ListOptions{LabelSelector: labelInstance + "=" + ClusterName(instanceID)})
	if err != nil {
		return nil, err
	}
	var out []broker.TopicState
	for _, t := range list.Items {
		name, _, _ := unstructured.NestedString(t.Object, "spec", "topicName")
		if name == "" {
			name = t.GetName()
		}
		n, _, _ := unstructured.NestedInt64(t.Object, "spec", "partitions")
		st := broker.TopicState{Name: name}
		for p := int32(0); p < int32(n); p++ {
			st.Partitions = append(st.Partitions, broker.PartitionState{Partition: p})
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b broker.TopicState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ---- users ----
