// Package k8sdouble is a Kubernetes API server double for tests of the
// Strimzi runtime. It listens on loopback, stores objects of the resources
// the runtime uses (Strimzi's kafkas, kafkanodepools, kafkatopics and
// kafkausers in kafka.strimzi.io/v1beta2; core/v1 pods and
// persistentvolumeclaims), answers the REST calls client-go's dynamic
// client makes for them, and plays the Strimzi cluster operator in a
// controller loop: status conditions, listener addresses, pods that are
// rolled one at a time with their revision changing, kafkaVersion and
// kafkaMetadataVersion in status, and an error condition on demand.
//
// It keeps Kubernetes' object semantics that the runtime relies on: every
// write gets a new resourceVersion, an update with a stale resourceVersion
// is refused with 409 Conflict, metadata.generation grows only when
// something other than metadata or status changes, and status is a
// subresource that create, update and patch leave alone. It is not a
// general API server: no watch, no discovery, no field selectors, label
// selectors of the form k=v[,k=v] only, and merge patches only.
package k8sdouble

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Group and Version of Strimzi's resources as the double serves them.
const (
	Group   = "kafka.strimzi.io"
	Version = "v1beta2"
)

// kinds maps the plural resource names the double serves to their kinds
// and whether they have a status subresource.
var kinds = map[string]struct {
	kind   string
	core   bool
	status bool
}{
	"kafkas":                 {"Kafka", false, true},
	"kafkanodepools":         {"KafkaNodePool", false, true},
	"kafkatopics":            {"KafkaTopic", false, true},
	"kafkausers":             {"KafkaUser", false, true},
	"pods":                   {"Pod", true, true},
	"persistentvolumeclaims": {"PersistentVolumeClaim", true, true},
}

// Object is a stored resource as decoded JSON.
type Object = map[string]any

// Server is the API server double. The zero value is not usable; call
// Start.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	srv  *httptest.Server
	mu   sync.Mutex
	rv   int64
	uid  int64
	objs map[string]map[string]Object // resource → namespace/name → object
	// Strimzi's part.
	supported []string
	failures  map[string]failure // Kafka namespace/name → injected failure
	held      map[string]bool
	podsReady map[string]bool // pod namespace/name → Ready
	events    []string
	calls     map[string]bool // "verb resource" pairs served
	maxDown   map[string]int  // Kafka namespace/name → most pods not ready at once
	restarts  map[string]int64
	// partitions is the partition count each KafkaTopic (by uid) was last
	// reconciled with; Kafka cannot take partitions away.
	partitions map[string]int64
	stop       chan struct{}
	done       chan struct{}
	// BootstrapHost, if set, gives the host of a Kafka's listener address;
	// the default is the bootstrap Service's cluster DNS name.
	bootstrapHost func(namespace, name string) string
}

type failure struct {
	reason, message string
	afterPods       int // pods rolled before it strikes
}

// Options configure a Server.
type Options struct {
	// Step is the period of the controller loop (default 2ms). Each tick
	// moves every cluster by at most one pod transition.
	Step time.Duration
	// SupportedVersions are the Kafka versions the simulated operator
	// accepts (default 4.0.0, 4.1.0).
	SupportedVersions []string
	// BootstrapHost gives the host of a Kafka's listener addresses; the
	// default is "<name>-kafka-bootstrap.<namespace>.svc".
	BootstrapHost func(namespace, name string) string
}

// Start starts a Server on loopback with its controller loop.
func Start(o Options) *Server {
	if o.Step <= 0 {
		o.Step = 2 * time.Millisecond
	}
	if len(o.SupportedVersions) == 0 {
		o.SupportedVersions = []string{"4.0.0", "4.1.0"}
	}
	s := &Server{
		objs:          map[string]map[string]Object{},
		supported:     slices.Clone(o.SupportedVersions),
		failures:      map[string]failure{},
		held:          map[string]bool{},
		podsReady:     map[string]bool{},
		maxDown:       map[string]int{},
		restarts:      map[string]int64{},
		partitions:    map[string]int64{},
		calls:         map[string]bool{},
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		bootstrapHost: o.BootstrapHost,
	}
	for r := range kinds {
		s.objs[r] = map[string]Object{}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	go s.loop(o.Step)
	return s
}

// Close stops the controller loop and the server.
func (s *Server) Close() {
	close(s.stop)
	<-s.done
	s.srv.Close()
}

// Fail makes the simulated operator report an error on the Kafka
// namespace/name once afterPods more pods have been rolled (0: at its next
// reconciliation): a NotReady condition with reason and message, and the
// roll halts. ClearFailure takes it back.
func (s *Server) Fail(namespace, name, reason, message string, afterPods int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[namespace+"/"+name] = failure{reason, message, afterPods}
}

// ClearFailure removes an injected failure.
func (s *Server) ClearFailure(namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, namespace+"/"+name)
}

