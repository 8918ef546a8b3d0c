package strimzi_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/strimzi"
)

// TestDeployRoleGrantsEveryCall runs every runtime call against the double
// and checks that deploy/10-rbac.yaml's Role grants each verb and resource
// the runtime used, so a new call cannot ship without its permission.
func TestDeployRoleGrantsEveryCall(t *testing.T) {
	rt, srv := newRuntime(t)
	ctx := ctxT(t)
	start(t, rt, "0.10.2")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "orders", Partitions: 1}))
	_, err := rt.AddPartitions(ctx, inst, "orders", 1, 10)
	must(err)
	_, err = rt.Topics(ctx, inst)
	must(err)
	must(rt.EnsureUser(ctx, inst, strimzi.UserSpec{Name: "carol"}))
	must(rt.EnsureUser(ctx, inst, strimzi.UserSpec{Name: "carol", ACLs: []strimzi.ACL{{ResourceType: "topic", Name: "orders", Operations: []string{"Read"}}}}))
	must(rt.ApplyConfig(ctx, inst, map[string]string{"kafka.log.retention.hours": "24"}))
	must(rt.RestartBroker(ctx, inst, 0, "2.2.0"))
	must(rt.RestartBroker(ctx, inst, 1, "2.2.0"))
	must(rt.RestartBroker(ctx, inst, 2, "2.2.0"))
	must(rt.FinalizeUpgrade(ctx, inst, "2.2.0"))
	_, err = rt.Status(ctx, inst)
	must(err)
	must(rt.DeleteTopic(ctx, inst, "orders"))
	must(rt.DeleteUser(ctx, inst, "carol"))
	must(rt.Stop(ctx, inst))
	must(rt.Destroy(ctx, inst))

	granted := roleRules(t, "../deploy/10-rbac.yaml")
	for _, c := range srv.Calls() {
		v, res, _ := strings.Cut(c, " ")
		if !granted[v+" "+res] {
			t.Errorf("the runtime calls %q, which deploy/10-rbac.yaml does not grant", c)
		}
	}
	t.Logf("calls: %s", strings.Join(srv.Calls(), ", "))
}

// roleRules returns "verb resource" for every rule of the Role in path.
func roleRules(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	out := map[string]bool{}
	for {
		var doc struct {
			Kind  string `json:"kind"`
			Rules []struct {
				Resources []string `json:"resources"`
				Verbs     []string `json:"verbs"`
			} `json:"rules"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "Role" {
			continue
		}
		for _, r := range doc.Rules {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out[v+" "+res] = true
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Role rules in %s", path)
	}
	return out
}
