package main

import (
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
)

// TestFailoverUnderLoadThroughAPI runs FailoverTest (a call only the
// newest SDK knows) while an idempotent producer and a group consumer use
// the instance: a broker really goes down and comes back, the test is an
// operation with its steps, the instance stays Running, and the clients
// lose, duplicate and rewind nothing.
func TestFailoverUnderLoadThroughAPI(t *testing.T) {
	underLoad(t, func(m *Main, c *alikafka.Client, id string) {
		tea := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
		refused := tea.call(t, "2019-09-16", "FailoverTest", map[string]string{"InstanceId": id, "Duration": "60"})
		if refused.code != "InvalidDuration" {
			t.Errorf("FailoverTest with Duration: %d %s, want InvalidDuration", refused.status, refused.code)
		}
		r := tea.call(t, "2019-09-16", "FailoverTest", map[string]string{"InstanceId": id, "Name": "drill", "Description": "broker fault"})
		if r.status != 200 || r.code != "" {
			t.Fatalf("FailoverTest: %d %s %s", r.status, r.code, r.msg)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			if vo := describe(t, c, id); vo.ServiceStatus != 5 {
				t.Errorf("ServiceStatus %d during the failover test, want 5", vo.ServiceStatus)
			}
			ops := tea.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
			list := lcArray(ops.body, "Operations", "OperationVO")
			if len(list) == 0 || lcStr(list[0], "OperationType") != "FAILOVER_TEST" {
				t.Fatalf("newest operation: %v", ops.body)
			}
			op := list[0]
			if state := lcStr(op, "OperationState"); state == "COMPLETE" {
				steps := lcArray(op, "Steps", "StepVO")
				if len(steps) != 2 || lcStr(steps[0], "StepName") != "FAIL_BROKER" || lcStr(steps[1], "StepName") != "CHECK_RECOVERY" {
					t.Errorf("failover steps: %v", steps)
				}
				t.Logf("failover: %v", steps)
				return
			} else if state == "FAILED" || time.Now().After(deadline) {
				t.Fatalf("failover operation: %v", op)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}, withKafka(t))
}