// Hold stops (true) or resumes (false) the simulated operator's work on
// the Kafka namespace/name, as a busy or restarting operator would.
func (s *Server) Hold(namespace, name string, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[namespace+"/"+name] = hold
}

// SetPodReady flips a pod's Ready condition, as a crashing container or a
// failing readiness probe would; the simulated operator makes a not-Ready
// pod Ready again on its next tick unless the cluster is held.
func (s *Server) SetPodReady(namespace, pod string, ready bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setReady(namespace, pod, ready)
}

// Events returns what the simulated operator did, oldest first: lines
// such as "restart pod ns/x-brokers-0 revision r" and "ready pod …".
func (s *Server) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// MaxPodsDown reports the most pods of the Kafka namespace/name that
// were not Ready at the same time since it was created.
func (s *Server) MaxPodsDown(namespace, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxDown[namespace+"/"+name]
}

// Get returns a copy of a stored object, or nil.
func (s *Server) Get(resource, namespace, name string) Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objs[resource][namespace+"/"+name]
	if o == nil {
		return nil
	}
	return deepCopy(o)
}

// List returns copies of the stored objects of resource in namespace,
// ordered by name.
func (s *Server) List(resource, namespace string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list(resource, namespace, nil)
}

// ---- REST ----

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	resource, ns, name, sub, ok := parsePath(r.URL.Path)
	if !ok {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource", "", "")
		return
	}
	if sub != "" && sub != "status" {
		writeStatus(w, http.StatusNotFound, "NotFound", "no such subresource "+sub, resource, name)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[verb(r.Method, name, sub)+" "+resource] = true
	switch {
	case r.Method == http.MethodGet && name == "":
		sel, err := parseSelector(r.URL.Query().Get("labelSelector"))
		if err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), resource, "")
			return
		}
		items := s.list(resource, ns, sel)
		writeJSON(w, http.StatusOK, Object{
			"apiVersion": apiVersion(resource), "kind": kinds[resource].kind + "List",
			"metadata": Object{"resourceVersion": strconv.FormatInt(s.rv, 10)},
			"items":    anySlice(items),
		})
	case r.Method == http.MethodGet:
		o := s.objs[resource][ns+"/"+name]
		if o == nil {
			writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name), resource, name)
			return
		}
		writeJSON(w, http.StatusOK, o)
	case r.Method == http.MethodPost && name == "":
		var o Object
		if err := readJSON(r, &o); err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), resource, "")
			return
		}
		s.create(w, resource, ns, o)
	case r.Method == http.MethodPut && name != "":
		var o Object
		if err := readJSON(r, &o); err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), resource, name)
			return
		}
		s.update(w, resource, ns, name, sub, o)
	case r.Method == http.MethodPatch && name != "":
		if ct := r.Header.Get("Content-Type"); ct != "application/merge-patch+json" {
			writeStatus(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "the double serves merge patches only, not "+ct, resource, name)
			return
		}
		var p Object
		if err := readJSON(r, &p); err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), resource, name)
			return
		}
		s.patch(w, resource, ns, name, sub, p)
	case r.Method == http.MethodDelete && name != "":
		if s.objs[resource][ns+"/"+name] == nil {
			writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name), resource, name)
			return
		}
		s.delete(resource, ns, name)
		writeJSON(w, http.StatusOK, Object{"kind": "Status", "apiVersion": "v1", "metadata": Object{}, "status": "Success"})
	case r.Method == http.MethodDelete:
		sel, err := parseSelector(r.URL.Query().Get("labelSelector"))
		if err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), resource, "")
			return
		}
		for _, o := range s.list(resource, ns, sel) {
			s.delete(resource, ns, str(o, "metadata", "name"))
		}
		writeJSON(w, http.StatusOK, Object{"kind": "Status", "apiVersion": "v1", "metadata": Object{}, "status": "Success"})
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not served here", resource, name)
	}
}

