package k8sdouble_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kafkaplane/kafkaplane/strimzi/k8sdouble"
)

var topics = schema.GroupVersionResource{Group: "kafka.strimzi.io", Version: "v1beta2", Resource: "kafkatopics"}

// TestObjectSemantics checks the Kubernetes rules the Strimzi runtime
// relies on, through client-go: resourceVersion compare-and-set,
// generation that moves only with the spec, status kept out of writes,
// and the API errors client-go classifies.
func TestObjectSemantics(t *testing.T) {
	srv := k8sdouble.Start(k8sdouble.Options{})
	defer srv.Close()
	client, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	ri := client.Resource(topics).Namespace("ns")
	ctx := context.Background()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
		"metadata": map[string]any{"name": "t1", "labels": map[string]any{"strimzi.io/cluster": "c"}},
		"spec":     map[string]any{"partitions": int64(1)},
		"status":   map[string]any{"topicName": "smuggled"},
	}}
	created, err := ri.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.GetGeneration() != 1 || created.GetResourceVersion() == "" || created.Object["status"] != nil {
		t.Fatalf("created %v", created.Object)
	}
	if _, err := ri.Create(ctx, obj, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v", err)
	}
	// A label change is not a spec change.
	created.SetLabels(map[string]string{"strimzi.io/cluster": "c", "x": "y"})
	upd, err := ri.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil || upd.GetGeneration() != 1 || upd.GetResourceVersion() == created.GetResourceVersion() {
		t.Fatalf("label update: gen %d rv %s→%s %v", upd.GetGeneration(), created.GetResourceVersion(), upd.GetResourceVersion(), err)
	}
	// A stale resourceVersion loses.
	if _, err := ri.Update(ctx, created, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v", err)
	}
	patched, err := ri.Patch(ctx, "t1", types.MergePatchType, []byte(`{"spec":{"partitions":3}}`), metav1.PatchOptions{})
	if err != nil || patched.GetGeneration() != 2 {
		t.Fatalf("spec patch: %v %v", patched, err)
	}
	if _, err := ri.Patch(ctx, "t1", types.JSONPatchType, []byte(`[]`), metav1.PatchOptions{}); err == nil {
		t.Error("JSON patch accepted; the double serves merge patches only")
	}
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: "x=y"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list by label: %v %v", list, err)
	}
	if list, _ := ri.List(ctx, metav1.ListOptions{LabelSelector: "x=z"}); len(list.Items) != 0 {
		t.Errorf("selector x=z matched %d", len(list.Items))
	}
	if err := ri.Delete(ctx, "t1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Get(ctx, "t1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
	bad := obj.DeepCopy()
	bad.SetName("Not_Valid")
	if _, err := ri.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("invalid name: %v", err)
	}
}
