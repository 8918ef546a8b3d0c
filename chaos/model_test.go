package chaos

import (
	"strings"
	"testing"
)

// TestEnvelopeRules checks the envelope checker on answers it must accept
// and on the shapes it must report.
func TestEnvelopeRules(t *testing.T) {
	for _, c := range []struct {
		status      int
		ct, body    string
		product     string
		wantProblem string
	}{
		{200, "application/json", `{"RequestId":"r","Code":200,"Success":true,"Message":"ok"}`, "alikafka", ""},
		{200, "application/json", `{"RequestId":"r","User":{}}`, "ram", ""},
		{400, "application/json;charset=utf-8", `{"RequestId":"r","Code":"X","Message":"m","HostId":"h","Recommend":"u"}`, "alikafka", ""},
		{200, "application/json", `{"RequestId":"r","Code":"200","Success":true}`, "alikafka", "Code"},
		{400, "application/json", `{"RequestId":"r","Code":400,"Message":"m","HostId":"h","Recommend":"u"}`, "alikafka", "string Code"},
		{400, "application/json", `{"Code":"X","Message":"m","HostId":"h","Recommend":"u"}`, "alikafka", "RequestId"},
		{400, "application/json", `{"RequestId":"r","Code":"X","Message":"m","Recommend":"u"}`, "ram", "HostId"},
		{400, "text/xml;charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>r</RequestId><HostId>h</HostId><Code>X</Code><Message>m</Message><Recommend>u</Recommend></Error>`, "alikafka", ""},
		{400, "text/xml", `<Error><RequestId>r</RequestId><Code>X</Code><Message>m</Message><Recommend>u</Recommend></Error>`, "alikafka", "HostId"},
		{404, "text/plain; charset=utf-8", "404 page not found\n", "alikafka", "Content-Type"},
		{431, "text/plain", `Request Header Fields Too Large`, "alikafka", "Content-Type"},
		{500, "application/json", `not json`, "alikafka", "JSON object"},
		{302, "application/json", `{"RequestId":"r"}`, "ram", "neither"},
	} {
		var a answer
		err := checkEnvelope(c.status, c.ct, []byte(c.body), c.product, &a)
		switch {
		case c.wantProblem == "" && err != nil:
			t.Errorf("%d %s: %v", c.status, c.body, err)
		case c.wantProblem != "" && (err == nil || !strings.Contains(err.Error(), c.wantProblem)):
			t.Errorf("%d %s: got %v, want a problem with %q", c.status, c.body, err, c.wantProblem)
		}
	}
}

// TestModelAllowsOnlyReachableStates walks an instance through accepted,
// refused and uncertain calls.
func TestModelAllowsOnlyReachableStates(t *testing.T) {
	in := newInstance("o")
	in.id = "i"
	start := func(s istate) (istate, bool) { return istate{l: lDeploying, ver: "0.10.2"}, s.l == lPending }
	if v := in.apply("StartInstance", accepted, start); v != "" {
		t.Fatal(v)
	}
	if got := in.stateList(); got != "Deploying(0.10.2), Running(0.10.2)" {
		t.Fatalf("after start: %s", got)
	}
	if v := in.apply("StopInstance", uncertain, lifecycle["StopInstance"]); v != "" {
		t.Fatal(v)
	}
	if got := in.stateList(); got != "Deploying(0.10.2), Running(0.10.2), Stopped(0.10.2)" {
		t.Fatalf("after an uncertain stop: %s", got)
	}
	if v := in.apply("StopInstance", refused, lifecycle["StopInstance"]); v != "" || len(in.states) != 3 {
		t.Fatalf("a refusal changed the model: %q %s", v, in.stateList())
	}
	if v := in.apply("ReopenInstance", accepted, lifecycle["ReopenInstance"]); v != "" {
		t.Fatal(v)
	}
	if got := in.stateList(); got != "Running(0.10.2)" {
		t.Fatalf("after reopen: %s", got)
	}
	if v := in.apply("DeleteInstance", accepted, lifecycle["DeleteInstance"]); !strings.Contains(v, "no state") {
		t.Fatalf("deleting a running instance was not a contradiction: %q", v)
	}

	topics := map[string]tri{}
	if setTri(topics, "t", true, accepted) || topics["t"] != maybePresent {
		t.Fatal("create")
	}
	if !setTri(topics, "t", true, accepted) {
		t.Fatal("a second accepted create of a present topic was not a contradiction")
	}
	setTri(topics, "t", false, uncertain)
	if topics["t"] != maybePresent|maybeAbsent {
		t.Fatalf("uncertain delete: %s", topics["t"])
	}
}