// verb names a request as RBAC does.
func verb(method, name, sub string) string {
	v := map[string]string{http.MethodGet: "get", http.MethodPost: "create", http.MethodPut: "update",
		http.MethodPatch: "patch", http.MethodDelete: "delete"}[method]
	if name == "" {
		switch v {
		case "get":
			v = "list"
		case "delete":
			v = "deletecollection"
		}
	}
	if sub != "" {
		v += " " + sub
	}
	return v
}

// Calls returns the RBAC verb and resource of every kind of request the
// server has answered, as "verb resource", sorted.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.calls))
	for c := range s.calls {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// parsePath splits /apis/kafka.strimzi.io/v1beta2/namespaces/NS/RES[/NAME[/SUB]]
// and /api/v1/namespaces/NS/RES[/NAME[/SUB]].
func parsePath(p string) (resource, ns, name, sub string, ok bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 5 && parts[0] == "apis" && parts[1] == Group && parts[2] == Version && parts[3] == "namespaces":
		rest = parts[4:]
	case len(parts) >= 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces":
		rest = parts[3:]
	default:
		return "", "", "", "", false
	}
	if len(rest) < 2 || len(rest) > 4 {
		return "", "", "", "", false
	}
	k, known := kinds[rest[1]]
	if !known || k.core != (parts[0] == "api") {
		return "", "", "", "", false
	}
	ns, resource = rest[0], rest[1]
	if len(rest) > 2 {
		name = rest[2]
	}
	if len(rest) > 3 {
		sub = rest[3]
	}
	return resource, ns, name, sub, true
}

func apiVersion(resource string) string {
	if kinds[resource].core {
		return "v1"
	}
	return Group + "/" + Version
}

func (s *Server) create(w http.ResponseWriter, resource, ns string, o Object) {
	md, _ := o["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if name == "" {
		writeStatus(w, http.StatusUnprocessableEntity, "Invalid", "metadata.name: Required value", resource, "")
		return
	}
	if !validName(name) {
		writeStatus(w, http.StatusUnprocessableEntity, "Invalid", fmt.Sprintf("metadata.name: Invalid value: %q: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", name), resource, name)
		return
	}
	if s.objs[resource][ns+"/"+name] != nil {
		writeStatus(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("%s %q already exists", resource, name), resource, name)
		return
	}
	o = s.store(resource, ns, name, o, nil)
	writeJSON(w, http.StatusCreated, o)
}

// store writes o as the new state of namespace/name, keeping the server's
// metadata and, unless status is true, the old status. old is the stored
// object (nil for a create).
func (s *Server) store(resource, ns, name string, o, old Object) Object {
	o = deepCopy(o)
	md, _ := o["metadata"].(map[string]any)
	if md == nil {
		md = Object{}
		o["metadata"] = md
	}
	o["apiVersion"], o["kind"] = apiVersion(resource), kinds[resource].kind
	md["name"], md["namespace"] = name, ns
	s.rv++
	md["resourceVersion"] = strconv.FormatInt(s.rv, 10)
	if old == nil {
		s.uid++
		md["uid"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", s.uid)
		md["generation"] = int64(1)
		md["creationTimestamp"] = time.Now().UTC().Format(time.RFC3339)
		if kinds[resource].status {
			delete(o, "status")
		}
	} else {
		omd := old["metadata"].(map[string]any)
		for _, k := range []string{"uid", "creationTimestamp", "generation"} {
			md[k] = omd[k]
		}
		if kinds[resource].status {
			if st, ok := old["status"]; ok {
				o["status"] = deepCopy(Object{"s": st})["s"]
			} else {
				delete(o, "status")
			}
		}
		if !reflect.DeepEqual(withoutMeta(o), withoutMeta(old)) {
			md["generation"] = toInt(omd["generation"]) + 1
		}
	}
	s.objs[resource][ns+"/"+name] = o
	return o
}

// writeStatus replaces the status of a stored object, as the simulated
// operator does; it changes resourceVersion but not generation.
func (s *Server) writeStatusOf(resource, key string, status Object) {
	o := s.objs[resource][key]
	if o == nil {
		return
	}
	if reflect.DeepEqual(o["status"], any(status)) {
		return
	}
	o["status"] = status
	s.rv++
	o["metadata"].(map[string]any)["resourceVersion"] = strconv.FormatInt(s.rv, 10)
}

func withoutMeta(o Object) Object {
	c := maps.Clone(o)
	delete(c, "metadata")
	delete(c, "status")
	delete(c, "apiVersion")
	delete(c, "kind")
	return c
}

func (s *Server) update(w http.ResponseWriter, resource, ns, name, sub string, o Object) {
	old := s.objs[resource][ns+"/"+name]
	if old == nil {
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name), resource, name)
		return
	}
	if rv := str(o, "metadata", "resourceVersion"); rv != "" && rv != str(old, "metadata", "resourceVersion") {
		writeStatus(w, http.StatusConflict, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again", resource, name), resource, name)
		return
	}
	if sub == "status" {
		st, _ := o["status"].(map[string]any)
		s.writeStatusOf(resource, ns+"/"+name, st)
		writeJSON(w, http.StatusOK, s.objs[resource][ns+"/"+name])
		return
	}
	writeJSON(w, http.StatusOK, s.store(resource, ns, name, o, old))
}

