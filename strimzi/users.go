package strimzi

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/kafkaplane/kafkaplane"
)

// SASL users as KafkaUser resources, and the security the runtime does
// not apply (docs/strimzi.md).

// ErrUserTaken reports a KafkaUser name another cluster in the namespace
// already uses: Strimzi takes the user name from the resource name.
var ErrUserTaken = errors.New("strimzi: user name is taken by another cluster in the namespace")

// EnsureUser creates or updates a SASL user's KafkaUser and waits until the
// user operator reports it Ready.
func (r *Runtime) EnsureUser(ctx context.Context, instanceID string, u UserSpec) error {
	if !validUserName(u.Name) {
		return fmt.Errorf("strimzi: user name %q is not a valid Kubernetes name", u.Name)
	}
	if _, err := r.started(ctx, instanceID); err != nil {
		return err
	}
	want := RenderUser(instanceID, u)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := r.users().Get(ctx, u.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = r.users().Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if cur.GetLabels()[labelCluster] != ClusterName(instanceID) {
			return ErrUserTaken
		}
		cur.Object["spec"] = want.Object["spec"]
		_, err = r.users().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	return r.waitUser(ctx, u.Name)
}

func (r *Runtime) waitUser(ctx context.Context, name string) error {
	for {
		u, err := r.users().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		obs, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			if obs == u.GetGeneration() && cm["status"] == "True" {
				if cm["type"] == "Ready" {
					return nil
				}
				return fmt.Errorf("Strimzi reports KafkaUser %s %v (%v): %v", name, cm["type"], cm["reason"], cm["message"])
			}
		}
		tm := time.NewTimer(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
			tm.Stop()
			return fmt.Errorf("waiting for KafkaUser %s: %w", name, ctx.Err())
		case <-tm.C:
		}
	}
}

// DeleteUser deletes a SASL user's KafkaUser (nothing if it is not there).
func (r *Runtime) DeleteUser(ctx context.Context, instanceID, name string) error {
	cur, err := r.users().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.GetLabels()[labelCluster] != ClusterName(instanceID) {
		return ErrUserTaken
	}
	err = r.users().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ---- helpers ----

// ApplySecurity accepts only an empty Security: SASL users, ACLs and
// allowlists of a Strimzi cluster are KafkaUser resources and listener
// settings that the control plane does not render yet (docs/strimzi.md,
// what is not done), and taking them without applying them would tell the
// caller a setting took effect when it did not.
func (r *Runtime) ApplySecurity(ctx context.Context, instanceID string, sec kafkaplane.Security) error {
	if sec.ACLEnabled || len(sec.Users) > 0 || len(sec.ACLs) > 0 || len(sec.Allowlists) > 0 || sec.TLS != nil {
		return fmt.Errorf("%w: the strimzi runtime does not apply SASL users, ACLs, allowlists or certificates", kafkaplane.ErrInvalidSecurity)
	}
	return nil
}
