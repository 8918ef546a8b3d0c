package strimzi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Upgrades: Strimzi rolls the pods; the runtime patches the version,
// follows each broker and bumps the metadata version (docs/strimzi.md).

// RestartBroker does not restart anything itself: it makes sure the Kafka
// asks for version's Kafka version (a merge patch, idempotent; the
// metadata version stays as it is) and waits until Strimzi has rolled
// brokerID's pod onto it and the pod is Ready again. A Strimzi error
// condition fails it with Strimzi's message.
func (r *Runtime) RestartBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	kv, err := r.kafkaVersion(version)
	if err != nil {
		return err
	}
	v, err := r.started(ctx, instanceID)
	if err != nil {
		return err
	}
	if v.specVersion() != kv.Kafka {
		patch := map[string]any{"spec": map[string]any{"kafka": map[string]any{"version": kv.Kafka}}}
		if err := r.mergePatch(ctx, r.kafkas(), ClusterName(instanceID), patch); err != nil {
			return fmt.Errorf("set spec.kafka.version %s: %w", kv.Kafka, err)
		}
		r.cfg.Logger.Info("asked Strimzi for a Kafka version", "instance", instanceID, "kafka_version", kv.Kafka)
	}
	pod := PodName(instanceID, brokerID)
	_, err = r.waitFor(ctx, instanceID, "pod "+pod+" on Kafka "+kv.Kafka, func(v *view) (bool, error) {
		// A pod Strimzi has rolled stays rolled whatever happens to the
		// pods after it, so it is looked at before the error.
		if p, ok := v.pods[brokerID]; ok && p.version == kv.Kafka && p.ready {
			return true, nil
		}
		return false, v.err()
	})
	return err
}

// CheckBroker verifies from the pod's status that brokerID's pod runs
// version's Kafka version (Strimzi's strimzi.io/kafka-version annotation)
// and is Ready. A Strimzi error about a later pod does not undo it.
func (r *Runtime) CheckBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	kv, err := r.kafkaVersion(version)
	if err != nil {
		return err
	}
	v, err := r.started(ctx, instanceID)
	if err != nil {
		return err
	}
	p, ok := v.pods[brokerID]
	switch {
	case !ok:
		return fmt.Errorf("pod %s does not exist", PodName(instanceID, brokerID))
	case p.version != kv.Kafka:
		return fmt.Errorf("pod %s runs Kafka %q, not %s", p.name, p.version, kv.Kafka)
	case !p.ready:
		return fmt.Errorf("pod %s is not Ready", p.name)
	}
	return nil
}

// FinalizeUpgrade ends an upgrade the way Strimzi documents it: once every
// pod runs the new Kafka version and Strimzi has reconciled it
// (status.kafkaVersion, observedGeneration), it sets
// spec.kafka.metadataVersion and waits until status.kafkaMetadataVersion
// shows it. Both waits are observations, so a resumed step picks up where
// the cluster is.
func (r *Runtime) FinalizeUpgrade(ctx context.Context, instanceID, version string) error {
	kv, err := r.kafkaVersion(version)
	if err != nil {
		return err
	}
	if _, err := r.started(ctx, instanceID); err != nil {
		return err
	}
	v, err := r.waitFor(ctx, instanceID, "Strimzi to finish the roll onto Kafka "+kv.Kafka, func(v *view) (bool, error) {
		if err := v.err(); err != nil {
			return false, err
		}
		return v.reconciled() && v.statusString("kafkaVersion") == kv.Kafka && v.specVersion() == kv.Kafka, nil
	})
	if err != nil {
		return err
	}
	if v.specMetadata() != kv.Metadata {
		patch := map[string]any{"spec": map[string]any{"kafka": map[string]any{"metadataVersion": kv.Metadata}}}
		if err := r.mergePatch(ctx, r.kafkas(), ClusterName(instanceID), patch); err != nil {
			return fmt.Errorf("set spec.kafka.metadataVersion %s: %w", kv.Metadata, err)
		}
	}
	_, err = r.waitFor(ctx, instanceID, "metadata version "+kv.Metadata, func(v *view) (bool, error) {
		if err := v.err(); err != nil {
			return false, err
		}
		return v.reconciled() && sameMetadata(v.statusString("kafkaMetadataVersion"), kv.Metadata), nil
	})
	return err
}

// sameMetadata reports whether the metadata version in status is the one
// asked for: Strimzi accepts "4.1" and reports the full "4.1-IV1".
func sameMetadata(status, want string) bool {
	return status == want || strings.HasPrefix(status, want+"-")
}

// RollOrder returns the node ids in ascending order. Strimzi decides the
// real order (it rolls the active controller last); a step whose pod
// Strimzi rolled earlier finds it done.
func (r *Runtime) RollOrder(ctx context.Context, instanceID string) ([]int32, error) {
	v, err := r.started(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(v.pods))
	if len(ids) == 0 {
		for i := int64(0); i < v.replicas(); i++ {
			ids = append(ids, int32(i))
		}
	}
	return ids, nil
}