func (s *Server) patch(w http.ResponseWriter, resource, ns, name, sub string, p Object) {
	old := s.objs[resource][ns+"/"+name]
	if old == nil {
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name), resource, name)
		return
	}
	if rv := str(p, "metadata", "resourceVersion"); rv != "" && rv != str(old, "metadata", "resourceVersion") {
		writeStatus(w, http.StatusConflict, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on %s %q: the object has been modified", resource, name), resource, name)
		return
	}
	merged := mergePatch(deepCopy(old), p).(map[string]any)
	if sub == "status" {
		st, _ := merged["status"].(map[string]any)
		s.writeStatusOf(resource, ns+"/"+name, st)
		writeJSON(w, http.StatusOK, s.objs[resource][ns+"/"+name])
		return
	}
	writeJSON(w, http.StatusOK, s.store(resource, ns, name, merged, old))
}

// mergePatch applies an RFC 7386 merge patch.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

func (s *Server) delete(resource, ns, name string) {
	key := ns + "/" + name
	s.rv++
	delete(s.objs[resource], key)
	switch resource {
	case "kafkas":
		// Owner references make Kubernetes collect the cluster's pods.
		for _, p := range s.list("pods", ns, map[string]string{"strimzi.io/cluster": name}) {
			delete(s.objs["pods"], ns+"/"+str(p, "metadata", "name"))
		}
	case "pods":
		delete(s.podsReady, key)
	}
}

func (s *Server) list(resource, ns string, sel map[string]string) []Object {
	var out []Object
	for key, o := range s.objs[resource] {
		if !strings.HasPrefix(key, ns+"/") {
			continue
		}
		labels, _ := o["metadata"].(map[string]any)["labels"].(map[string]any)
		match := true
		for k, v := range sel {
			if labels[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, deepCopy(o))
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(str(a, "metadata", "name"), str(b, "metadata", "name")) })
	return out
}

func parseSelector(q string) (map[string]string, error) {
	sel := map[string]string{}
	if q == "" {
		return sel, nil
	}
	for _, term := range strings.Split(q, ",") {
		k, v, ok := strings.Cut(term, "=")
		if !ok || strings.ContainsAny(k, "!<>") {
			return nil, fmt.Errorf("the double serves equality label selectors only, not %q", term)
		}
		sel[k] = strings.TrimPrefix(v, "=")
	}
	return sel, nil
}

func validName(n string) bool {
	if len(n) > 253 {
		return false
	}
	for i, c := range n {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '.' || i == 0 || i == len(n)-1) {
			return false
		}
	}
	return true
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus answers with a metav1.Status, which client-go turns into the
// errors apimachinery's IsNotFound, IsAlreadyExists and IsConflict know.
func writeStatus(w http.ResponseWriter, code int, reason, msg, resource, name string) {
	writeJSON(w, code, Object{
		"kind": "Status", "apiVersion": "v1", "metadata": Object{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
		"details": Object{"name": name, "group": groupOf(resource), "kind": resource},
	})
}

func groupOf(resource string) string {
	if k, ok := kinds[resource]; ok && !k.core {
		return Group
	}
	return ""
}

// ---- helpers on decoded JSON ----

func deepCopy(o Object) Object {
	b, _ := json.Marshal(o)
	var c Object
	_ = json.Unmarshal(b, &c)
	return c
}

func anySlice(os []Object) []any {
	out := make([]any, 0, len(os))
	for _, o := range os {
		out = append(out, o)
	}
	return out
}

// get walks o along path.
func get(o Object, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o Object, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:4])
}
