package k8sdouble

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loop runs the simulated operator every step until Close.
func (s *Server) loop(step time.Duration) {
	defer close(s.done)
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		s.reconcile()
		s.mu.Unlock()
	}
}

// reconcile is one pass of the simulated Strimzi operator over every
// resource, in name order so that runs are repeatable.
func (s *Server) reconcile() {
	keys := func(resource string) []string {
		ks := make([]string, 0, len(s.objs[resource]))
		for k := range s.objs[resource] {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	for _, key := range keys("kafkas") {
		if !s.held[key] {
			s.reconcileKafka(key)
		}
	}
	for _, key := range keys("kafkatopics") {
		s.reconcileTopic(key)
	}
	for _, key := range keys("kafkausers") {
		s.reconcileUser(key)
	}
}

// condition returns a status condition, keeping the transition time of an
// earlier condition with the same type and status.
func condition(prev Object, typ, status, reason, message string) Object {
	c := Object{"type": typ, "status": status, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
	if reason != "" {
		c["reason"] = reason
	}
	if message != "" {
		c["message"] = message
	}
	if conds, _ := get(prev, "status", "conditions").([]any); len(conds) > 0 {
		if p, _ := conds[0].(map[string]any); p["type"] == typ && p["status"] == status {
			c["lastTransitionTime"] = p["lastTransitionTime"]
		}
	}
	return c
}

// notReady records an error condition for the current generation, as the
// operator does when a reconciliation fails.
func (s *Server) notReady(resource, key string, o Object, reason, message string) {
	st, _ := deepCopy(o)["status"].(map[string]any)
	if st == nil {
		st = Object{}
	}
	st["observedGeneration"] = toInt(get(o, "metadata", "generation"))
	st["conditions"] = []any{condition(o, "NotReady", "True", reason, message)}
	s.writeStatusOf(resource, key, st)
}

type podRef struct {
	name, pool string
	id         int
	roles      []string
}

func (s *Server) reconcileKafka(key string) {
	k := s.objs["kafkas"][key]
	ns, name, _ := strings.Cut(key, "/")
	gen := toInt(get(k, "metadata", "generation"))
	version := str(k, "spec", "kafka", "version")
	meta := str(k, "spec", "kafka", "metadataVersion")

	pools := s.list("kafkanodepools", ns, map[string]string{"strimzi.io/cluster": name})
	if len(pools) == 0 {
		s.notReady("kafkas", key, k, "InvalidResourceException", "No KafkaNodePools found for Kafka cluster "+name)
		return
	}
	if !slices.Contains(s.supported, version) {
		s.notReady("kafkas", key, k, "UnsupportedKafkaVersionException",
			fmt.Sprintf("Unsupported Kafka.spec.kafka.version: %s. Supported versions are: [%s]", version, strings.Join(s.supported, ", ")))
		return
	}
	if meta != "" && newerMetadata(meta, version) {
		s.notReady("kafkas", key, k, "KafkaUpgradeException",
			fmt.Sprintf("Metadata version %s is newer than Kafka version %s supports", meta, version))
		return
	}

	// The pods the node pools ask for: node ids are given out pool by
	// pool in name order.
	var want []podRef
	next := 0
	for _, p := range pools {
		var roles []string
		for _, r := range asSlice(get(p, "spec", "roles")) {
			roles = append(roles, fmt.Sprint(r))
		}
		n := int(toInt(get(p, "spec", "replicas")))
		pname := str(p, "metadata", "name")
		var ids []any
		for i := 0; i < n; i++ {
			want = append(want, podRef{name: fmt.Sprintf("%s-%s-%d", name, pname, next), pool: pname, id: next, roles: roles})
			ids = append(ids, int64(next))
			next++
		}
		pst := Object{"observedGeneration": toInt(get(p, "metadata", "generation")), "nodeIds": ids,
			"replicas": int64(n), "roles": anyStrings(roles), "clusterId": clusterID(ns, name),
			"labelSelector": "strimzi.io/cluster=" + name + ",strimzi.io/name=" + name + "-kafka,strimzi.io/kind=Kafka,strimzi.io/pool-name=" + pname}
		s.writeStatusOf("kafkanodepools", ns+"/"+pname, pst)
	}

	// Scale: pods beyond the pools' replicas go, missing ones are created
	// not Ready and become Ready on the next tick.
	existing := s.list("pods", ns, map[string]string{"strimzi.io/cluster": name})
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.name] = true
	}
	for _, p := range existing {
		if pn := str(p, "metadata", "name"); !wanted[pn] {
			s.delete("pods", ns, pn)
			s.events = append(s.events, "delete pod "+ns+"/"+pn)
		}
	}
	created := false
	for _, w := range want {
		if s.objs["pods"][ns+"/"+w.name] == nil {
			s.putPod(ns, name, w, version, 0, false)
			s.events = append(s.events, "create pod "+ns+"/"+w.name)
			created = true
		}
	}
	s.trackDown(key, ns, name)
	if created {
		return
	}
	// One transition per tick: a pod that is not Ready becomes Ready;
	// otherwise the lowest pod not on the wanted version is restarted
	// onto it.
	for _, w := range want {
		if !s.podsReady[ns+"/"+w.name] {
			s.setReady(ns, w.name, true)
			s.events = append(s.events, "ready pod "+ns+"/"+w.name)
			s.trackDown(key, ns, name)
			return
		}
	}
	// An injected failure strikes once the pods it waits for are rolled
	// and Ready, and halts the roll.
	if f, ok := s.failures[key]; ok && f.afterPods <= 0 {
		s.notReady("kafkas", key, k, f.reason, f.message)
		return
	}
	for _, w := range want {
		p := s.objs["pods"][ns+"/"+w.name]
		if str(p, "metadata", "annotations", "strimzi.io/kafka-version") == version {
			continue
		}
		s.restarts[ns+"/"+w.name]++
		restarts := s.restarts[ns+"/"+w.name]
		s.putPod(ns, name, w, version, restarts, true)
		s.events = append(s.events, fmt.Sprintf("restart pod %s/%s revision %s", ns, w.name, str(s.objs["pods"][ns+"/"+w.name], "metadata", "annotations", "strimzi.io/revision")))
		s.trackDown(key, ns, name)
		if f, ok := s.failures[key]; ok {
			f.afterPods--
			s.failures[key] = f
		}
		return
	}

	// Every pod runs the version and is Ready: the reconciliation is done.
	if meta == "" {
		meta = defaultMetadata(version)
	}
	// Status shows the full metadata version the brokers report.
	if full, ok := fullMetadata[meta]; ok {
		meta = full
	}
	host := name + "-kafka-bootstrap." + ns + ".svc"
	if s.bootstrapHost != nil {
		host = s.bootstrapHost(ns, name)
	}
	var listeners []any
	for _, l := range asSlice(get(k, "spec", "kafka", "listeners")) {
		lm, _ := l.(map[string]any)
		port := toInt(lm["port"])
		listeners = append(listeners, Object{
			"name": lm["name"], "type": lm["name"],
			"addresses":        []any{Object{"host": host, "port": port}},
			"bootstrapServers": host + ":" + strconv.FormatInt(port, 10),
		})
	}
	var poolNames []any
	for _, p := range pools {
		poolNames = append(poolNames, Object{"name": str(p, "metadata", "name")})
	}
	s.writeStatusOf("kafkas", key, Object{
		"observedGeneration":            gen,
		"conditions":                    []any{condition(k, "Ready", "True", "", "")},
		"listeners":                     listeners,
		"kafkaNodePools":                poolNames,
		"clusterId":                     clusterID(ns, name),
		"operatorLastSuccessfulVersion": "0.48.0",
		"kafkaVersion":                  version,
		"kafkaMetadataVersion":          meta,
		"kafkaMetadataState":            "KRaft",
	})
}

// putPod (re)creates pod w on version; restarted pods get a new uid and
// revision and start not Ready.
func (s *Server) putPod(ns, cluster string, w podRef, version string, restarts int64, restart bool) {
	labels := Object{
		"strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka", "strimzi.io/name": cluster + "-kafka",
		"strimzi.io/pool-name": w.pool, "strimzi.io/pod-name": w.name,
	}
	for _, r := range w.roles {
		labels["strimzi.io/"+r+"-role"] = "true"
	}
	pod := Object{"metadata": Object{
		"name": w.name, "labels": labels,
		"annotations": Object{
			"strimzi.io/kafka-version": version,
			"strimzi.io/revision":      shortHash(cluster, w.name, version, strconv.FormatInt(restarts, 10)),
		},
	}, "spec": Object{"containers": []any{Object{"name": "kafka", "image": "quay.io/strimzi/kafka:0.48.0-kafka-" + version}}}}
	key := ns + "/" + w.name
	if restart {
		// A rolled pod is deleted and created again by its StrimziPodSet.
		s.delete("pods", ns, w.name)
	}
	s.store("pods", ns, w.name, pod, nil)
	s.podsReady[key] = false
	s.writePodStatus(key)
}

func (s *Server) setReady(ns, pod string, ready bool) {
	s.podsReady[ns+"/"+pod] = ready
	s.writePodStatus(ns + "/" + pod)
}

func (s *Server) writePodStatus(key string) {
	ready := "False"
	if s.podsReady[key] {
		ready = "True"
	}
	s.writeStatusOf("pods", key, Object{"phase": "Running", "conditions": []any{Object{"type": "Ready", "status": ready}}})
}

func (s *Server) trackDown(key, ns, name string) {
	down := 0
	for _, p := range s.list("pods", ns, map[string]string{"strimzi.io/cluster": name}) {
		if !s.podsReady[ns+"/"+str(p, "metadata", "name")] {
			down++
		}
	}
	s.maxDown[key] = max(s.maxDown[key], down)
}

func (s *Server) reconcileTopic(key string) {
	t := s.objs["kafkatopics"][key]
	gen := toInt(get(t, "metadata", "generation"))
	if toInt(get(t, "status", "observedGeneration")) == gen {
		return
	}
	ns, _, _ := strings.Cut(key, "/")
	cluster := str(t, "metadata", "labels", "strimzi.io/cluster")
	k := s.objs["kafkas"][ns+"/"+cluster]
	if k == nil || str(k, "status", "kafkaVersion") == "" {
		return // the topic operator runs once the cluster does
	}
	name := str(t, "spec", "topicName")
	if name == "" {
		name = str(t, "metadata", "name")
	}
	parts := toInt(get(t, "spec", "partitions"))
	uid := str(t, "metadata", "uid")
	if parts < s.partitions[uid] {
		s.notReady("kafkatopics", key, t, "NotSupported", "Decreasing partitions not supported")
		return
	}
	s.partitions[uid] = parts
	s.writeStatusOf("kafkatopics", key, Object{
		"observedGeneration": gen, "topicName": name, "topicId": shortHash(key, name),
		"conditions": []any{condition(t, "Ready", "True", "", "")},
	})
}

func (s *Server) reconcileUser(key string) {
	u := s.objs["kafkausers"][key]
	gen := toInt(get(u, "metadata", "generation"))
	if toInt(get(u, "status", "observedGeneration")) == gen {
		return
	}
	_, name, _ := strings.Cut(key, "/")
	s.writeStatusOf("kafkausers", key, Object{
		"observedGeneration": gen, "username": name, "secret": name,
		"conditions": []any{condition(u, "Ready", "True", "", "")},
	})
}

// fullMetadata gives the full metadata version Kafka reports for the
// short forms Strimzi accepts.
var fullMetadata = map[string]string{"4.0": "4.0-IV3", "4.1": "4.1-IV1"}

func clusterID(ns, name string) string { return "kp" + shortHash("cluster", ns, name) }

// defaultMetadata is the metadata version a Kafka version gets when
// spec.kafka.metadataVersion is unset: its own major.minor.
func defaultMetadata(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// newerMetadata reports whether metadata version meta (e.g. 4.1-IV1) is
// newer than Kafka version version supports.
func newerMetadata(meta, version string) bool {
	mv := strings.SplitN(strings.SplitN(meta, "-", 2)[0], ".", 3)
	kv := strings.SplitN(version, ".", 3)
	if len(mv) < 2 || len(kv) < 2 {
		return false
	}
	a, _ := strconv.Atoi(mv[0])
	b, _ := strconv.Atoi(mv[1])
	c, _ := strconv.Atoi(kv[0])
	d, _ := strconv.Atoi(kv[1])
	return a > c || a == c && b > d
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func anyStrings(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}
